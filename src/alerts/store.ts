// Alerts and their audit trail (the store's alerts repository, src/store/store.ts). One open (not resolved) alert per (kind, subject), enforced by a
// partial unique index; a repeat raises its count. A self-clearing alert that comes back within its flap hold
// re-opens the same alert. Every change writes an alert_events row with who and when.
//
// Every method writes through the caller's transaction (the ingest batch, a deadline firing, an API call), so
// an alert commits with the state that caused it. The in-memory index of open alerts makes "is one open?"
// free on the hot path; the engine reloads it if a transaction rolls back.
import type { AlertRecord, AlertsRepo } from '../store/store.js';
import { AppError } from '../errors.js';
import { move, type Transition } from './lifecycle.js';
import type { AlertKind, AlertOpening, AlertStatus, AlertView, Severity, TimelineEntry } from './types.js';
import type { OpenAlert } from '../rules/lib/types.js';

export const SYSTEM = 'system';
const RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, info: 3 };
const iso = (t: number) => new Date(t).toISOString();

export function toView(r: AlertRecord): AlertView {
  const v: AlertView = {
    id: r.id,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    communityId: r.communityId,
    gridId: r.gridId,
    title: r.title,
    details: r.details,
    count: r.count,
    openedAt: iso(r.openedAt),
    updatedAt: iso(r.updatedAt),
  };
  if (r.deviceId) v.deviceId = r.deviceId;
  if (r.householdId) v.householdId = r.householdId;
  if (r.spaceId) v.spaceId = r.spaceId;
  if (r.plate) v.plate = r.plate;
  if (r.resolvedAt !== null) v.resolvedAt = iso(r.resolvedAt);
  if (r.assignee) v.assignee = r.assignee;
  if (r.resolution) v.resolution = r.resolution;
  if (r.resolvedBy) v.resolvedBy = r.resolvedBy;
  if (r.rating) v.rating = r.rating as unknown as AlertView['rating'];
  return v;
}

export interface OpenRequest extends AlertOpening {
  kind: AlertKind;
  subject: string;
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
  /** Open alerts by kind, then subject (no key string built per lookup: openFor runs for every rule on every reading). */
  private readonly open = new Map<AlertKind, Map<string, OpenAlert>>();
  private openTotal = 0;
  /** Lifecycle entries written since the last takeLifecycle(); dropped when memory is read again after a rollback. */
  private lifecycle: LifecycleEntry[] = [];

  constructor(private readonly repo: AlertsRepo) {}

  /** (Re)read the open alerts into memory: at start, and after a rolled-back transaction. */
  load(): void {
    this.open.clear();
    this.openTotal = 0;
    this.lifecycle = [];
    for (const r of this.repo.open()) this.index(r);
  }

  private index(r: AlertRecord): void {
    let ofKind = this.open.get(r.kind);
    if (r.status === 'resolved') {
      if (ofKind?.delete(r.subject)) this.openTotal--;
      return;
    }
    if (!ofKind) this.open.set(r.kind, (ofKind = new Map()));
    if (!ofKind.has(r.subject)) this.openTotal++;
    ofKind.set(r.subject, {
        id: r.id,
        status: r.status,
        severity: r.severity,
        count: r.count,
        openedAt: r.openedAt,
        details: r.details,
      });
  }

  openFor(kind: AlertKind, subject: string): OpenAlert | undefined {
    return this.open.get(kind)?.get(subject);
  }

  get openCount(): number {
    return this.openTotal;
  }

  private row(id: number): AlertRecord | undefined {
    return this.repo.get(id);
  }

  get(id: number): AlertView | undefined {
    const r = this.row(id);
    return r ? toView(r) : undefined;
  }

  /** Merge fields into an alert's details (a photo attached by a person), with a timeline entry. */
  mergeDetails(id: number, fields: Record<string, unknown>, now: number, type: string, actor: string, data?: Record<string, unknown>): AlertView {
    const r = this.row(id);
    if (!r) throw new AppError('SB_NOT_FOUND', `no alert ${id}`);
    this.repo.update(id, { details: { ...r.details, ...fields }, updatedAt: now });
    this.event(id, now, type, actor, data);
    return this.reread(id);
  }

  /** A timeline entry from outside the lifecycle (notification attempts, escalations). */
  record(id: number, at: number, type: string, actor: string, data?: Record<string, unknown>): void {
    this.event(id, at, type, actor, data);
  }

