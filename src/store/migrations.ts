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
  {
    id: 'telemetry-001-readings-ts',
    // The SQLite sink's retention job deletes by event time across all devices (src/telemetry/sqlite.ts).
    sql: `CREATE INDEX readings_ts ON readings(ts)`,
  },
  {
    id: 'alerts-001-rules-and-alerts',
    // Rule engine and alert lifecycle (src/rules, src/alerts, src/clock/scheduler.ts). Deadlines and rule state
    // are written in the transaction that decided them; an alert commits with the state that caused it.
    sql: `CREATE TABLE deadlines (
      key TEXT PRIMARY KEY,
      due INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE rule_state (
      rule TEXT NOT NULL,
      subject TEXT NOT NULL,
      state TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (rule, subject)
    ) WITHOUT ROWID;
    CREATE TABLE alerts (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      subject TEXT NOT NULL,
      severity TEXT NOT NULL,
      status TEXT NOT NULL,
      community_id TEXT NOT NULL,
      grid_id TEXT NOT NULL,
      device_id TEXT,
      household_id TEXT,
      space_id TEXT,
      plate TEXT,
      title TEXT NOT NULL,
      details TEXT NOT NULL,
      count INTEGER NOT NULL DEFAULT 1,
      assignee TEXT,
      resolution TEXT,
      resolved_by TEXT,
      auto_resolved INTEGER NOT NULL DEFAULT 0,
      rating TEXT,
      opened_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      resolved_at INTEGER
    );
    CREATE UNIQUE INDEX alerts_one_open ON alerts(kind, subject) WHERE status <> 'resolved';
    CREATE INDEX alerts_subject ON alerts(kind, subject, id);
    CREATE INDEX alerts_opened ON alerts(opened_at, id);
    CREATE INDEX alerts_device ON alerts(device_id, opened_at);
    CREATE TABLE alert_events (
      id INTEGER PRIMARY KEY,
      alert_id INTEGER NOT NULL REFERENCES alerts(id),
      at INTEGER NOT NULL,
      type TEXT NOT NULL,
      actor TEXT NOT NULL,
      data TEXT
    );
    CREATE INDEX alert_events_alert ON alert_events(alert_id, id);
    CREATE TABLE visitors (
      community_id TEXT NOT NULL,
      plate TEXT NOT NULL,
      until INTEGER NOT NULL,
      registered_by TEXT NOT NULL,
      registered_at INTEGER NOT NULL,
      PRIMARY KEY (community_id, plate)
    ) WITHOUT ROWID`,
  },
  {
    id: 'notify-001-outbox',
    // Notifications, written in the transaction of the alert change that caused them (durable outbox), and
    // every delivery attempt (the alert timeline and the API show them).
    sql: `CREATE TABLE outbox (
      id INTEGER PRIMARY KEY,
      alert_id INTEGER,
      destination TEXT NOT NULL,
      notice TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      next_try_at INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL,
      last_error TEXT,
      created_at INTEGER NOT NULL,
      sent_at INTEGER
    );
    CREATE INDEX outbox_pending ON outbox(status, due_at);
    CREATE INDEX outbox_alert ON outbox(alert_id);
    CREATE TABLE notification_attempts (
      id INTEGER PRIMARY KEY,
      alert_ids TEXT NOT NULL,
      outbox_ids TEXT NOT NULL,
      destination TEXT NOT NULL,
      channel TEXT NOT NULL,
      ok INTEGER NOT NULL,
      reason TEXT,
      merged INTEGER NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE TABLE ack_tokens_used (jti TEXT PRIMARY KEY, used_at INTEGER NOT NULL)`,
  },
  {
    id: 'care-001-visits',
    // Logged care visits (POST /api/care/visits): a sign of life for the care rounds (missed_check), written in
    // the transaction that runs the rules on them; kept a year (src/jobs/retention.ts).
    sql: `CREATE TABLE care_visits (
      id INTEGER PRIMARY KEY,
      household_id TEXT NOT NULL,
      community_id TEXT NOT NULL,
      grid_id TEXT NOT NULL,
      visited_by TEXT NOT NULL,
      at INTEGER NOT NULL,
      note TEXT,
      logged_at INTEGER NOT NULL
    );
    CREATE INDEX care_visits_household ON care_visits(household_id, at);
    CREATE INDEX care_visits_at ON care_visits(at)`,
  },
  {
    id: 'notify-002-phone',
    // SMS and calls (src/notify/phone): the queue is the outbox (destinations phone:sms, phone:call); here each
    // message the platform accepted, its receipt (delivered, answered …) and what it was part of (a call
    // chain), which the per-number limits count; and the one-tap pages texted to families and duty phones.
    sql: `CREATE TABLE phone_messages (
      id INTEGER PRIMARY KEY,
      outbox_id INTEGER NOT NULL,
      alert_id INTEGER,
      channel TEXT NOT NULL,
      provider TEXT NOT NULL,
      number TEXT NOT NULL,
      ref TEXT,
      status TEXT NOT NULL,
      detail TEXT,
      sent_at INTEGER NOT NULL,
      next_poll_at INTEGER,
      done_at INTEGER,
      context TEXT NOT NULL
    );
    CREATE INDEX phone_messages_number ON phone_messages(number, channel, sent_at);
    CREATE INDEX phone_messages_pending ON phone_messages(status, next_poll_at);
    CREATE INDEX phone_messages_alert ON phone_messages(alert_id);
    CREATE TABLE contact_links (
      code TEXT PRIMARY KEY,
      alert_id INTEGER NOT NULL,
      purpose TEXT NOT NULL,
      who TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      used_at INTEGER,
      answer TEXT
    )`,
  },
  {
    id: 'telemetry-002-queue',
    // The InfluxDB sink's queue (src/telemetry/influx.ts): a reading's line-protocol points, written in the
    // transaction that processes the reading and deleted once the server has taken them (issue 11: points of
    // committed readings survive a crash). Replaces the file spool <dataDir>/telemetry-spool/.
    sql: `CREATE TABLE telemetry_queue (
      id INTEGER PRIMARY KEY,
      lines TEXT NOT NULL,
      points INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    )`,
  },
  {
    id: 'care-002-absences',
    // A household marked away (POST /api/care/absences: 外出、住院、子女家): no_water_use and missed_check do not
    // judge the time it covers (src/alerts/absences.ts). `ended_at` is set when it ends before `until_at` (a
    // person, or water use at home); kept a year like visits (src/jobs/retention.ts).
    sql: `CREATE TABLE care_absences (
      id INTEGER PRIMARY KEY,
      household_id TEXT NOT NULL,
      community_id TEXT NOT NULL,
      grid_id TEXT NOT NULL,
      reason TEXT NOT NULL,
      note TEXT,
      from_at INTEGER NOT NULL,
      until_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      ended_at INTEGER,
      ended_by TEXT,
      end_note TEXT
    );
    CREATE INDEX care_absences_household ON care_absences(household_id, until_at);
    CREATE INDEX care_absences_until ON care_absences(until_at)`,
  },
  {
    id: 'care-003-absence-prompted',
    // When the gentle "overdue return" notice went out for an absence (missed_check, docs/care.md).
    sql: `ALTER TABLE care_absences ADD COLUMN prompted_at INTEGER`,
  },
  {
    id: 'residents-001-invites',
    // A household's invite (src/residents/invites.ts) is signed with its generation; revoking one moves the
    // generation on, so every link and QR code printed before stops working. No row = generation 1.
    sql: `CREATE TABLE resident_invites (
      household_id TEXT PRIMARY KEY,
      generation INTEGER NOT NULL,
      revoked_at INTEGER NOT NULL,
      revoked_by TEXT NOT NULL
    ) WITHOUT ROWID`,
  },
  {
    id: 'residents-002-photos',
    // Photos of residents' reports and of their resolution (src/residents/photos.ts): the JPEG itself is in the
    // photo store, named by its sha256; a row says who uploaded it and what it is attached to. A household's
    // upload waits unattached (alert_id NULL) until its report is filed, and is swept after a day if never used.
    sql: `CREATE TABLE photos (
      id INTEGER PRIMARY KEY,
      photo TEXT NOT NULL,
      household_id TEXT,
      uploaded_by TEXT NOT NULL,
      alert_id INTEGER,
      role TEXT NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX photos_photo ON photos(photo);
    CREATE INDEX photos_alert ON photos(alert_id);
    CREATE INDEX photos_household ON photos(household_id, alert_id)`,
  },
  {
    id: 'cluster-001-deliveries',
    // QoS 1 deliveries from an external broker's sessions (src/ingest/pipeline.ts "Exactly once"): written in
    // the transaction that commits the message, one row per (session, packet id) — a packet id is reused by the
    // broker only once the previous message with it was acknowledged, so the row is replaced then. `seq` orders
    // the rows so that only a recent one can match a redelivery.
    sql: `CREATE TABLE deliveries (
      session TEXT NOT NULL,
      packet_id INTEGER NOT NULL,
      hash TEXT NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (session, packet_id)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_seq ON deliveries(session, seq)`,
  },
];
