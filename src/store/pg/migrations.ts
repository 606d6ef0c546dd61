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
  {
    id: 'pg-002-deliveries',
    // QoS 1 deliveries from an external broker's sessions, recorded in the unit that commits the message (see
    // src/store/sqlite/ingest.ts); `seq` orders one session's records (each holder carries it on from the
    // session's highest, so it grows across holders).
    sql: `CREATE TABLE deliveries (
      session text NOT NULL,
      packet_id integer NOT NULL,
      hash text NOT NULL,
      seq bigint NOT NULL,
      PRIMARY KEY (session, packet_id)
    );
    CREATE INDEX deliveries_seq ON deliveries(session, seq)`,
  },
  {
    id: 'pg-003-alerts-notify',
    // Alerts with their timelines, and notifications (src/store/sqlite/migrations: alerts-001, notify-001/002).
    // Rows nobody reads by id (timeline entries, attempts) number themselves.
    sql: `CREATE TABLE alerts (
      id bigint PRIMARY KEY,
      kind text NOT NULL,
      subject text NOT NULL,
      severity text NOT NULL,
      status text NOT NULL,
      community_id text NOT NULL,
      grid_id text NOT NULL,
      device_id text,
      household_id text,
      space_id text,
      plate text,
      title text NOT NULL,
      details jsonb NOT NULL,
      count bigint NOT NULL DEFAULT 1,
      assignee text,
      resolution text,
      resolved_by text,
      auto_resolved boolean NOT NULL DEFAULT false,
      rating jsonb,
      opened_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      resolved_at bigint
    );
    CREATE UNIQUE INDEX alerts_one_open ON alerts(kind, subject) WHERE status <> 'resolved';
    CREATE INDEX alerts_subject ON alerts(kind, subject, id);
    CREATE INDEX alerts_opened ON alerts(opened_at, id);
    CREATE INDEX alerts_device ON alerts(device_id, opened_at);
    CREATE INDEX alerts_community ON alerts(community_id, grid_id, opened_at);
    CREATE TABLE alert_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_id bigint NOT NULL REFERENCES alerts(id),
      at bigint NOT NULL,
      type text NOT NULL,
      actor text NOT NULL,
      data jsonb
    );
    CREATE INDEX alert_events_alert ON alert_events(alert_id, id);
    CREATE TABLE outbox (
      id bigint PRIMARY KEY,
      alert_id bigint,
      destination text NOT NULL,
      notice text NOT NULL,
      due_at bigint NOT NULL,
      next_try_at bigint NOT NULL DEFAULT 0,
      attempts bigint NOT NULL DEFAULT 0,
      status text NOT NULL,
      last_error text,
      created_at bigint NOT NULL,
      sent_at bigint
    );
    CREATE INDEX outbox_pending ON outbox(status, due_at);
    CREATE INDEX outbox_alert ON outbox(alert_id);
    CREATE TABLE notification_attempts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_ids jsonb NOT NULL,
      outbox_ids jsonb NOT NULL,
      destination text NOT NULL,
      channel text NOT NULL,
      ok boolean NOT NULL,
      reason text,
      merged bigint NOT NULL,
      at bigint NOT NULL
    );
    CREATE TABLE ack_tokens_used (jti text PRIMARY KEY, used_at bigint NOT NULL);
    CREATE TABLE phone_messages (
      id bigint PRIMARY KEY,
      outbox_id bigint NOT NULL,
      alert_id bigint,
      channel text NOT NULL,
      provider text NOT NULL,
      number text NOT NULL,
      ref text,
      status text NOT NULL,
      detail text,
      sent_at bigint NOT NULL,
      next_poll_at bigint,
      done_at bigint,
      context text NOT NULL
    );
    CREATE INDEX phone_messages_number ON phone_messages(number, channel, sent_at);
    CREATE INDEX phone_messages_pending ON phone_messages(status, next_poll_at);
    CREATE INDEX phone_messages_alert ON phone_messages(alert_id);
    CREATE TABLE contact_links (
      code text PRIMARY KEY,
      alert_id bigint NOT NULL,
      purpose text NOT NULL,
      who text NOT NULL,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      used_at bigint,
      answer text
    )`,
  },
  {
    id: 'pg-004-care-residents',
    // Care visits, absences, visitors, provisioned devices, photos and resident invites.
    sql: `CREATE TABLE care_visits (
      id bigint PRIMARY KEY,
      household_id text NOT NULL,
      community_id text NOT NULL,
      grid_id text NOT NULL,
      visited_by text NOT NULL,
      at bigint NOT NULL,
      note text,
      logged_at bigint NOT NULL
    );
    CREATE INDEX care_visits_household ON care_visits(household_id, at);
    CREATE INDEX care_visits_at ON care_visits(at);
    CREATE TABLE care_absences (
      id bigint PRIMARY KEY,
      household_id text NOT NULL,
      community_id text NOT NULL,
      grid_id text NOT NULL,
      reason text NOT NULL,
      note text,
      from_at bigint NOT NULL,
      until_at bigint NOT NULL,
      created_by text NOT NULL,
      created_at bigint NOT NULL,
      ended_at bigint,
      ended_by text,
      end_note text,
      prompted_at bigint
    );
    CREATE INDEX care_absences_household ON care_absences(household_id, until_at);
    CREATE INDEX care_absences_until ON care_absences(until_at);
    CREATE TABLE visitors (
      community_id text NOT NULL,
      plate text NOT NULL,
      until bigint NOT NULL,
      registered_by text NOT NULL,
      registered_at bigint NOT NULL,
      PRIMARY KEY (community_id, plate)
    );
    CREATE TABLE devices (
      id text PRIMARY KEY,
      kind text NOT NULL,
      community_id text NOT NULL,
      format text NOT NULL DEFAULT 'canonical',
      household_id text,
      space_id text,
      gate_id text,
      building_id text,
      area text,
      secret_hash text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE TABLE photos (
      id bigint PRIMARY KEY,
      photo text NOT NULL,
      household_id text,
      uploaded_by text NOT NULL,
      alert_id bigint,
      role text NOT NULL,
      width bigint NOT NULL,
      height bigint NOT NULL,
      bytes bigint NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE INDEX photos_photo ON photos(photo);
    CREATE INDEX photos_alert ON photos(alert_id);
    CREATE INDEX photos_household ON photos(household_id, alert_id);
    CREATE TABLE resident_invites (
      household_id text PRIMARY KEY,
      generation bigint NOT NULL,
      revoked_at bigint NOT NULL,
      revoked_by text NOT NULL
    )`,
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
