// Alerts and their audit trail in SQLite. One open (not resolved) alert per (kind, subject), enforced by a
// partial unique index; a repeat raises its count. A self-clearing alert that comes back within its flap hold
// re-opens the same alert. Every change writes an alert_events row with who and when.
//
// Every method writes through the caller's transaction (the ingest batch, a deadline firing, an API call), so
// an alert commits with the state that caused it. The in-memory index of open alerts makes "is one open?"
// free on the hot path; the engine reloads it if a transaction rolls back.
import type { Db } from '../store/db.js';
import { AppError } from '../errors.js';
import { move, type Transition } from './lifecycle.js';
import type { AlertKind, AlertPlace, AlertStatus, AlertView, Severity, TimelineEntry } from './types.js';
import type { OpenAlert } from '../rules/lib/types.js';

interface Row {
  id: number;
  kind: AlertKind;
  subject: string;
  severity: Severity;
  status: AlertStatus;
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

export const SYSTEM = 'system';
const RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, info: 3 };
const iso = (t: number) => new Date(t).toISOString();
const key = (kind: string, subject: string) => `${kind}\u0000${subject}`;

export function toView(r: Row): AlertView {
  const v: AlertView = {
    id: r.id,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    communityId: r.community_id,
    gridId: r.grid_id,
    title: r.title,
    details: JSON.parse(r.details) as Record<string, unknown>,
    count: r.count,
    openedAt: iso(r.opened_at),
    updatedAt: iso(r.updated_at),
  };
  if (r.device_id) v.deviceId = r.device_id;
  if (r.household_id) v.householdId = r.household_id;
  if (r.space_id) v.spaceId = r.space_id;
  if (r.plate) v.plate = r.plate;
  if (r.resolved_at !== null) v.resolvedAt = iso(r.resolved_at);
  if (r.assignee) v.assignee = r.assignee;
  if (r.resolution) v.resolution = r.resolution;
  if (r.resolved_by) v.resolvedBy = r.resolved_by;
  if (r.rating) v.rating = JSON.parse(r.rating) as AlertView['rating'];
  return v;
}

export interface OpenRequest {
  kind: AlertKind;
  subject: string;
  place: AlertPlace;
  severity: Severity;
  title: string;
  details: Record<string, unknown>;
  now: number;
  flapHoldMs: number;
  /** Who opened it, on the timeline: a rule is `system` (the default); a resident's filing names the household. */
  actor?: string;
}

export interface ListFilter {
  status?: AlertStatus[];
  kind?: string;
  /** Any of these kinds (with `kind`, both must hold). */
  kinds?: readonly string[];
  deviceId?: string;
  gridId?: string;
  grids: Set<string> | 'all';
  /** A volunteer's view: only alerts of these households. */
  households?: Set<string>;
  limit: number;
}

/** Timeline entries that are logged once their transaction commits (RuleEngine.publish). */
export const LOGGED_EVENTS = new Set(['opened', 'reopened', 'escalated', 'resolved']);

export interface LifecycleEntry {
  alertId: number;
  type: string;
  actor: string;
  data?: Record<string, unknown>;
}

