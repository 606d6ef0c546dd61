// The store: one unit of work (`transaction`) and one repository per aggregate. This file is the whole seam;
// the SQLite adapter (src/store/sqlite/) is the first implementation and a PostgreSQL adapter the next
// (issue 16). Outside src/store nothing writes SQL or imports a database driver
// (tests/unit/store-boundary.test.ts).
//
// Sync and async (docs/seams.md "Store"):
//   - Commands and the working set are synchronous. `transaction(fn)` runs `fn` as one unit of work; `fn` is
//     synchronous and never awaits, and every write method below is called inside one. SQLite applies the
//     writes at once (BEGIN … COMMIT around `fn`, a SAVEPOINT when nested), so the ingest hot path runs as it
//     always has: one transaction per batch, no promise per message. An adapter whose driver is asynchronous
//     gathers the unit's writes and commits them in one round trip when `fn` returns; `durable()` resolves
//     once every unit returned so far is committed. Anything that must not be acknowledged before its commit
//     (a QoS 1 PUBACK after the inbox write, a 201 after a filed report) awaits `durable()`; for SQLite it is
//     already settled.
//   - The synchronous reads (marked "working set") are what the hot path and the rule engine consult while
//     deciding: open alerts, rule state, deadlines, device state, visitors, recent absences. They are small,
//     and an async adapter answers them from what it loaded for the communities it owns (`open`), keeping
//     its copy current with its own writes.
//   - Queries (lists, history, reports, the digest) return Promises: callers are the API, jobs and care code,
//     off the hot path, and may await. So do the maintenance deletes (`keepNewest`, `sweep`, `prune`): each is
//     a unit of work of its own, called outside `transaction`, answering how many rows went.
//
// No SQLite-only semantics cross this seam: ids are numbers the adapter allocates and hands back at once
// (SQLite: INTEGER PRIMARY KEY; PostgreSQL: a sequence reserved ahead in blocks), "did it happen" is a
// boolean, "how many went" a count; no rowids, no `changes`, no JSON functions, no INSERT OR IGNORE.
// Times are epoch milliseconds (the app's clock unless a field says wall time).
import type { DeviceKindName } from '../config/schema.js';
import type { AlertKind, AlertStatus, Severity } from '../alerts/types.js';

/** The unit of work and every repository. */
export interface Store {
  /**
   * Run `fn` as one unit of work: all of its writes commit together or none do. A nested call is a unit of
   * its own inside the outer one (a savepoint): if `fn` throws, only its writes are undone, and the error
   * goes on to the caller.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Resolves when every unit of work that has returned is committed; undefined when they all are already
   * (SQLite, always), so the hot path acknowledges without waiting a turn. `await store.durable()` works either way.
   */
  durable(): Promise<void> | undefined;
  /** Whether a failed write may succeed if tried again later (busy, full, disconnected). */
  isTransient(err: unknown): boolean;
  /** False once closed (a sweep between chunks stops). */
  readonly isOpen: boolean;

  readonly inbox: InboxRepo;
  readonly rejections: RejectionsRepo;
  readonly deliveries: DeliveriesRepo;
  readonly deviceState: DeviceStateRepo;
  readonly readings: ReadingsRepo;
  readonly telemetryQueue: TelemetryQueueRepo;
  readonly ruleState: RuleStateRepo;
  readonly deadlines: DeadlinesRepo;
  readonly alerts: AlertsRepo;
  readonly outbox: OutboxRepo;
  readonly phone: PhoneRepo;
  readonly ackTokens: AckTokensRepo;
  readonly careVisits: CareVisitsRepo;
  readonly absences: AbsencesRepo;
  readonly visitors: VisitorsRepo;
  readonly devices: DevicesRepo;
  readonly photos: PhotosRepo;
  readonly residentInvites: ResidentInvitesRepo;
}

// ── ingest ────────────────────────────────────────────────────────────────────────────────────────────────

/** A QoS 1 message, stored before its PUBACK and removed in the unit that processes it. */
export interface InboxMessage {
  id: number;
  deviceId: string;
  topic: string;
  payload: Buffer;
  receivedAt: number;
}

export interface InboxRepo {
  add(m: Omit<InboxMessage, 'id'>): number;
  remove(id: number): void;
  /** Messages left by a crash, oldest first (read at start). */
  left(): InboxMessage[];
}

export interface Rejection {
  id: number;
  deviceId: string | null;
  communityId: string | null;
  topic: string;
  code: string;
  message: string;
  payload: Buffer;
  payloadBytes: number;
  receivedAt: number;
}

export interface RejectionsRepo {
  /** Keep a rejection; its id. */
  add(r: Omit<Rejection, 'id'>): number;
  /** Keep the newest `max`; the number deleted (a unit of its own, outside `transaction`). */
  keepNewest(max: number): Promise<number>;
  /** Newest first; only of these devices when given (an empty list gives none). */
  list(q: { deviceIds?: readonly string[]; limit: number }): Promise<Rejection[]>;
}

