// SQLite through better-sqlite3, in WAL mode. One connection: the process is the only writer, and every
// write happens in a batch transaction, never per message.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrations as allMigrations, type Migration } from './migrations.js';

export type Db = Database.Database;

/** The store's file in the data directory. */
export const DB_FILE = 'shaobing.db';

export function openDb(opts: { dataDir: string; synchronous: 'full' | 'normal'; file?: string }, migrations: Migration[] = allMigrations): Db {
  mkdirSync(opts.dataDir, { recursive: true });
  const db = new Database(join(opts.dataDir, opts.file ?? DB_FILE));
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL survives a killed process; FULL also survives power loss (one fsync per commit).
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

export function migrate(db: Db, migrations: Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT id FROM migrations').pluck().all() as string[]);
  const record = db.prepare('INSERT INTO migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, Date.now());
    })();
  }
}

/**
 * Whether a failed write may succeed if simply tried again later: the store was busy, full, unwritable or
 * gone (SQLite's BUSY, LOCKED, FULL, IOERR*, READONLY, CANTOPEN, NOMEM, …; https://sqlite.org/rescode.html),
 * as opposed to something about the data being written (a constraint, a value SQLite refuses, or an error
 * thrown by our own code), which will fail the same way every time.
 */
export function isTransientStoreError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return TRANSIENT.test(code);
  // better-sqlite3 throws a TypeError when the connection is closed (shutting down).
  return err instanceof TypeError && /database connection is not open/.test(err.message);
}
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL|INTERRUPT|CORRUPT|NOTADB|PERM|AUTH|NOLFS)/;
