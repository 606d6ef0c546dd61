// SQLite through better-sqlite3, in WAL mode. One connection: the process is the only writer, and every
// write happens in a batch transaction, never per message.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrations as allMigrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export function openDb(opts: { dataDir: string; synchronous: 'full' | 'normal'; file?: string }, migrations: Migration[] = allMigrations): Db {
  mkdirSync(opts.dataDir, { recursive: true });
  const db = new Database(join(opts.dataDir, opts.file ?? 'shaobing.db'));
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