/**
 * A QoS 1 message from an external broker's persistent session (src/ingest/pipeline.ts "Exactly once"): the
 * session, the packet id the broker gave it, and a hash of its topic and payload.
 */
export interface DeliveryRecord {
  session: string;
  packetId: number;
  hash: string;
}

export interface DeliveriesRepo {
  /**
   * Remember a delivery, in the unit of work that commits its message (the inbox write, or the fast lane's
   * processing); it replaces the session's earlier record with the same packet id (the broker reuses a packet
   * id only once the message that had it was acknowledged).
   */
  record(d: DeliveryRecord): void;
  /**
   * Whether this delivery — same session, packet id and hash — is among the session's latest `window`
   * records (a redelivery of a message committed before a crash). Working set: asked on a redelivery only.
   */
  recorded(d: DeliveryRecord, window: number): boolean;
  /**
   * Make the session's records current for `recorded` before this instance resumes the session (another
   * instance may have recorded deliveries in it since this one opened). An adapter holding a copy in memory
   * reads them from the database; SQLite, the only writer of its file, has nothing to do.
   */
  load(session: string): Promise<void>;
}

export interface DeviceStateRepo {
  /** Every persisted device state (working set, read at start and after a rolled-back batch). */
  all(): Array<{ deviceId: string; state: unknown }>;
  put(deviceId: string, state: unknown, at: number): void;
}

/** A reading as stored for history (the SQLite telemetry sink). */
export interface StoredReading {
  deviceId: string;
  ts: number;
  receivedAt: number;
  type: string;
  payload: unknown;
  /** The JSON text of `payload` when known (the text a canonical payload was parsed from): stored as is. */
  payloadText?: string;
}

/** A payload field of stored readings over time. */
export interface FieldSample<V = unknown> {
  ts: number;
  value: V;
}

export interface ReadingsRepo {
  add(r: StoredReading): void;
  /** Delete up to `limit` readings with event time before `before`; the number deleted (a unit of its own). */
  sweep(before: number, limit: number): Promise<number>;
  /** A top-level payload field's values in [from, to), by time; readings without it are skipped. */
  field<V>(q: { deviceId: string; field: string; from: number; to: number; type?: string }): Promise<FieldSample<V>[]>;
  /** The newest value of the field before `before`. */
  fieldBefore<V>(q: { deviceId: string; field: string; before: number; type?: string }): Promise<FieldSample<V> | undefined>;
}

/** Line-protocol points waiting for InfluxDB, queued with the readings that made them. */
export interface TelemetryQueueRepo {
  add(lines: string, points: number, bytes: number): void;
  /** The oldest `limit` entries. */
  next(limit: number): Array<{ id: number; lines: string; points: number; bytes: number }>;
  /** Remove every entry up to and including `id` (taken by the server). */
  doneUpTo(id: number): void;
  totals(): { entries: number; points: number; bytes: number };
}

// ── rules and deadlines ─────────────────────────────────────────────────────────────────────────────────────

export interface RuleStateRepo {
  get(rule: string, subject: string): unknown;
  put(rule: string, subject: string, state: unknown, at: number): void;
  delete(rule: string, subject: string): void;
  all(rule: string): Array<{ subject: string; state: unknown }>;
  /** Latest `at` of any state (the replay clock's floor), undefined when there is none. */
  newest(): number | undefined;
}

export interface Deadline {
  key: string;
  due: number;
}

export interface DeadlinesRepo {
  all(): Deadline[];
  upsert(key: string, due: number): void;
  delete(key: string): void;
  /** Delete the deadline if it still has this due time; true if it did (the caller owns the firing). */
  claim(key: string, due: number): boolean;
}

// ── alerts ────────────────────────────────────────────────────────────────────────────────────────────────

export interface AlertRecord {
  id: number;
  kind: AlertKind;
  subject: string;
  severity: Severity;
  status: AlertStatus;
  communityId: string;
  gridId: string;
  deviceId: string | null;
  householdId: string | null;
  spaceId: string | null;
  plate: string | null;
  title: string;
  details: Record<string, unknown>;
  count: number;
  assignee: string | null;
  resolution: string | null;
  resolvedBy: string | null;
  autoResolved: boolean;
  rating: Record<string, unknown> | null;
  openedAt: number;
  updatedAt: number;
  resolvedAt: number | null;
}

export interface AlertEvent {
  alertId: number;
  at: number;
  type: string;
  actor: string;
  data?: Record<string, unknown>;
}

export interface AlertFilter {
  status?: readonly AlertStatus[];
  kinds?: readonly string[];
  deviceId?: string;
  gridIds?: readonly string[];
  householdIds?: readonly string[];
  limit: number;
}

