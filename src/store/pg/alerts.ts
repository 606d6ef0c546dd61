// Alerts and their timelines in PostgreSQL. Working set: every alert and its events, in memory (the rule engine
// and permission checks read them while deciding); lists, counts and the digest window are queries. One
// unresolved alert per (kind, subject), as SQLite's partial unique index says, is checked in memory inside the
// unit (and by the same index on the server).
import type pg from 'pg';
import type { AlertEvent, AlertRecord, AlertsRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, Json, lit, MemMap } from './unit.js';

interface Row {
  id: number;
  kind: AlertRecord['kind'];
  subject: string;
  severity: AlertRecord['severity'];
  status: AlertRecord['status'];
  community_id: string;
  grid_id: string;
  device_id: string | null;
  household_id: string | null;
  space_id: string | null;
  plate: string | null;
  title: string;
  details: Record<string, unknown>;
  count: number;
  assignee: string | null;
  resolution: string | null;
  resolved_by: string | null;
  auto_resolved: boolean;
  rating: Record<string, unknown> | null;
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
}

const record = (r: Row): AlertRecord => ({
  id: r.id,
  kind: r.kind,
  subject: r.subject,
  severity: r.severity,
  status: r.status,
  communityId: r.community_id,
  gridId: r.grid_id,
  deviceId: r.device_id,
  householdId: r.household_id,
  spaceId: r.space_id,
  plate: r.plate,
  title: r.title,
  details: r.details,
  count: r.count,
  assignee: r.assignee,
  resolution: r.resolution,
  resolvedBy: r.resolved_by,
  autoResolved: r.auto_resolved,
  rating: r.rating,
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  resolvedAt: r.resolved_at,
});

/** Record field → column, and how the value is written. */
const COLUMNS: Record<string, [string, (v: unknown) => unknown]> = {
  severity: ['severity', (v) => v],
  status: ['status', (v) => v],
  communityId: ['community_id', (v) => v],
  gridId: ['grid_id', (v) => v],
  deviceId: ['device_id', (v) => v],
  householdId: ['household_id', (v) => v],
  spaceId: ['space_id', (v) => v],
  plate: ['plate', (v) => v],
  title: ['title', (v) => v],
  details: ['details', (v) => new Json(v)],
  count: ['count', (v) => v],
  assignee: ['assignee', (v) => v],
  resolution: ['resolution', (v) => v],
  resolvedBy: ['resolved_by', (v) => v],
  autoResolved: ['auto_resolved', (v) => !!v],
  rating: ['rating', (v) => (v === null ? null : new Json(v))],
  openedAt: ['opened_at', (v) => v],
  updatedAt: ['updated_at', (v) => v],
  resolvedAt: ['resolved_at', (v) => v],
};

type EventRow = { alert_id: number; at: number; type: string; actor: string; data: Record<string, unknown> | null };
const event = (e: EventRow): AlertEvent => ({ alertId: e.alert_id, at: e.at, type: e.type, actor: e.actor, ...(e.data ? { data: e.data } : {}) });

/** A copy (a caller never holds the stored record; SQLite parses a fresh one per read). */
const copy = (a: AlertRecord): AlertRecord => ({ ...a, details: structuredClone(a.details), rating: a.rating && structuredClone(a.rating) });

export class DuplicateOpenAlertError extends Error {
  readonly code = 'SB_STORE_CONSTRAINT';
  constructor(kind: string, subject: string) {
    super(`an unresolved ${kind} alert for ${subject} exists already`);
    this.name = 'DuplicateOpenAlertError';
  }
}

