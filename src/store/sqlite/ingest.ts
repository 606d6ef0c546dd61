// Ingest's tables in SQLite: the QoS 1 inbox, rejections, device state, readings and the InfluxDB queue.
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import { payloadJson } from '../../../devices/shared/json.js';
import type { DeliveriesRepo, DeviceStateRepo, FieldSample, InboxMessage, InboxRepo, ReadingsRepo, Rejection, RejectionsRepo, TelemetryQueueRepo } from '../store.js';

interface RejectionRow {
  id: number;
  device_id: string | null;
  community_id: string | null;
  topic: string;
  code: string;
  message: string;
  payload: Buffer;
  payload_bytes: number;
  received_at: number;
}

const rejection = (r: RejectionRow): Rejection => ({
  id: r.id,
  deviceId: r.device_id,
  communityId: r.community_id,
  topic: r.topic,
  code: r.code,
  message: r.message,
  payload: r.payload,
  payloadBytes: r.payload_bytes,
  receivedAt: r.received_at,
});

/** A JSON value json_extract gave back, as the value it was in the payload. */
function jsonValue(v: unknown, type: string): unknown {
  if (type === 'true') return true;
  if (type === 'false') return false;
  if (type === 'array' || type === 'object') return JSON.parse(v as string);
  return v;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function sqliteIngest(db: Db): {
  inbox: InboxRepo;
  rejections: RejectionsRepo;
  deliveries: DeliveriesRepo;
  deviceState: DeviceStateRepo;
  readings: ReadingsRepo;
  telemetryQueue: TelemetryQueueRepo;
} {
  let s: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    inboxInsert: db.prepare('INSERT INTO inbox (device_id, topic, payload, received_at) VALUES (?, ?, ?, ?)'),
    inboxDelete: db.prepare('DELETE FROM inbox WHERE id = ?'),
    rejectionInsert: db.prepare(
      'INSERT INTO rejections (device_id, community_id, topic, code, message, payload, payload_bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    stateUpsert: db.prepare(
      'INSERT INTO device_state (device_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
    ),
    readingInsert: db.prepare('INSERT INTO readings (device_id, ts, received_at, type, payload) VALUES (?, ?, ?, ?, ?)'),
    deliveryRecord: db.prepare(
      'INSERT INTO deliveries (session, packet_id, hash, seq) VALUES (?, ?, ?, ?) ON CONFLICT (session, packet_id) DO UPDATE SET hash = excluded.hash, seq = excluded.seq',
    ),
    // The record, and how many of the session's records are newer than it (counted no further than the window).
    deliveryFind: db.prepare(
      `SELECT hash, (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE session = @session AND seq > d.seq LIMIT @window)) AS newer
       FROM deliveries d WHERE session = @session AND packet_id = @packetId`,
    ),
  });
  const st = () => (s ??= prepare());
  const fieldQueries = new Map<string, Statement>();
  const fieldQuery = (field: string, typed: boolean, before: boolean) => {
    if (!FIELD.test(field)) throw new Error(`not a payload field name: ${field}`);
    const key = `${field}|${typed}|${before}`;
    let q = fieldQueries.get(key);
    if (!q) {
      const path = `'$.${field}'`;
      q = db.prepare(
        `SELECT ts, json_extract(payload, ${path}) AS value, json_type(payload, ${path}) AS t FROM readings
         WHERE device_id = ? ${typed ? 'AND type = ?' : ''} AND value IS NOT NULL AND ${before ? 'ts < ? ORDER BY ts DESC LIMIT 1' : 'ts >= ? AND ts < ? ORDER BY ts'}`,
      );
      fieldQueries.set(key, q);
    }
    return q;
  };
  return {
    inbox: {
      add: (m) => Number(st().inboxInsert.run(m.deviceId, m.topic, m.payload, m.receivedAt).lastInsertRowid),
      remove: (id) => void st().inboxDelete.run(id),
      left: () =>
        (
          db.prepare('SELECT id, device_id, topic, payload, received_at FROM inbox ORDER BY id').all() as Array<{
            id: number;
            device_id: string;
            topic: string;
            payload: Buffer;
            received_at: number;
          }>
        ).map((r): InboxMessage => ({ id: r.id, deviceId: r.device_id, topic: r.topic, payload: r.payload, receivedAt: r.received_at })),
    },
    rejections: {
      add: (r) => Number(st().rejectionInsert.run(r.deviceId, r.communityId, r.topic, r.code, r.message, r.payload, r.payloadBytes, r.receivedAt).lastInsertRowid),
      keepNewest: async (max) => db.prepare('DELETE FROM rejections WHERE id <= (SELECT MAX(id) FROM rejections) - ?').run(max).changes,
      list: async ({ deviceIds, limit }) => {
        if (deviceIds && deviceIds.length === 0) return [];
        const rows = deviceIds
          ? db.prepare('SELECT * FROM rejections WHERE device_id IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?').all(JSON.stringify(deviceIds), limit)
          : db.prepare('SELECT * FROM rejections ORDER BY id DESC LIMIT ?').all(limit);
        return (rows as RejectionRow[]).map(rejection);
      },
    },
    deliveries: (() => {
      // Records are ordered by one counter over all sessions, carried on from the table's highest at first use
      // (a rolled-back unit leaves a gap, which changes no order).
      let seq: number | undefined;
      return {
        record: (d) => {
          seq ??= (db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM deliveries').get() as { n: number }).n;
          st().deliveryRecord.run(d.session, d.packetId, d.hash, ++seq);
        },
        recorded: (d, window) => {
          const row = st().deliveryFind.get({ session: d.session, packetId: d.packetId, window }) as { hash: string; newer: number } | undefined;
          return !!row && row.hash === d.hash && row.newer < window;
        },
        load: async () => {},
      };
    })(),
    deviceState: {
      all: () =>
        (db.prepare('SELECT device_id, state FROM device_state').all() as Array<{ device_id: string; state: string }>).map((r) => ({
          deviceId: r.device_id,
          state: JSON.parse(r.state) as unknown,
        })),
      put: (deviceId, state, at) => void st().stateUpsert.run(deviceId, JSON.stringify(state), at),
    },
    readings: {
      add: (r) => void st().readingInsert.run(r.deviceId, r.ts, r.receivedAt, r.type, payloadJson(r)),
      sweep: async (before, limit) => db.prepare('DELETE FROM readings WHERE rowid IN (SELECT rowid FROM readings WHERE ts < ? LIMIT ?)').run(before, limit).changes,
      field: async <V>(q: { deviceId: string; field: string; from: number; to: number; type?: string }) => {
        const args: unknown[] = [q.deviceId];
        if (q.type !== undefined) args.push(q.type);
        const rows = fieldQuery(q.field, q.type !== undefined, false).all(...args, q.from, q.to) as Array<{ ts: number; value: unknown; t: string }>;
        return rows.map((r): FieldSample<V> => ({ ts: r.ts, value: jsonValue(r.value, r.t) as V }));
      },
      fieldBefore: async <V>(q: { deviceId: string; field: string; before: number; type?: string }) => {
        const args: unknown[] = [q.deviceId];
        if (q.type !== undefined) args.push(q.type);
        const r = fieldQuery(q.field, q.type !== undefined, true).get(...args, q.before) as { ts: number; value: unknown; t: string } | undefined;
        return r && { ts: r.ts, value: jsonValue(r.value, r.t) as V };
      },
    },
    telemetryQueue: (() => {
      let q: { insert: Statement; next: Statement; done: Statement } | undefined;
      const qs = () =>
        (q ??= {
          insert: db.prepare('INSERT INTO telemetry_queue (lines, points, bytes) VALUES (?, ?, ?)'),
          next: db.prepare('SELECT id, lines, points, bytes FROM telemetry_queue ORDER BY id LIMIT ?'),
          done: db.prepare('DELETE FROM telemetry_queue WHERE id <= ?'),
        });
      return {
        add: (lines: string, points: number, bytes: number) => void qs().insert.run(lines, points, bytes),
        next: (limit: number) => qs().next.all(limit) as Array<{ id: number; lines: string; points: number; bytes: number }>,
        doneUpTo: (id: number) => void qs().done.run(id),
        totals: () => {
          const r = db.prepare('SELECT COUNT(*) AS n, TOTAL(points) AS points, TOTAL(bytes) AS bytes FROM telemetry_queue').get() as { n: number; points: number; bytes: number };
          return { entries: r.n, points: r.points, bytes: r.bytes };
        },
      };
    })(),
  };
}
