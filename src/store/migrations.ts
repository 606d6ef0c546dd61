// Schema changes, applied once each in order and recorded by id. Each area appends its own entries; an id is
// never edited once released (add a new one instead).
export interface Migration {
  id: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    id: '001-inbox',
    // QoS1 messages land here before PUBACK; the row is deleted in the transaction that processes it.
    sql: `CREATE TABLE inbox (
      id INTEGER PRIMARY KEY,
      device_id TEXT NOT NULL,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      received_at INTEGER NOT NULL
    )`,
  },
  {
    id: '002-device-state',
    sql: `CREATE TABLE device_state (
      device_id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    )`,
  },
  {
    id: '003-rejections',
    sql: `CREATE TABLE rejections (
      id INTEGER PRIMARY KEY,
      device_id TEXT,
      community_id TEXT,
      topic TEXT NOT NULL,
      code TEXT NOT NULL,
      message TEXT NOT NULL,
      payload BLOB NOT NULL,
      payload_bytes INTEGER NOT NULL,
      received_at INTEGER NOT NULL
    );
    CREATE INDEX rejections_device ON rejections(device_id, id)`,
  },
  {
    id: '004-provisioned-devices',
    // Devices added through the API or CLI; the inventory files stay read-only.
    sql: `CREATE TABLE devices (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      community_id TEXT NOT NULL,
      format TEXT NOT NULL DEFAULT 'canonical',
      household_id TEXT,
      space_id TEXT,
      gate_id TEXT,
      building_id TEXT,
      area TEXT,
      secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`,
  },
  {
    id: '005-readings',
    // Telemetry history for the SQLite sink: one row per accepted reading, written in the processing
    // transaction (batched with it, so it costs no extra commit).
    sql: `CREATE TABLE readings (
      device_id TEXT NOT NULL,
      ts INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      type TEXT NOT NULL,
      payload TEXT NOT NULL
    );
    CREATE INDEX readings_device_ts ON readings(device_id, ts)`,
  },
];
