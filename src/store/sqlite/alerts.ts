// Alerts and their events in SQLite. One unresolved alert per (kind, subject) is enforced by a partial unique
// index (migration alerts-001).
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import type { AlertEvent, AlertRecord, AlertsRepo } from '../store.js';

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
  details: string;
  count: number;
  assignee: string | null;
  resolution: string | null;
  resolved_by: string | null;
  auto_resolved: number;
  rating: string | null;
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
  details: JSON.parse(r.details) as Record<string, unknown>,
  count: r.count,
  assignee: r.assignee,
  resolution: r.resolution,
  resolvedBy: r.resolved_by,
  autoResolved: r.auto_resolved === 1,
  rating: r.rating === null ? null : (JSON.parse(r.rating) as Record<string, unknown>),
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  resolvedAt: r.resolved_at,
});

/** Record field → column, and how the value is stored. */
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
  details: ['details', (v) => JSON.stringify(v)],
  count: ['count', (v) => v],
  assignee: ['assignee', (v) => v],
  resolution: ['resolution', (v) => v],
  resolvedBy: ['resolved_by', (v) => v],
  autoResolved: ['auto_resolved', (v) => (v ? 1 : 0)],
  rating: ['rating', (v) => (v === null ? null : JSON.stringify(v))],
  openedAt: ['opened_at', (v) => v],
  updatedAt: ['updated_at', (v) => v],
  resolvedAt: ['resolved_at', (v) => v],
};

const event = (e: { alert_id: number; at: number; type: string; actor: string; data: string | null }): AlertEvent => ({
  alertId: e.alert_id,
  at: e.at,
  type: e.type,
  actor: e.actor,
  ...(e.data ? { data: JSON.parse(e.data) as Record<string, unknown> } : {}),
});

const marks = (n: number) => new Array(n).fill('?').join(',');

