// The store contract (tests/integration/storeContract.ts) against each adapter: SQLite in a temp dir, each test
// on a fresh file.
import { openDb, type Db } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';
import { storeContract } from './storeContract.js';

{
  let dir: { path: string; remove(): void } | undefined;
  let db: Db | undefined;
  const open = () => {
    db = openDb({ dataDir: dir!.path, synchronous: 'normal' });
    return sqliteStore(db);
  };
  storeContract(
    'SQLite',
    {
      open: async () => {
        dir = tempDir('shaobing-contract-');
        return open();
      },
      reopen: async () => {
        db!.close();
        return open();
      },
      close: async () => {
        db?.close();
        db = undefined;
        dir?.remove();
        dir = undefined;
      },
      has: () => true,
    },
    () => true,
  );
}
