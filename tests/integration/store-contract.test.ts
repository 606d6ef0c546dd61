// The store contract (tests/integration/storeContract.ts) against each adapter: SQLite in a temp dir, and
// PostgreSQL 15 from Debian started into a temp dir (tests/postgres.ts), each test on a fresh file or database.
// With CI=true a missing PostgreSQL fails the run instead of skipping it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { openPgStore, type PgStore } from '../../src/store/pg/index.js';
import { tempDir } from '../helpers.js';
import { Postgres, requirePostgres } from '../postgres.js';
import { storeContract } from './storeContract.js';

{
  let dir: { path: string; remove(): void } | undefined;
  let db: Db | undefined;
  const others: Db[] = [];
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
      another: async () => {
        const other = openDb({ dataDir: dir!.path, synchronous: 'normal' });
        others.push(other);
        return sqliteStore(other);
      },
      close: async () => {
        while (others.length) others.pop()!.close();
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

{
  const available = requirePostgres('the PostgreSQL store contract');
  let server: Postgres | undefined;
  let url: string | undefined;
  let store: PgStore | undefined;
  const others: PgStore[] = [];
  beforeAll(async () => {
    if (available) server = await Postgres.start();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });
  storeContract(
    'PostgreSQL',
    {
      open: async () => {
        url = await server!.createDatabase('contract');
        store = await openPgStore({ url });
        return store;
      },
      reopen: async () => {
        await store!.close();
        store = await openPgStore({ url: url! });
        return store;
      },
      another: async () => {
        const other = await openPgStore({ url: url! });
        others.push(other);
        return other;
      },
      close: async () => {
        while (others.length) await others.pop()!.close();
        await store?.close();
        store = undefined;
      },
      has: () => true,
    },
    () => available,
  );

  // What only an asynchronous adapter can get wrong: a commit that fails after its unit returned.
  describe.runIf(available)('PostgreSQL adapter: a failed commit', () => {
    it('rejects durable(), refuses units as transient until the working set is reloaded from what was committed', async () => {
      const dbUrl = await server!.createDatabase('failover');
      const s = await openPgStore({ url: dbUrl });
      try {
        s.transaction(() => s.deviceState.put('d1', { v: 1 }, 1));
        await s.durable();
        await server!.stop('SIGINT');
        s.transaction(() => s.deviceState.put('d2', { v: 2 }, 2));
        expect(s.deviceState.all().length).toBe(2); // memory has it; the server never will
        await expect(s.durable()).rejects.toThrow();
        let refused: unknown;
        try {
          s.transaction(() => s.deviceState.put('d3', { v: 3 }, 3));
        } catch (err) {
          refused = err;
        }
        expect(refused).toBeInstanceOf(Error);
        expect(s.isTransient(refused)).toBe(true);
        await server!.start();
        const until = Date.now() + 30_000;
        for (;;) {
          try {
            s.transaction(() => s.deviceState.put('d4', { v: 4 }, 4));
            break;
          } catch (err) {
            expect(s.isTransient(err)).toBe(true);
            if (Date.now() > until) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await s.durable();
        const ids = (st: PgStore) => st.deviceState.all().map((d) => d.deviceId).sort();
        expect(ids(s)).toEqual(['d1', 'd4']);
        await s.close();
        const again = await openPgStore({ url: dbUrl });
        expect(ids(again)).toEqual(['d1', 'd4']);
        await again.close();
      } finally {
        await s.close();
      }
    }, 90_000);

    it('hands out an outbox row only once the unit that queued it has committed', async () => {
      const s = await openPgStore({ url: await server!.createDatabase('outbox') });
      try {
        const due = () => s.outbox.due({ appNow: 10, wallNow: 10, destinations: 'chat', perDestination: 5, limit: 10 }).map((r) => r.id);
        const id = s.transaction(() => s.outbox.enqueue({ alertId: null, destination: 'wecom:duty', notice: '{}', dueAt: 1, createdAt: 1 }));
        expect(s.durable()).toBeInstanceOf(Promise); // the commit is on its way, not done
        expect(due()).toEqual([]);
        await s.durable();
        expect(due()).toEqual([id]);
      } finally {
        await s.close();
      }
    });

    it('refuses a value PostgreSQL cannot store inside the unit, so a nested unit isolates it', async () => {
      const dbUrl = await server!.createDatabase('nul');
      const s = await openPgStore({ url: dbUrl });
      try {
        s.transaction(() => {
          s.deviceState.put('ok', { v: 'fine' }, 1);
          expect(() => s.transaction(() => s.readings.add({ deviceId: 'bad', ts: 1, receivedAt: 1, type: 't', payload: { note: 'a\u0000b' } }))).toThrow(/NUL/);
          expect(() => s.transaction(() => s.deviceState.put('bad\u0000id', {}, 1))).toThrow(/NUL/);
          // An escaped backslash before u0000 is text, not a NUL.
          s.readings.add({ deviceId: 'ok', ts: 2, receivedAt: 2, type: 't', payload: { note: '\\u0000' } });
        });
        await s.durable();
        expect(await s.readings.field({ deviceId: 'ok', field: 'note', from: 0, to: 10 })).toEqual([{ ts: 2, value: '\\u0000' }]);
        expect(s.deviceState.all()).toEqual([{ deviceId: 'ok', state: { v: 'fine' } }]);
      } finally {
        await s.close();
      }
    });
  });
}