  private event(id: number, at: number, type: string, actor: string, data?: Record<string, unknown>): void {
    this.repo.addEvent({ alertId: id, at, type, actor, ...(data === undefined ? {} : { data }) });
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
    const current = this.repo.openOf(q.kind, q.subject);
    if (current) {
      const severity = RANK[q.severity] < RANK[current.severity] ? q.severity : current.severity;
      this.repo.update(current.id, { count: current.count + 1, severity, title: q.title, details: q.details, updatedAt: q.now });
      this.event(current.id, q.now, 'repeated', SYSTEM, { count: current.count + 1 });
      return { alert: this.reread(current.id), created: false, reopened: false };
    }
    const last = this.repo.lastOf(q.kind, q.subject);
    if (last && last.autoResolved && last.resolvedAt !== null && q.now - last.resolvedAt <= q.flapHoldMs) {
      this.repo.update(last.id, {
        status: 'open',
        count: last.count + 1,
        severity: q.severity,
        title: q.title,
        details: q.details,
        updatedAt: q.now,
        resolvedAt: null,
        resolution: null,
        resolvedBy: null,
        autoResolved: false,
        rating: null,
      });
      this.event(last.id, q.now, 'reopened', SYSTEM, { clearedAt: iso(last.resolvedAt), count: last.count + 1 });
      return { alert: this.reread(last.id), created: false, reopened: true };
    }
    const id = this.repo.insert({
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
      details: q.details,
      openedAt: q.now,
    });
    this.event(id, q.now, 'opened', q.actor ?? SYSTEM, { severity: q.severity, title: q.title });
    return { alert: this.reread(id), created: true, reopened: false };
  }

  /** New details (and title) on the open alert, without counting a repeat. */
  update(kind: AlertKind, subject: string, details: Record<string, unknown>, title: string | undefined, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    const r = this.row(a.id)!;
    this.repo.update(a.id, { title: title ?? r.title, details, updatedAt: now });
    return this.reread(a.id);
  }

  /** A rule's automatic resolution, with its reason on the timeline. */
  resolveAuto(kind: AlertKind, subject: string, reason: string, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    this.repo.update(a.id, { status: 'resolved', resolution: reason, resolvedBy: SYSTEM, autoResolved: true, resolvedAt: now, updatedAt: now });
    this.event(a.id, now, 'resolved', SYSTEM, { reason, auto: true });
    return this.reread(a.id);
  }

  note(kind: AlertKind, subject: string, note: string, data: Record<string, unknown> | undefined, now: number): AlertView | undefined {
    const a = this.openFor(kind, subject);
    if (!a) return undefined;
    this.repo.update(a.id, { updatedAt: now });
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
      this.repo.update(id, { rating, updatedAt: now });
      this.event(id, now, m.event, actor, { score: body.score, comment: body.comment });
    } else if (t === 'resolve') {
      this.repo.update(id, { status: 'resolved', resolution: body.note ?? null, resolvedBy: actor, autoResolved: false, resolvedAt: now, updatedAt: now });
      this.event(id, now, m.event, actor, body.note ? { note: body.note } : undefined);
    } else {
      this.repo.update(id, { status: m.to, ...(t === 'dispatch' && body.assignee !== undefined ? { assignee: body.assignee } : {}), updatedAt: now });
      this.event(id, now, m.event, actor, t === 'dispatch' ? { assignee: body.assignee } : undefined);
    }
    return this.reread(id);
  }

  timeline(id: number): TimelineEntry[] {
    return this.repo.timeline(id).map((e) => ({
      at: iso(e.at),
      type: e.type,
      actor: e.actor,
      ...(e.data ? { data: e.data } : {}),
    }));
  }

  /** Alerts of these kinds a household filed: opened since `since` (epoch ms), and not yet resolved. */
  filedBy(householdId: string, kinds: readonly string[], since: number): { since: number; unresolved: number } {
    return this.repo.filedBy(householdId, kinds, since);
  }

  /** Newest first (by openedAt, then id), in the caller's grids. */
  async list(f: ListFilter): Promise<AlertView[]> {
    const kinds = f.kind ? (f.kinds ? f.kinds.filter((k) => k === f.kind) : [f.kind]) : f.kinds;
    const rows = await this.repo.list({
      status: f.status,
      kinds,
      deviceId: f.deviceId,
      gridIds: f.gridId ? (f.grids === 'all' || f.grids.has(f.gridId) ? [f.gridId] : []) : f.grids === 'all' ? undefined : [...f.grids],
      householdIds: f.households ? [...f.households] : undefined,
      limit: f.limit,
    });
    return rows.map(toView);
  }
}
