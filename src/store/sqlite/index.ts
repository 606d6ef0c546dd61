// The SQLite adapter of the store (src/store/store.ts) over one better-sqlite3 connection in WAL mode
// (src/store/db.ts). Writes apply at once inside `transaction` (BEGIN … COMMIT; a SAVEPOINT when nested),
// so `durable()` is always settled. Statements are prepared once, on first use.
import type { Db } from '../db.js';
import { isTransientStoreError } from '../db.js';
import type { Store } from '../store.js';
import { sqliteAlerts } from './alerts.js';
import { sqliteNotify } from './notify.js';
import { sqliteCare } from './care.js';
import { sqliteIngest } from './ingest.js';
import { sqliteRules } from './rules.js';
import { DevicesRepo } from '../devicesRepo.js';
import { PhotosRepo } from '../photosRepo.js';
import { ResidentInvitesRepo } from '../residentInvitesRepo.js';

export function sqliteStore(db: Db): Store {
  const ingest = sqliteIngest(db);
  const rules = sqliteRules(db);
  const notify = sqliteNotify(db);
  const care = sqliteCare(db);
  // One wrapper made once (better-sqlite3 builds four per transaction() call): BEGIN … COMMIT, or a SAVEPOINT
  // when already inside one.
  const run = db.transaction((fn: () => unknown) => fn());
  return {
    transaction: <T>(fn: () => T): T => run(fn) as T,
    durable: () => undefined,
    isTransient: isTransientStoreError,
    get isOpen() {
      return db.open;
    },
    ...ingest,
    ...rules,
    alerts: sqliteAlerts(db),
    ...notify,
    ...care,
    devices: new DevicesRepo(db),
    photos: new PhotosRepo(db),
    residentInvites: new ResidentInvitesRepo(db),
  };
}
