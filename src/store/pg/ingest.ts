// Ingest's tables in PostgreSQL: the QoS 1 inbox, rejections, device state, readings and the InfluxDB queue.
// Working set in memory: the inbox (read at start), device state, the telemetry queue. Rejections and readings
// are only written by units and read by queries.
import type pg from 'pg';
import { payloadJson } from '../../../devices/shared/json.js';
import type { DeliveriesRepo, DeviceStateRepo, FieldSample, InboxMessage, InboxRepo, ReadingsRepo, Rejection, RejectionsRepo, TelemetryQueueRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, Json, lit, MemMap } from './unit.js';

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

type Queued = { id: number; lines: string; points: number; bytes: number };

export function pgIngest(x: PgContext): {
  repos: { inbox: InboxRepo; rejections: RejectionsRepo; deliveries: DeliveriesRepo; deviceState: DeviceStateRepo; readings: ReadingsRepo; telemetryQueue: TelemetryQueueRepo };
  loadable: Loadable;
} {
  const { unit } = x;
  const inbox = new MemMap<number, InboxMessage>(unit);
  /** Device id → its state as JSON text (parsed on read, as SQLite does: a caller never holds the stored copy). */
  const states = new MemMap<string, string>(unit);
  const queue = new MemMap<number, Queued>(unit);
  /** `${session}\u0000${packetId}` → its record; and each session's highest seq. */
  const deliveries = new MemMap<string, { session: string; hash: string; seq: number }>(unit);
  const topSeq = new MemMap<string, number>(unit);
  const dkey = (session: string, packetId: number) => `${session}\u0000${packetId}`;
  const loadDeliveries = (rows: Array<{ session: string; packet_id: number; hash: string; seq: number }>) => {
    for (const r of rows) {
      deliveries.load(dkey(r.session, r.packet_id), { session: r.session, hash: r.hash, seq: r.seq });
      if (r.seq > (topSeq.get(r.session) ?? 0)) topSeq.load(r.session, r.seq);
    }
  };

  const loadable: Loadable = {
    async load(db: Pick<pg.Pool, 'query'>) {
      const [i, s, q, d] = await Promise.all([
        db.query<{ id: number; device_id: string; topic: string; payload: Buffer; received_at: number }>('SELECT id, device_id, topic, payload, received_at FROM inbox'),
        db.query<{ device_id: string; state: unknown }>('SELECT device_id, state FROM device_state'),
        db.query<Queued>('SELECT id, lines, points, bytes FROM telemetry_queue'),
        db.query<{ session: string; packet_id: number; hash: string; seq: number }>('SELECT session, packet_id, hash, seq FROM deliveries'),
      ]);
      deliveries.clear();
      topSeq.clear();
      loadDeliveries(d.rows);
      inbox.clear();
      states.clear();
      queue.clear();
      for (const r of i.rows) inbox.load(r.id, { id: r.id, deviceId: r.device_id, topic: r.topic, payload: r.payload, receivedAt: r.received_at });
      for (const r of s.rows) states.load(r.device_id, JSON.stringify(r.state));
      for (const r of q.rows) queue.load(r.id, r);
    },
  };

  const field = <V>(q: { deviceId: string; field: string; type?: string }, range: string, params: unknown[], order: string) => {
    if (!FIELD.test(q.field)) throw new Error(`not a payload field name: ${q.field}`);
    const args: unknown[] = [q.deviceId, q.field, ...params];
    const typed = q.type !== undefined ? `AND type = $${args.push(q.type)}` : '';
    return x.query<{ ts: number; value: V }>(
      `SELECT ts, payload -> $2 AS value FROM readings
       WHERE device_id = $1 ${typed} AND payload ? $2 AND jsonb_typeof(payload -> $2) <> 'null' AND ${range} ORDER BY ts ${order}`,
      args,
    );
  };

  return {
    loadable,
    repos: {
      inbox: {
        add: (m) => {
          const id = x.id();
          inbox.set(id, { id, ...m });
          unit.write(insert('inbox', { id, device_id: m.deviceId, topic: m.topic, payload: m.payload, received_at: m.receivedAt }));
          return id;
        },
        remove: (id) => {
          inbox.delete(id);
          unit.write(`DELETE FROM inbox WHERE id = ${lit(id)}`);
        },
        left: () => [...inbox.values()].sort((a, b) => a.id - b.id),
      },
      rejections: {
        add: (r) => {
          const id = x.id();
          unit.write(
            insert('rejections', {
              id,
              device_id: r.deviceId,
              community_id: r.communityId,
              topic: r.topic,
              code: r.code,
              message: r.message,
              payload: r.payload,
              payload_bytes: r.payloadBytes,
              received_at: r.receivedAt,
            }),
          );
          return id;
        },
        keepNewest: (max) => x.exec('DELETE FROM rejections WHERE id NOT IN (SELECT id FROM rejections ORDER BY id DESC LIMIT $1)', [max]),
        list: async ({ deviceIds, limit }) => {
          if (deviceIds && deviceIds.length === 0) return [];
          const rows = deviceIds
            ? await x.query<RejectionRow>('SELECT * FROM rejections WHERE device_id = ANY($1) ORDER BY id DESC LIMIT $2', [deviceIds, limit])
            : await x.query<RejectionRow>('SELECT * FROM rejections ORDER BY id DESC LIMIT $1', [limit]);
          return rows.map(rejection);
        },
      },
      deliveries: {
        record: (d) => {
          const seq = (topSeq.get(d.session) ?? 0) + 1;
          topSeq.set(d.session, seq);
          deliveries.set(dkey(d.session, d.packetId), { session: d.session, hash: d.hash, seq });
          unit.write(
            `${insert('deliveries', { session: d.session, packet_id: d.packetId, hash: d.hash, seq })}
             ON CONFLICT (session, packet_id) DO UPDATE SET hash = EXCLUDED.hash, seq = EXCLUDED.seq`,
          );
        },
        recorded: (d, window) => {
          const r = deliveries.get(dkey(d.session, d.packetId));
          if (!r || r.hash !== d.hash) return false;
          let newer = 0;
          for (const o of deliveries.values()) if (o.session === d.session && o.seq > r.seq && ++newer >= window) return false;
          return true;
        },
        load: async (session) => {
          const rows = await x.query<{ session: string; packet_id: number; hash: string; seq: number }>(
            'SELECT session, packet_id, hash, seq FROM deliveries WHERE session = $1',
            [session],
          );
          for (const k of [...deliveries.m.keys()]) if (deliveries.m.get(k)!.session === session) deliveries.m.delete(k);
          topSeq.m.delete(session);
          loadDeliveries(rows);
        },
      },
      deviceState: {
        all: () => [...states.entries()].map(([deviceId, text]) => ({ deviceId, state: JSON.parse(text) as unknown })),
        put: (deviceId, state, at) => {
          const json = new Json(state);
          if (json.text === undefined) throw new TypeError('a device state must be a JSON value');
          states.set(deviceId, json.text);
          unit.write(
            `${insert('device_state', { device_id: deviceId, state: json, updated_at: at })}
             ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
          );
        },
      },
      readings: {
        add: (r) => unit.write(insert('readings', { device_id: r.deviceId, ts: r.ts, received_at: r.receivedAt, type: r.type, payload: new Json(r.payload, payloadJson(r)) })),
        sweep: (before, limit) => x.exec('DELETE FROM readings WHERE ctid IN (SELECT ctid FROM readings WHERE ts < $1 LIMIT $2)', [before, limit]),
        field: async <V>(q: { deviceId: string; field: string; from: number; to: number; type?: string }) =>
          (await field<V>(q, 'ts >= $3 AND ts < $4', [q.from, q.to], 'ASC')).map((r): FieldSample<V> => ({ ts: r.ts, value: r.value })),
        fieldBefore: async <V>(q: { deviceId: string; field: string; before: number; type?: string }) => {
          const [r] = await field<V>(q, 'ts < $3', [q.before], 'DESC LIMIT 1');
          return r && { ts: r.ts, value: r.value };
        },
      },
      telemetryQueue: {
        add: (lines, points, bytes) => {
          const id = x.id();
          queue.set(id, { id, lines, points, bytes });
          unit.write(insert('telemetry_queue', { id, lines, points, bytes }));
        },
        next: (limit) =>
          [...queue.values()]
            .sort((a, b) => a.id - b.id)
            .slice(0, limit)
            .map((e) => ({ ...e })),
        doneUpTo: (id) => {
          for (const k of [...queue.m.keys()]) if (k <= id) queue.delete(k);
          unit.write(`DELETE FROM telemetry_queue WHERE id <= ${lit(id)}`);
        },
        totals: () => {
          let points = 0;
          let bytes = 0;
          for (const e of queue.values()) (points += e.points), (bytes += e.bytes);
          return { entries: queue.size, points, bytes };
        },
      },
    },
  };
}