export function sqliteAlerts(db: Db): AlertsRepo {
  let p: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    byId: db.prepare('SELECT * FROM alerts WHERE id = ?'),
    openRows: db.prepare("SELECT * FROM alerts WHERE status <> 'resolved'"),
    openOf: db.prepare("SELECT * FROM alerts WHERE kind = ? AND subject = ? AND status <> 'resolved'"),
    lastOf: db.prepare('SELECT * FROM alerts WHERE kind = ? AND subject = ? ORDER BY id DESC LIMIT 1'),
    insert: db.prepare(
      `INSERT INTO alerts (kind, subject, severity, status, community_id, grid_id, device_id, household_id, space_id, plate,
         title, details, count, opened_at, updated_at)
       VALUES (@kind, @subject, @severity, 'open', @communityId, @gridId, @deviceId, @householdId, @spaceId, @plate,
         @title, @details, 1, @openedAt, @openedAt)`,
    ),
    event: db.prepare('INSERT INTO alert_events (alert_id, at, type, actor, data) VALUES (?, ?, ?, ?, ?)'),
    timeline: db.prepare('SELECT alert_id, at, type, actor, data FROM alert_events WHERE alert_id = ? ORDER BY id'),
  });
  const s = () => (p ??= prepare());
  const updates = new Map<string, Statement>();
  const get = (id: number) => {
    const r = s().byId.get(id) as Row | undefined;
    return r && record(r);
  };
  return {
    get,
    open: () => (s().openRows.all() as Row[]).map(record),
    openOf: (kind, subject) => {
      const r = s().openOf.get(kind, subject) as Row | undefined;
      return r && record(r);
    },
    lastOf: (kind, subject) => {
      const r = s().lastOf.get(kind, subject) as Row | undefined;
      return r && record(r);
    },
    insert: (a) =>
      Number(
        s().insert.run({
          kind: a.kind,
          subject: a.subject,
          severity: a.severity,
          communityId: a.communityId,
          gridId: a.gridId,
          deviceId: a.deviceId,
          householdId: a.householdId,
          spaceId: a.spaceId,
          plate: a.plate,
          title: a.title,
          details: JSON.stringify(a.details),
          openedAt: a.openedAt,
        }).lastInsertRowid,
      ),
    update: (id, fields) => {
      const names = Object.keys(fields).filter((k) => (fields as Record<string, unknown>)[k] !== undefined);
      if (!names.length) return;
      const key = names.join(',');
      let stmt = updates.get(key);
      if (!stmt) {
        stmt = db.prepare(`UPDATE alerts SET ${names.map((n) => `${COLUMNS[n][0]} = ?`).join(', ')} WHERE id = ?`);
        updates.set(key, stmt);
      }
      stmt.run(...names.map((n) => COLUMNS[n][1]((fields as Record<string, unknown>)[n])), id);
    },
    addEvent: (e) => void s().event.run(e.alertId, e.at, e.type, e.actor, e.data === undefined ? null : JSON.stringify(e.data)),
    newestUpdate: () => (db.prepare('SELECT MAX(updated_at) FROM alerts').pluck().get() as number | null) ?? undefined,
    openIdsOfHousehold: (householdId) => db.prepare(`SELECT id FROM alerts WHERE household_id = ? AND status = 'open' ORDER BY id`).pluck().all(householdId) as number[],
    timeline: (id) => (s().timeline.all(id) as Array<Parameters<typeof event>[0]>).map(event),
    list: async (f) => {
      const where: string[] = [];
      const args: unknown[] = [];
      const inList = (col: string, values: readonly unknown[]) => {
        where.push(`${col} IN (${marks(values.length)})`);
        args.push(...values);
      };
      if (f.status?.length) inList('status', f.status);
      if (f.kinds) {
        if (f.kinds.length === 0) return [];
        inList('kind', f.kinds);
      }
      if (f.deviceId) (where.push('device_id = ?'), args.push(f.deviceId));
      if (f.gridIds) {
        if (f.gridIds.length === 0) return [];
        inList('grid_id', f.gridIds);
      }
      if (f.householdIds) {
        if (f.householdIds.length === 0) return [];
        inList('household_id', f.householdIds);
      }
      const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, f.limit) as Row[]).map(record);
    },
    filedBy: (householdId, kinds, since) => {
      if (!kinds.length) return { since: 0, unresolved: 0 };
      return db
        .prepare(
          `SELECT COALESCE(SUM(opened_at >= ?), 0) AS since, COALESCE(SUM(status <> 'resolved'), 0) AS unresolved
           FROM alerts WHERE household_id = ? AND kind IN (${marks(kinds.length)})`,
        )
        .get(since, householdId, ...kinds) as { since: number; unresolved: number };
    },
    openCountByHousehold: async () =>
      new Map(
        (
          db
            .prepare("SELECT household_id AS h, COUNT(*) AS n FROM alerts WHERE status <> 'resolved' AND household_id IS NOT NULL GROUP BY household_id")
            .all() as Array<{ h: string; n: number }>
        ).map((r) => [r.h, r.n]),
      ),
    window: async (q) => {
      if (!q.gridIds.length) return { alerts: [], events: [] };
      // resolved_at is cleared by a re-open, so "not resolved before from" keeps re-opened alerts too; a
      // rating given in the window counts even if the alert was resolved before it.
      const rows = db
        .prepare(
          `SELECT * FROM alerts
           WHERE community_id = ? AND grid_id IN (${marks(q.gridIds.length)}) AND opened_at <= ?
             AND (resolved_at IS NULL OR resolved_at > ? OR (rating IS NOT NULL AND json_extract(rating, '$.at') > ?))`,
        )
        .all(q.communityId, ...q.gridIds, q.to, q.from, new Date(q.from).toISOString()) as Row[];
      const trail = db.prepare(
        `SELECT alert_id, at, type, actor, NULL AS data FROM alert_events
         WHERE alert_id = ? AND at <= ? AND type IN (${marks(q.types.length)}) ORDER BY id`,
      );
      const events: AlertEvent[] = [];
      for (const r of rows) for (const e of trail.all(r.id, q.to, ...q.types) as Array<Parameters<typeof event>[0]>) events.push(event(e));
      return { alerts: rows.map(record), events };
    },
  };
}