export interface AlertsRepo {
  get(id: number): AlertRecord | undefined;
  /** Every alert not resolved (working set). */
  open(): AlertRecord[];
  openOf(kind: AlertKind, subject: string): AlertRecord | undefined;
  /** The newest alert of (kind, subject), resolved or not. */
  lastOf(kind: AlertKind, subject: string): AlertRecord | undefined;
  /** A new open alert; its id. */
  insert(a: Omit<AlertRecord, 'id' | 'status' | 'count' | 'assignee' | 'resolution' | 'resolvedBy' | 'autoResolved' | 'rating' | 'updatedAt' | 'resolvedAt'>): number;
  /** Change these fields of the alert. */
  update(id: number, fields: Partial<Omit<AlertRecord, 'id' | 'kind' | 'subject'>>): void;
  addEvent(e: AlertEvent): void;
  /** Latest updatedAt of any alert, undefined when there is none. */
  newestUpdate(): number | undefined;
  /** Ids of a household's alerts in status `open`, oldest first. */
  openIdsOfHousehold(householdId: string): number[];
  /** The alert's timeline, in order (permission checks read it while deciding: working set). */
  timeline(id: number): AlertEvent[];
  /** Newest first (opened, then id). */
  list(f: AlertFilter): Promise<AlertRecord[]>;
  /** Alerts of these kinds a household filed: opened since `since`, and not resolved (checked while filing). */
  filedBy(householdId: string, kinds: readonly string[], since: number): { since: number; unresolved: number };
  /** Unresolved alerts per household. */
  openCountByHousehold(): Promise<Map<string, number>>;
  /**
   * A community's alerts of these grids alive in [from, to] (opened by `to`, and not resolved before `from`,
   * or rated after it), with their timeline entries of these types up to `to`: what the digest reads.
   */
  window(q: { communityId: string; gridIds: readonly string[]; from: number; to: number; types: readonly string[] }): Promise<{
    alerts: AlertRecord[];
    events: AlertEvent[];
  }>;
}

// ── notifications ─────────────────────────────────────────────────────────────────────────────────────────

/** A queued notice (the notifier writes it in the unit that changed its alert). Wall times unless said. */
export interface OutboxRow {
  id: number;
  alertId: number | null;
  destination: string;
  notice: string;
  /** App-clock time it may go (quiet hours). */
  dueAt: number;
  attempts: number;
  createdAt: number;
}

export interface OutboxRepo {
  enqueue(e: { alertId: number | null; destination: string; notice: string; dueAt: number; createdAt: number }): number;
  /**
   * Pending rows due by `appNow` and past their retry time at `wallNow`, oldest first, at most `perDestination` of
   * each — only rows whose unit has committed (an asynchronous adapter hands a row out once `durable()` has seen
   * its unit through), so a notice never goes out for an alert change the server could still refuse.
   */
  due(q: { appNow: number; wallNow: number; destinations: 'chat' | 'phone'; perDestination: number; limit: number }): OutboxRow[];
  /** When each chat destination's next pending row may go. */
  nextPerDestination(): Array<{ destination: string; at: number }>;
  sent(id: number, at: number): void;
  retry(id: number, nextTryAt: number, error: string): void;
  failed(id: number, error: string): void;
  recordAttempt(a: { alertIds: number[]; outboxIds: number[]; destination: string; channel: string; ok: boolean; reason: string | null; merged: number; at: number }): void;
  /** Delete rows sent before `before` whose alert is resolved (or that belong to none); the number deleted (a unit of its own). */
  prune(before: number): Promise<number>;
}

export interface PhoneMessage {
  id: number;
  outboxId: number;
  alertId: number | null;
  channel: string;
  provider: string;
  number: string;
  ref: string | null;
  sentAt: number;
  context: string;
}

export interface ContactLink {
  code: string;
  alertId: number;
  purpose: 'ask' | 'ack';
  who: string;
  expiresAt: number;
  usedAt: number | null;
  answer: string | null;
}

/** Texts and calls the platforms accepted (their receipts and limits), and the one-tap pages texted out. */
export interface PhoneRepo {
  add(m: Omit<PhoneMessage, 'id'> & { status: string; detail: string | null; nextPollAt: number | null; doneAt: number | null }): void;
  /** Messages to this number on this channel sent after `since` (of this alert when given). */
  countSince(q: { number: string; channel: string; since: number; alertId?: number }): number;
  /** Accepted messages whose receipt is due by `at`. */
  awaitingReceipt(at: number, limit: number): PhoneMessage[];
  /** Final state of an accepted message; false if it was no longer awaiting one. */
  finish(id: number, status: string, detail: string | null, at: number): boolean;
  pollLater(id: number, at: number): void;
  addLink(l: Omit<ContactLink, 'usedAt' | 'answer'> & { createdAt: number }): void;
  link(code: string): ContactLink | undefined;
  /** Mark the link used with this answer; false if it was used already. */
  useLink(code: string, at: number, answer: string): boolean;
  /** An unanswered, unexpired 'ask' page to `who` about a household's open alert: that alert's id. */
  openAsk(who: string, now: number, householdId: string): number | undefined;
}

