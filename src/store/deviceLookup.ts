// Device lookups for another thread of this process (the broker thread, src/transport/brokerWorker.ts): its
// own read-only view of the store, so that a device provisioned while the service runs (the API, or the CLI in
// another process) can connect through it, as through the broker on the main thread (findDevice). Nothing
// outside src/store opens the database or writes SQL (tests/unit/store-boundary.test.ts); the thread gets a
// source it can be handed in workerData (structured-clonable) and opens it here.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DevicesRepo } from './devicesRepo.js';
import { DB_FILE } from './db.js';
import type { ProvisionedDevice } from './store.js';

/** Where a thread finds the store: opaque outside src/store. */
export interface DeviceLookupSource {
  sqliteFile: string;
}

export interface DeviceLookup {
  /** A provisioned device (working-set read: synchronous, as the broker's CONNECT check is). */
  find(id: string): ProvisionedDevice | undefined;
  close(): void;
}

/** The source of the store kept in `dataDir` (the SQLite file `openDb` opens there). */
export function deviceLookupSource(dataDir: string, file: string = DB_FILE): DeviceLookupSource {
  return { sqliteFile: join(dataDir, file) };
}

/** Open the store read-only (it must exist: the main thread opened and migrated it first). */
export function openDeviceLookup(source: DeviceLookupSource): DeviceLookup {
  const db = new Database(source.sqliteFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const repo = new DevicesRepo(db);
  return {
    find: (id) => repo.find(id),
    close: () => db.close(),
  };
}