export class AlertStore {
  private readonly open = new Map<string, OpenAlert>();
  /** Lifecycle entries written since the last takeLifecycle(); dropped when memory is read again after a rollback. */
  private lifecycle: LifecycleEntry[] = [];
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      byId: db.prepare('SELECT * FROM alerts WHERE id = ?'),
      openRows: db.prepare("SELECT * FROM alerts WHERE status <> 'resolved'"),
      openOf: db.prepare("SELECT * FROM alerts WHERE kind = ? AND subject = ? AND status <> 'resolved'"),
      lastOf: db.prepare('SELECT * FROM alerts WHERE kind = ? AND subject = ? ORDER BY id DESC LIMIT 1'),
      insert: db.prepare(
        `INSERT INTO alerts (kind, subject, severity, status, community_id, grid_id, device_id, household_id, space_id, plate,
           title, details, count, opened_at, updated_at)
         VALUES (@kind, @subject, @severity, 'open', @communityId, @gridId, @deviceId, @householdId, @spaceId, @plate,
           @title, @details, 1, @now, @now)`,
      ),
      repeat: db.prepare('UPDATE alerts SET count = count + 1, severity = ?, title = ?, details = ?, updated_at = ? WHERE id = ?'),
      reopen: db.prepare(
        `UPDATE alerts SET status = 'open', count = count + 1, severity = ?, title = ?, details = ?, updated_at = ?,
           resolved_at = NULL, resolution = NULL, resolved_by = NULL, auto_resolved = 0, rating = NULL WHERE id = ?`,
      ),
      update: db.prepare('UPDATE alerts SET title = ?, details = ?, updated_at = ? WHERE id = ?'),
      status: db.prepare('UPDATE alerts SET status = ?, assignee = COALESCE(?, assignee), updated_at = ? WHERE id = ?'),
      resolve: db.prepare(
        "UPDATE alerts SET status = 'resolved', resolution = ?, resolved_by = ?, auto_resolved = ?, resolved_at = ?, updated_at = ? WHERE id = ?",
      ),
      rate: db.prepare('UPDATE alerts SET rating = ?, updated_at = ? WHERE id = ?'),
      touch: db.prepare('UPDATE alerts SET updated_at = ? WHERE id = ?'),
      event: db.prepare('INSERT INTO alert_events (alert_id, at, type, actor, data) VALUES (?, ?, ?, ?, ?)'),
      timeline: db.prepare('SELECT at, type, actor, data FROM alert_events WHERE alert_id = ? ORDER BY id'),
    };
  }

  /** (Re)read the open alerts into memory: at start, and after a rolled-back transaction. */
  load(): void {
    this.open.clear();
    this.lifecycle = [];
    for (const r of this.s.openRows.all() as Row[]) this.index(r);
  }

  private index(r: Row): void {
    if (r.status === 'resolved') this.open.delete(key(r.kind, r.subject));
    else
      this.open.set(key(r.kind, r.subject), {
        id: r.id,
        status: r.status,
        severity: r.severity,
        count: r.count,
        openedAt: r.opened_at,
        details: JSON.parse(r.details) as Record<string, unknown>,
      });
  }

  openFor(kind: AlertKind, subject: string): OpenAlert | undefined {
    return this.open.get(key(kind, subject));
  }

  get openCount(): number {
    return this.open.size;
  }

  private row(id: number): Row | undefined {
    return this.s.byId.get(id) as Row | undefined;
  }

  get(id: number): AlertView | undefined {
    const r = this.row(id);
    return r ? toView(r) : undefined;
  }

  /** Merge fields into an alert's details (a photo attached by a person), with a timeline entry. */
  mergeDetails(id: number, fields: Record<string, unknown>, now: number, type: string, actor: string, data?: Record<string, unknown>): AlertView {
    const r = this.row(id);
    if (!r) throw new AppError('SB_NOT_FOUND', `no alert ${id}`);
    this.s.update.run(r.title, JSON.stringify({ ...(JSON.parse(r.details) as Record<string, unknown>), ...fields }), now, id);
    this.event(id, now, type, actor, data);
    return this.reread(id);
  }

  /** A timeline entry from outside the lifecycle (notification attempts, escalations). */
  record(id: number, at: number, type: string, actor: string, data?: Record<string, unknown>): void {
    this.event(id, at, type, actor, data);
  }

  private event(id: number, at: number, type: string, actor: string, data?: Record<string, unknown>): void {
    this.s.event.run(id, at, type, actor, data === undefined ? null : JSON.stringify(data));
    if (LOGGED_EVENTS.has(type)) this.lifecycle.push({ alertId: id, type, actor, data });
  }

  /** The opened/reopened/escalated/resolved entries written since the last call (call after a commit). */
  takeLifecycle(): LifecycleEntry[] {
    const out = this.lifecycle;
    this.lifecycle = [];
    return out;
  }

  private reread(id: number): AlertView {
    const r = this.row(id)!;
    this.index(r);
    return toView(r);
  }

  /** Open, count a repeat of the open one, or re-open one that cleared itself within the flap hold. */
  openOrRepeat(q: OpenRequest): { alert: AlertView; created: boolean; reopened: boolean } {
    const details = JSON.stringify(q.details);
    const current = this.s.openOf.get(q.kind, q.subject) as Row | undefined;
    if (current) {
      const severity = RANK[q.severity] < RANK[current.severity] ? q.severity : current.severity;
      this.s.repeat.run(severity, q.title, details, q.now, current.id);
      this.event(current.id, q.now, 'repeated', SYSTEM, { count: current.count + 1 });
      return { alert: this.reread(current.id), created: false, reopened: false };
    }
    const last = this.s.lastOf.get(q.kind, q.subject) as Row | undefined;
    if (last && last.auto_resolved && last.resolved_at !== null && q.now - last.resolved_at <= q.flapHoldMs) {
      this.s.reopen.run(q.severity, q.title, details, q.now, last.id);
      this.event(last.id, q.now, 'reopened', SYSTEM, { clearedAt: iso(last.resolved_at), count: last.count + 1 });
      return { alert: this.reread(last.id), created: false, reopened: true };
    }
    const id = Number(
      this.s.insert.run({
        kind: q.kind,
        subject: q.subject,
        severity: q.severity,
        communityId: q.place.communityId,
        gridId: q.place.gridId,
        deviceId: q.place.deviceId ?? null,
        householdId: q.place.householdId ?? null,
        spaceId: q.place.spaceId ?? null,
        plate: q.place.plate ?? null,
        title: q.title,
        details,
        now: q.now,
      }).lastInsertRowid,
    );
    this.event(id, q.now, 'opened', q.actor ?? SYSTEM, { severity: q.severity, title: q.title });
    return { alert: this.reread(id), created: true, reopened: false };
  }

  /** New details (and title) on the open alert, without counting a repeat. */
  update(kind: AlertKind, subject: string, details: Record<string, unknown>, title: string | undefined, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    const r = this.row(a.id)!;
    this.s.update.run(title ?? r.title, JSON.stringify(details), now, a.id);
    return this.reread(a.id);
  }

  /** A rule's automatic resolution, with its reason on the timeline. */
  resolveAuto(kind: AlertKind, subject: string, reason: string, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    this.s.resolve.run(reason, SYSTEM, 1, now, now, a.id);
    this.event(a.id, now, 'resolved', SYSTEM, { reason, auto: true });
    return this.reread(a.id);
  }

  note(kind: AlertKind, subject: string, note: string, data: Record<string, unknown> | undefined, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    this.s.touch.run(now, a.id);
    this.event(a.id, now, 'note', SYSTEM, { note, ...data });
    return this.reread(a.id);
  }

  /** A person's lifecycle move (the caller checked the grid); 409 on an illegal one. */
  transition(id: number, t: Transition, actor: string, body: { assignee?: string; note?: string; score?: number; comment?: string }, now: number): AlertView {
    const r = this.row(id);
    if (!r) throw new AppError('SB_NOT_FOUND', `no alert ${id}`);
    const m = move(t, r.status);
    if (t === 'accept' && r.assignee && r.assignee !== actor)
      throw new AppError('SB_NOT_ASSIGNEE', `alert ${id} was dispatched to ${r.assignee}; only they accept it`);
    if (t === 'rate') {
      if (r.rating) throw new AppError('SB_ALREADY_RATED', `alert ${id} is already rated`);
      const rating = { score: body.score!, comment: body.comment, by: actor, at: iso(now) };
      this.s.rate.run(JSON.stringify(rating), now, id);
      this.event(id, now, m.event, actor, { score: body.score, comment: body.comment });
    } else if (t === 'resolve') {
      this.s.resolve.run(body.note ?? null, actor, 0, now, now, id);
      this.event(id, now, m.event, actor, body.note ? { note: body.note } : undefined);
    } else {
      this.s.status.run(m.to, t === 'dispatch' ? body.assignee : null, now, id);
      this.event(id, now, m.event, actor, t === 'dispatch' ? { assignee: body.assignee } : undefined);
    }
    return this.reread(id);
  }

  timeline(id: number): TimelineEntry[] {
    return (this.s.timeline.all(id) as Array<{ at: number; type: string; actor: string; data: string | null }>).map((e) => ({
      at: iso(e.at),
      type: e.type,
      actor: e.actor,
      ...(e.data ? { data: JSON.parse(e.data) as Record<string, unknown> } : {}),
    }));
  }

  /** Alerts of these kinds a household filed: opened since `since` (epoch ms), and not yet resolved. */
  filedBy(householdId: string, kinds: readonly string[], since: number): { since: number; unresolved: number } {
    const marks = kinds.map(() => '?').join(',');
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(opened_at >= ?), 0) AS since, COALESCE(SUM(status <> 'resolved'), 0) AS unresolved
         FROM alerts WHERE household_id = ? AND kind IN (${marks})`,
      )
      .get(since, householdId, ...kinds) as { since: number; unresolved: number };
    return row;
  }

  /** Newest first (by openedAt, then id), in the caller's grids. */
  list(f: ListFilter): AlertView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status?.length) {
      where.push(`status IN (${f.status.map(() => '?').join(',')})`);
      args.push(...f.status);
    }
    if (f.kind) (where.push('kind = ?'), args.push(f.kind));
    if (f.kinds) {
      if (f.kinds.length === 0) return [];
      where.push(`kind IN (${f.kinds.map(() => '?').join(',')})`);
      args.push(...f.kinds);
    }
    if (f.deviceId) (where.push('device_id = ?'), args.push(f.deviceId));
    if (f.gridId) (where.push('grid_id = ?'), args.push(f.gridId));
    if (f.grids !== 'all') {
      if (f.grids.size === 0) return [];
      where.push(`grid_id IN (${[...f.grids].map(() => '?').join(',')})`);
      args.push(...f.grids);
    }
    if (f.households) {
      if (f.households.size === 0) return [];
      where.push(`household_id IN (${[...f.households].map(() => '?').join(',')})`);
      args.push(...f.households);
    }
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Row[]).map(toView);
  }
}