/** Acknowledgement links used once (src/api/ack.ts). */
export interface AckTokensRepo {
  used(jti: string): boolean;
  /** Mark it used; false if it was already. */
  use(jti: string, at: number): boolean;
}

// ── care ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface CareVisitRecord {
  id: number;
  householdId: string;
  communityId: string;
  gridId: string;
  by: string;
  at: number;
  note?: string;
  loggedAt: number;
}

export interface CareVisitsRepo {
  add(v: Omit<CareVisitRecord, 'id'>): number;
  last(householdId: string): CareVisitRecord | undefined;
  recent(householdId: string, limit: number): Promise<CareVisitRecord[]>;
  /** Each household's newest visit after `after` (working set). */
  lastEach(after: number): Map<string, number>;
  /** Delete visits before `before`; the number deleted (a unit of its own). */
  prune(before: number): Promise<number>;
}

export interface AbsenceRecord {
  id: number;
  householdId: string;
  communityId: string;
  gridId: string;
  reason: string;
  note?: string;
  from: number;
  until: number;
  createdBy: string;
  createdAt: number;
  endedAt?: number;
  endedBy?: string;
  endNote?: string;
  promptedAt?: number;
}

export interface AbsencesRepo {
  add(a: Omit<AbsenceRecord, 'id' | 'endedAt' | 'endedBy' | 'endNote' | 'promptedAt'>): number;
  get(id: number): AbsenceRecord | undefined;
  /** A household's absences ending after `after`, newest first (checked for overlaps while registering one). */
  ofHousehold(householdId: string, after: number, limit: number): AbsenceRecord[];
  /** Every household's absences ending after `after`, newest first. */
  since(after: number, limit: number): Promise<AbsenceRecord[]>;
  /** Absences ending after `after`, by household then newest first (working set). */
  live(after: number): AbsenceRecord[];
  end(id: number, at: number, by: string, note: string | null): void;
  changeUntil(id: number, until: number): void;
  /** Record the overdue notice; false if one was recorded already. */
  prompt(id: number, at: number): boolean;
  /** Delete absences that ended before `before`; the number deleted (a unit of its own). */
  prune(before: number): Promise<number>;
}

export interface VisitorRecord {
  communityId: string;
  plate: string;
  until: number;
  registeredBy: string;
  registeredAt: number;
}

export interface VisitorsRepo {
  /** Working set. */
  all(): VisitorRecord[];
  put(v: VisitorRecord): void;
}

// ── devices and residents ─────────────────────────────────────────────────────────────────────────────────

export interface ProvisionedDevice {
  id: string;
  kind: DeviceKindName;
  communityId: string;
  format: string;
  householdId?: string;
  spaceId?: string;
  gateId?: string;
  buildingId?: string;
  area?: string;
  secretHash: string;
}

/** Devices provisioned through the API or the CLI (the inventory files are never rewritten). */
export interface DevicesRepo {
  all(): ProvisionedDevice[];
  find(id: string): ProvisionedDevice | undefined;
  insert(d: ProvisionedDevice, now: number): void;
}

export interface PhotoRow {
  photo: string;
  householdId: string | null;
  alertId: number | null;
  role: PhotoRole;
}

/** A resident's report photo, the photo of a fix, or a camera's snapshot of the event (src/residents/snapshots.ts). */
export type PhotoRole = 'report' | 'resolution' | 'snapshot';

/** Who uploaded which photo and what it is attached to (src/residents/photos.ts keeps the bytes). */
export interface PhotosRepo {
  add(r: { photo: string; householdId?: string; uploadedBy: string; alertId?: number; role: PhotoRole; width: number; height: number; bytes: number; at: number }): void;
  /** Attach a household's unattached upload to its alert; false if it has no such upload. */
  attach(householdId: string, photo: string, alertId: number): boolean;
  /** A household's unattached uploads since `since`. */
  pendingSince(householdId: string, since: number): number;
  rows(photo: string): PhotoRow[];
  countOn(alertId: number, role: PhotoRole): number;
  /** Drop unattached uploads older than `before` (a unit of its own); the photos no row refers to any more. */
  sweep(before: number): Promise<string[]>;
}

/** Invite generations of households (src/residents/invites.ts): a row only once an invite was revoked. */
export interface ResidentInvitesRepo {
  generations(): Map<string, number>;
  /** Move the household's generation on; returns the new one. */
  revoke(householdId: string, at: number, by: string): number;
}
