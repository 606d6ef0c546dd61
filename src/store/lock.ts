// One instance per data dir. Two processes on one SQLite file would run two schedulers and two outboxes: every
// reminder sent twice, every deadline raced. The lock is SQLite's own file lock (POSIX fcntl) on a small
// `shaobing.lock` database held in exclusive locking mode for the life of the process
// (https://sqlite.org/pragma.html#pragma_locking_mode). The operating system drops it when the process ends,
// however it ends, so a SIGKILL or a power cut never leaves a stale lock behind — unlike a pid file, whose pid
// may be reused (in a container it is always 1). A `shaobing.pid` beside it only names the holder in the message.
import type { StartupErrorCode } from '../errors.js';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';

export class DataDirLockedError extends Error {
  readonly code = 'SB_DATA_DIR_LOCKED' satisfies StartupErrorCode;
  constructor(
    readonly dataDir: string,
    readonly holder: string | undefined,
  ) {
    super(
      `data dir ${dataDir} is in use by another shaobing${holder ? ` (${holder})` : ''}: one data dir serves one instance. ` +
        'Stop the other one, or give this one its own SHAOBING_DATA_DIR.',
    );
  }
}

export interface DataDirLock {
  release(): void;
}

/** Take the data dir for this process, or throw DataDirLockedError naming who has it. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'shaobing.lock');
  const pidFile = join(dataDir, 'shaobing.pid');
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the EXCLUSIVE lock; in exclusive locking mode it is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, host TEXT, since TEXT)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder VALUES (?, ?, ?)').run(process.pid, hostname(), new Date().toISOString());
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY') || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      let holder: string | undefined;
      try {
        holder = readFileSync(pidFile, 'utf8').trim() || undefined;
      } catch {
        holder = undefined;
      }
      throw new DataDirLockedError(dataDir, holder);
    }
    throw err;
  }
  writeFileSync(pidFile, `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