export function pgAlerts(x: PgContext): { repos: { alerts: AlertsRepo }; loadable: Loadable } {
  const { unit } = x;
  const alerts = new MemMap<number, AlertRecord>(unit);
  /** `${kind}\u0000${subject}` → the unresolved alert's id. */
  const openKey = new MemMap<string, number>(unit);
  /** `${kind}\u0000${subject}` → the id of its latest alert (by opening), resolved or not. */
  const latest = new MemMap<string, number>(unit);
  const events = new MemMap<number, readonly AlertEvent[]>(unit);
  const ok = (kind: string, subject: string) => `${kind}\u0000${subject}`;
  const byOpening = (a: AlertRecord, b: AlertRecord) => a.openedAt - b.openedAt || a.id - b.id;

  const loadable: Loadable = {
    async load(db: Pick<pg.Pool, 'query'>) {
      const [a, e] = await Promise.all([
        db.query<Row>('SELECT * FROM alerts'),
        db.query<EventRow>('SELECT alert_id, at, type, actor, data FROM alert_events ORDER BY id'),
      ]);
      alerts.clear();
      openKey.clear();
      latest.clear();
      events.clear();
      for (const r of a.rows) {
        const rec = record(r);
        alerts.load(rec.id, rec);
        const key = ok(rec.kind, rec.subject);
        if (rec.status !== 'resolved') openKey.load(key, rec.id);
        const cur = latest.get(key);
        if (cur === undefined || byOpening(rec, alerts.get(cur)!) > 0) latest.load(key, rec.id);
      }
      const by = new Map<number, AlertEvent[]>();
      for (const r of e.rows) {
        let l = by.get(r.alert_id);
        if (!l) by.set(r.alert_id, (l = []));
        l.push(event(r));
      }
      for (const [id, l] of by) events.load(id, l);
    },
  };

  const get = (id: number) => {
    const a = alerts.get(id);
    return a && copy(a);
  };

  const windowQuery = async (q: { communityId: string; gridIds: readonly string[]; from: number; to: number; types: readonly string[] }) => {
    if (!q.gridIds.length) return { alerts: [], events: [] };
    const rows = await x.query<Row>(
      `SELECT * FROM alerts
       WHERE community_id = $1 AND grid_id = ANY($2) AND opened_at <= $3
         AND (resolved_at IS NULL OR resolved_at > $4 OR (rating IS NOT NULL AND rating ->> 'at' > $5))`,
      [q.communityId, q.gridIds, q.to, q.from, new Date(q.from).toISOString()],
    );
    if (!rows.length) return { alerts: [], events: [] };
    const evs = await x.query<EventRow>(
      `SELECT alert_id, at, type, actor, NULL AS data FROM alert_events
       WHERE alert_id = ANY($1) AND at <= $2 AND type = ANY($3) ORDER BY alert_id, id`,
      [rows.map((r) => r.id), q.to, q.types],
    );
    const order = new Map(rows.map((r, i) => [r.id, i]));
    evs.sort((a, b) => order.get(a.alert_id)! - order.get(b.alert_id)!);
    return { alerts: rows.map(record), events: evs.map(event) };
  };

  return {
    loadable,
    repos: {
      alerts: {
        get,
        open: () => [...openKey.values()].map((id) => copy(alerts.get(id)!)).sort((a, b) => a.id - b.id),
        openOf: (kind, subject) => {
          const id = openKey.get(ok(kind, subject));
          return id === undefined ? undefined : get(id);
        },
        lastOf: (kind, subject) => {
          const id = latest.get(ok(kind, subject));
          return id === undefined ? undefined : get(id);
        },
        insert: (a) => {
          if (openKey.has(ok(a.kind, a.subject))) throw new DuplicateOpenAlertError(a.kind, a.subject);
          const id = x.id();
          const rec: AlertRecord = {
            id,
            kind: a.kind,
            subject: a.subject,
            severity: a.severity,
            status: 'open',
            communityId: a.communityId,
            gridId: a.gridId,
            deviceId: a.deviceId,
            householdId: a.householdId,
            spaceId: a.spaceId,
            plate: a.plate,
            title: a.title,
            details: structuredClone(a.details),
            count: 1,
            assignee: null,
            resolution: null,
            resolvedBy: null,
            autoResolved: false,
            rating: null,
            openedAt: a.openedAt,
            updatedAt: a.openedAt,
            resolvedAt: null,
          };
          const row = {
            id,
            kind: a.kind,
            subject: a.subject,
            severity: a.severity,
            status: 'open',
            community_id: a.communityId,
            grid_id: a.gridId,
            device_id: a.deviceId,
            household_id: a.householdId,
            space_id: a.spaceId,
            plate: a.plate,
            title: a.title,
            details: new Json(a.details),
            count: 1,
            opened_at: a.openedAt,
            updated_at: a.openedAt,
          };
          const sql = insert('alerts', row);
          const key = ok(a.kind, a.subject);
          const cur = latest.get(key);
          alerts.set(id, rec);
          openKey.set(key, id);
          if (cur === undefined || byOpening(rec, alerts.get(cur)!) > 0) latest.set(key, id);
          unit.write(sql);
          return id;
        },
        update: (id, fields) => {
          const names = Object.keys(fields).filter((k) => (fields as Record<string, unknown>)[k] !== undefined);
          const prev = alerts.get(id);
          if (!names.length || !prev) return;
          const values = names.map((n) => [COLUMNS[n][0], COLUMNS[n][1]((fields as Record<string, unknown>)[n])] as const);
          const next: AlertRecord = { ...prev };
          for (const n of names) (next as unknown as Record<string, unknown>)[n] = structuredClone((fields as Record<string, unknown>)[n]);
          const key = ok(prev.kind, prev.subject);
          if (prev.status === 'resolved' && next.status !== 'resolved' && openKey.has(key)) throw new DuplicateOpenAlertError(prev.kind, prev.subject);
          const sql = `UPDATE alerts SET ${values.map(([c, v]) => `${c} = ${lit(v)}`).join(', ')} WHERE id = ${lit(id)}`;
          alerts.set(id, next);
          if (prev.status !== 'resolved' && next.status === 'resolved') openKey.delete(key);
          if (prev.status === 'resolved' && next.status !== 'resolved') openKey.set(key, id);
          if (next.openedAt !== prev.openedAt) {
            // The latest by opening may be another alert now (a rare edit): look again.
            let best: AlertRecord | undefined;
            for (const a of alerts.values()) if (a.kind === prev.kind && a.subject === prev.subject && (!best || byOpening(a, best) > 0)) best = a;
            if (best) latest.set(key, best.id);
          }
          unit.write(sql);
        },
        addEvent: (e) => {
          const sql = insert('alert_events', { alert_id: e.alertId, at: e.at, type: e.type, actor: e.actor, data: e.data === undefined ? null : new Json(e.data) });
          events.set(e.alertId, [...(events.get(e.alertId) ?? []), { alertId: e.alertId, at: e.at, type: e.type, actor: e.actor, ...(e.data !== undefined ? { data: structuredClone(e.data) } : {}) }]);
          unit.write(sql);
        },
        newestUpdate: () => {
          let max: number | undefined;
          for (const a of alerts.values()) if (max === undefined || a.updatedAt > max) max = a.updatedAt;
          return max;
        },
        openIdsOfHousehold: (householdId) =>
          [...openKey.values()].filter((id) => {
            const a = alerts.get(id)!;
            return a.householdId === householdId && a.status === 'open';
          }).sort((a, b) => a - b),
        timeline: (id) => (events.get(id) ?? []).map((e) => ({ ...e, ...(e.data ? { data: structuredClone(e.data) } : {}) })),
        list: async (f) => {
          const where: string[] = [];
          const args: unknown[] = [];
          const inList = (col: string, values: readonly unknown[]) => where.push(`${col} = ANY($${args.push(values)})`);
          if (f.status?.length) inList('status', f.status);
          if (f.kinds) {
            if (f.kinds.length === 0) return [];
            inList('kind', f.kinds);
          }
          if (f.deviceId) where.push(`device_id = $${args.push(f.deviceId)}`);
          if (f.gridIds) {
            if (f.gridIds.length === 0) return [];
            inList('grid_id', f.gridIds);
          }
          if (f.householdIds) {
            if (f.householdIds.length === 0) return [];
            inList('household_id', f.householdIds);
          }
          const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT $${args.push(f.limit)}`;
          return (await x.query<Row>(sql, args)).map(record);
        },
        filedBy: (householdId, kinds, since) => {
          let n = 0;
          let unresolved = 0;
          if (!kinds.length) return { since: 0, unresolved: 0 };
          for (const a of alerts.values()) {
            if (a.householdId !== householdId || !kinds.includes(a.kind)) continue;
            if (a.openedAt >= since) n++;
            if (a.status !== 'resolved') unresolved++;
          }
          return { since: n, unresolved };
        },
        openCountByHousehold: async () =>
          new Map(
            (
              await x.query<{ h: string; n: number }>(
                "SELECT household_id AS h, COUNT(*)::int AS n FROM alerts WHERE status <> 'resolved' AND household_id IS NOT NULL GROUP BY household_id",
              )
            ).map((r) => [r.h, r.n]),
          ),
        window: windowQuery,
      },
    },
  };
}
