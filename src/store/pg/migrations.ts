// The PostgreSQL store's schema: the same tables as SQLite's (src/store/migrations.ts), in PostgreSQL types —
// epoch milliseconds and counts in bigint, blobs in bytea, JSON in jsonb. Ids are not serial: the adapter hands
// them out from blocks it reserves on one sequence (`shaobing_ids`, INCREMENT BY the block size), so a unit of
// work knows a new row's id before it is sent. Applied once each, in order, recorded by id; concurrent instances
// serialise on an advisory lock. An id is never edited once released (add a new one).
import type pg from 'pg';

export const ID_BLOCK = 1000;

export const pgMigrations: Array<{ id: string; sql: string }> = [
  {
    id: 'pg-001-store',
    sql: `
    CREATE SEQUENCE shaobing_ids INCREMENT BY ${ID_BLOCK} START WITH 1;
    CREATE TABLE inbox (
      id bigint PRIMARY KEY,
      device_id text NOT NULL,
      topic text NOT NULL,
      payload bytea NOT NULL,
      received_at bigint NOT NULL
    );
    CREATE TABLE device_state (
      device_id text PRIMARY KEY,
      state jsonb NOT NULL,
      updated_at bigint NOT NULL
    );
    CREATE TABLE rejections (
      id bigint PRIMARY KEY,
      device_id text,
      community_id text,
      topic text NOT NULL,
      code text NOT NULL,
      message text NOT NULL,
      payload bytea NOT NULL,
      payload_bytes bigint NOT NULL,
      received_at bigint NOT NULL
    );
    CREATE INDEX rejections_device ON rejections(device_id, id);
    CREATE TABLE readings (
      device_id text NOT NULL,
      ts bigint NOT NULL,
      received_at bigint NOT NULL,
      type text NOT NULL,
      payload jsonb NOT NULL
    );
    CREATE INDEX readings_device_ts ON readings(device_id, ts);
    CREATE INDEX readings_ts ON readings(ts);
    CREATE TABLE telemetry_queue (
      id bigint PRIMARY KEY,
      lines text NOT NULL,
      points bigint NOT NULL,
      bytes bigint NOT NULL
    );
    CREATE TABLE rule_state (
      rule text NOT NULL,
      subject text NOT NULL,
      state jsonb NOT NULL,
      updated_at bigint NOT NULL,
      PRIMARY KEY (rule, subject)
    );
    CREATE TABLE deadlines (
      key text PRIMARY KEY,
      due bigint NOT NULL
    );
    `,
  },
];

/** Apply what is missing. */
export async function migratePg(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('shaobing.migrate.store'))`);
    await c.query('CREATE TABLE IF NOT EXISTS shaobing_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await c.query<{ id: string }>('SELECT id FROM shaobing_migrations');
    const applied = new Set(rows.map((r) => r.id));
    for (const m of pgMigrations) {
      if (applied.has(m.id)) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO shaobing_migrations (id) VALUES ($1)', [m.id]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
