// The PostgreSQL adapter of the store (src/store/store.ts; issue 16). Commands and working-set reads are
// synchronous against a copy in memory of what the instance works on, loaded at `openPgStore` and kept current
// by the instance's own units (src/store/pg/unit.ts: each unit's statements go to the server in one round trip
// when it returns; `durable()` resolves once they are committed). Queries run on a pool after the instance's
// units have committed. Ids come from blocks reserved on a sequence (src/store/pg/ids.ts).
//
import pg from 'pg';
import type { Store } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { IdBlocks } from './ids.js';
import { pgAlerts } from './alerts.js';
import { pgCare } from './care.js';
import { DEVICES_CHANNEL, pgResidents } from './residents.js';
import { pgIngest } from './ingest.js';
import { pgNotify } from './notify.js';
import { migratePg } from './migrations.js';
import { pgRules } from './rules.js';
import { StoreUnavailableError, Unit } from './unit.js';

export type PgStore = Store & {
  /** Wait for the units sent so far, then close the connections. */
  close(): Promise<void>;
};

export interface PgStoreOptions {
  /** postgres://… */
  url: string;
  /** Connections for queries (the units go over one connection of their own). */
  poolSize?: number;
  /**
   * A commit was refused: the store reloads its own working set, but whatever the caller keeps above it (caches,
   * engines) no longer matches the database. The app stops for its supervisor to restart it (src/main.ts).
   */
  onFailure?: (err: unknown) => void;
}

// bigint (int8) and numeric columns hold epoch milliseconds, ids and counts, all well inside 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes a retry may get past: connection (08), resources (53), operator intervention (57), serialization/deadlock (40001, 40P01). */
const TRANSIENT_SQLSTATE = /^(08|53|57|40001|40P01)/;

export function isTransientPgError(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code)) return true;
  return err instanceof Error && /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/.test(err.message);
}

export async function openPgStore(opts: PgStoreOptions): Promise<PgStore> {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 4, types });
  pool.on('error', () => {}); // an idle connection dropped: the next query connects anew
  let writer: pg.Client | undefined;
  let listener: pg.Client | undefined;
  let closed = false;
  try {
    await migratePg(pool);
    const connectWriter = async () => {
      const c = new pg.Client({ connectionString: opts.url, types });
      c.on('error', () => {
        if (writer === c) writer = undefined;
      });
      await c.connect();
      return c;
    };
    writer = await connectWriter();
    const send = async (sql: string) => {
      writer ??= await connectWriter();
      const c = writer;
      try {
        await c.query(sql);
      } catch (err) {
        // A broken connection is replaced; a refused statement leaves the connection usable.
        if (isTransientPgError(err) && writer === c) {
          writer = undefined;
          void c.end().catch(() => {});
        }
        throw err;
      }
    };
    const parts: Loadable[] = [];
    const loadAll = () => Promise.all(parts.map((p) => p.load(pool))).then(() => {});
    // After a failed commit: reload the working set from what is committed, retrying while the server is away.
    const recover = async () => {
      for (let wait = 100; ; wait = Math.min(wait * 2, 5000)) {
        if (closed) throw new StoreUnavailableError('the store is closed');
        try {
          return await loadAll();
        } catch {
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    const unit = new Unit(send, recover, opts.onFailure);
    const ids = new IdBlocks(pool);
    await ids.start();
    const x: PgContext = {
      unit,
      id: () => ids.take(),
      query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
        await unit.settled();
        return (await pool.query<R>(sql, params)).rows;
      },
      exec: async (sql: string, params?: unknown[]) => {
        await unit.settled();
        return (await pool.query(sql, params)).rowCount ?? 0;
      },
    };
    const ingest = pgIngest(x);
    const rules = pgRules(x);
    const alerts = pgAlerts(x);
    const notify = pgNotify(x, (id) => alerts.repos.alerts.get(id));
    const care = pgCare(x);
    const residents = pgResidents(x);
    parts.push(ingest.loadable, rules.loadable, alerts.loadable, notify.loadable, care.loadable, residents.loadable);
    // Devices provisioned by another process (npm run provision, another instance) are announced on commit:
    // listen before loading, so none falls between the load and the first notification. A dropped listener
    // reconnects and reloads the working set's devices.
    const listen = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: opts.url, types });
      c.on('notification', (n) => {
        if (n.channel === DEVICES_CHANNEL && n.payload) void residents.provisioned(n.payload).catch(() => {});
      });
      c.on('error', () => {
        if (listener !== c) return;
        listener = undefined;
        void c.end().catch(() => {});
        const again = () => {
          if (closed) return;
          listen()
            .then(() => residents.loadable.load(pool))
            .catch(() => setTimeout(again, 1000).unref());
        };
        setTimeout(again, 200).unref();
      });
      await c.connect();
      await c.query(`LISTEN ${DEVICES_CHANNEL}`);
      if (closed) return void (await c.end().catch(() => {}));
      listener = c;
    };
    await listen();
    await loadAll();
    return {
      transaction: <T>(fn: () => T): T => unit.run(fn),
      durable: () => unit.durable(),
      isTransient: isTransientPgError,
      get isOpen() {
        return !closed;
      },
      ...ingest.repos,
      ...rules.repos,
      ...alerts.repos,
      ...notify.repos,
      ...care.repos,
      ...residents.repos,
      close: async () => {
        if (closed) return;
        closed = true;
        await unit.settled();
        unit.close(new StoreUnavailableError('the store is closed'));
        await writer?.end().catch(() => {});
        await listener?.end().catch(() => {});
        listener = undefined;
        await pool.end().catch(() => {});
      },
    };
  } catch (err) {
    await listener?.end().catch(() => {});
    await writer?.end().catch(() => {});
    await pool.end().catch(() => {});
    throw err;
  }
}
