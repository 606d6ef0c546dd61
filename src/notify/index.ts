// The notifier: reach the right people about an alert, and keep at it until somebody acknowledges.
// It is one of the alert engine's AlertHooks (src/alerts/engine.ts; src/app.ts adds it): what it queues is
// written in the same transaction as the alert change (durable outbox), escalations and reminders are deadlines
// in the same persisted scheduler as the rules, set through the engine's AlertDesk (so they run on the event
// clock and survive restarts, exactly once), and a delivery loop sends what is due (src/notify/outbox.ts).
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock/clock.js';
import type { Metrics } from '../metrics.js';
import type { Directory, PersonInfo } from '../config/inventory.js';
import type { Role, Settings } from '../config/schema.js';
import type { AlertDesk, AlertHooks } from '../alerts/engine.js';
import type { AlertKind, AlertView } from '../alerts/types.js';
import { byAlertKind } from '../alerts/kinds.js';
import type { Transition } from '../alerts/lifecycle.js';
import { Outbox, Deliverer, type Attempt } from './outbox.js';
import { recipients, type Route } from './routing.js';
import { deliverAt } from './quietHours.js';
import { localTime, noticeFor, type NoticeReason } from './wording.js';
import { newAckKey, signAck } from './ackLinks.js';
import { signSnapshot } from './snapshotLinks.js';
import type { Destination, Notice } from './channels/index.js';
import { PhoneNotifier } from './phone/index.js';
import type { PhoneCredentials } from './phone/config.js';

type NotifySettings = Settings['notify'];
export interface EscalationStep {
  afterMinutes: number;
  roles: Role[];
  streetOps: boolean;
}

/** Per kind, from its declaration (src/alerts/kinds.ts; DOMAIN.md §6). */
export const DEFAULT_ESCALATION: Partial<Record<AlertKind, EscalationStep[]>> = byAlertKind('escalation');

export interface NotifierDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  directory: Directory;
  /** Alerts and the notifier's deadlines (`notify:…`): the alert engine's AlertDesk. */
  desk: AlertDesk;
  settings: NotifySettings;
  publicUrl: string;
  dataDir: string;
  /** Failpoint notify.afterCommit: queue, but do not send (crash tests). */
  hold?: () => boolean;
  /** SMS/voice platform keys (src/notify/phone); absent = no texts or calls. */
  phoneCredentials?: PhoneCredentials;
}

export class Notifier implements AlertHooks {
  readonly name = 'notify';
  readonly destinations = new Map<string, Destination & { streetOps: boolean }>();
  private readonly outbox: Outbox;
  readonly deliverer: Deliverer;
  /** Texts and calls (src/notify/phone). */
  readonly phone: PhoneNotifier;
  private ackKey = '';

  constructor(private readonly deps: NotifierDeps) {
    for (const d of deps.settings.destinations) this.destinations.set(d.id, { ...d, streetOps: d.streetOps ?? false });
    this.outbox = new Outbox(deps.store.outbox);
    this.deliverer = new Deliverer({
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      metrics: deps.metrics,
      destinations: this.destinations,
      hold: deps.hold,
      onAttempt: (a) => this.recordAttempt(a),
    });
    this.phone = new PhoneNotifier({
      store: deps.store,
      clock: deps.clock,
      log: deps.log.child({ channel: 'phone' }),
      metrics: deps.metrics,
      directory: deps.directory,
      desk: deps.desk,
      settings: deps.settings.phone,
      credentials: deps.phoneCredentials ?? {},
      chatRoutes: () => this.routes(),
      publicUrl: deps.publicUrl,
      utcOffsetMinutes: deps.settings.utcOffsetMinutes,
      linkTtlMinutes: deps.settings.ackLinkTtlMinutes,
      tellStaff: (alert, people, now) => void this.send(alert, people, 'visit', now),
      cancelChatFollowUps: (id) => this.cancelFollowUps(id),
      hold: deps.hold,
    });
  }

  /** Start delivering. The settings were checked when the configuration loaded (src/notify/check.ts). */
  start(): void {
    this.ackKey = this.loadAckKey();
    this.deliverer.start();
    this.phone.start();
  }

  async stop(): Promise<void> {
    await this.deliverer.stop();
    await this.phone.stop();
  }

  /** The key that signs acknowledge links, kept in the data dir so links survive a restart. */
  private loadAckKey(): string {
    const path = join(this.deps.dataDir, 'ack.key');
    if (existsSync(path)) {
      const key = readFileSync(path, 'utf8').trim();
      // A truncated or empty key would let anyone forge acknowledge links (and silence escalations).
      if (key.length >= 32) return key;
      this.deps.log.warn('ack.key is too short; a new one is made (earlier acknowledge links stop working)');
    }
    mkdirSync(this.deps.dataDir, { recursive: true });
    const key = newAckKey();
    // Written whole, then renamed: a crash never leaves half a key.
    writeFileSync(`${path}.tmp`, key + '\n', { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return key;
  }

  get signingKey(): string {
    return this.ackKey;
  }

  // ── AlertHooks (inside the alert's transaction) ──────────────────────────────────────────────────────

  opened(alert: AlertView, how: 'created' | 'reopened', now: number): void {
    this.phone.opened(alert, now);
    const sent = this.send(alert, recipients(alert, this.deps.directory, this.routes()), how, now);
    // Escalation and reminders only for what somebody was told about (digest-only kinds wait for the digest).
    if (sent === 0 && this.escalation(alert.kind).length === 0) return;
    const steps = this.escalation(alert.kind);
    steps.forEach((s, i) => this.deps.desk.setDeadline(`notify:esc:${alert.id}:${i}`, now + s.afterMinutes * 60_000));
    const r = this.deps.settings.reminders;
    if (sent > 0 && r.max > 0 && r.severities.includes(alert.severity))
      this.deps.desk.setDeadline(`notify:rem:${alert.id}:1`, now + r.everyMinutes * 60_000);
  }

  transitioned(alert: AlertView, t: Transition, _actor?: string, now: number = this.deps.clock.now()): void {
    if (t === 'ack' || t === 'resolve' || t === 'dispatch' || t === 'accept') this.cancelFollowUps(alert.id);
    this.phone.transitioned(alert, t);
    if (t === 'resolve') this.tellHousehold(alert, now);
  }

  /**
   * A resident's report or request resolved: its household is told in its own chat, where it has one (inventory
   * `households[].destinations`) — what was resolved, the note, and that the phone page takes the rating. Queued
   * in the resolving transaction, like every notice.
   */
  private tellHousehold(alert: AlertView, now: number): void {
    if (alert.kind !== 'resident_report' && alert.kind !== 'resident_request') return;
    const h = alert.householdId ? this.deps.directory.households.get(alert.householdId) : undefined;
    const dests = (h?.destinations ?? []).filter((d) => this.destinations.has(d));
    if (!dests.length) return;
    const d = alert.details as { categoryZh?: string; placeName?: string };
    const what = alert.kind === 'resident_request' ? '居民点单' : '随手拍';
    const notice: Notice = {
      title: `【提示】您家提交的${what}已办结`,
      lines: [
        `事项：${d.categoryZh ?? ''}${d.placeName ? ` · ${d.placeName}` : ''}`,
        ...(alert.resolution ? [`办结说明：${alert.resolution}`] : []),
        `时间：${localTime(alert.resolvedAt ? Date.parse(alert.resolvedAt) : now, this.deps.settings.utcOffsetMinutes)}`,
        '请打开居民页面查看，并为这次办理评分',
      ],
      severity: 'info',
      mentionMobiles: [],
      alertId: alert.id,
      data: { id: alert.id, kind: alert.kind, status: alert.status, householdId: alert.householdId, resolvedAt: alert.resolvedAt },
    };
    for (const dest of dests) this.outbox.enqueue(dest, notice, now, now);
    this.deps.desk.record(alert.id, now, 'household_told', 'system', { destinations: dests.length });
  }

  deadline(subject: string, _due: number, now: number): void | AlertView[] {
    const [what, idText, nText] = subject.split(':');
    const alert = this.deps.desk.get(Number(idText));
    // Stop the moment someone acknowledges (or the condition cleared itself).
    if (!alert || alert.status !== 'open') return;
    const n = Number(nText);
    if (what === 'ph') return this.phone.deadline(alert, n, now);
    const minutes = Math.round((now - Date.parse(alert.openedAt)) / 60_000);
    if (what === 'esc') {
      const step = this.escalation(alert.kind)[n];
      if (!step) return;
      const people = step.roles.length ? recipients(alert, this.deps.directory, { [alert.kind]: { roles: [], careContacts: false, digestOnly: false } }, step.roles) : [];
      const extra = step.streetOps ? [...this.destinations.values()].filter((d) => d.streetOps).map((d) => d.id) : [];
      this.send(alert, people, 'escalation', now, extra, minutes);
      this.deps.desk.record(alert.id, now, 'escalated', 'system', { step: n + 1, afterMinutes: step.afterMinutes, roles: step.roles, streetOps: step.streetOps });
    } else if (what === 'rem') {
      const r = this.deps.settings.reminders;
      this.send(alert, recipients(alert, this.deps.directory, this.routes()), 'reminder', now, [], minutes);
      if (n < r.max) this.deps.desk.setDeadline(`notify:rem:${alert.id}:${n + 1}`, now + r.everyMinutes * 60_000);
    }
  }

  committed(): void {
    const kick = () => {
      this.deliverer.kick();
      this.phone.kick();
    };
    // A store that commits asynchronously (PostgreSQL) hands rows out only once committed: look then.
    const durable = this.deps.store.durable();
    if (durable) durable.then(kick, () => {});
    else kick();
  }

  // ── queueing ─────────────────────────────────────────────────────────────────────────────────────────

  /** Queue a notice to these people's destinations (+ extra destinations); returns the rows queued. */
  /** An absence overdue (missed_check): a minor notice to whom missed_check would go — no alert, no escalation. */
  careNotice(at: { communityId: string; gridId: string; householdId: string }, title: string, lines: string[], now: number): void {
    const people = recipients({ kind: 'missed_check', severity: 'minor', ...at }, this.deps.directory, this.routes());
    this.notifyPeople(
      people.map((r) => r.person.id),
      { title, lines, severity: 'minor', mentionMobiles: [] },
      now,
    );
  }

  notifyPeople(personIds: string[], notice: Notice, now: number): number {
    const people = personIds.map((id) => this.deps.directory.people.get(id)).filter((p): p is PersonInfo => !!p);
    let queued = 0;
    for (const [dest, group] of this.byDestination(people)) {
      const due = Math.min(...group.map((p) => deliverAt(p.quietHours, notice.severity, now, this.deps.settings.utcOffsetMinutes)));
      this.outbox.enqueue(dest, { ...notice, mentionMobiles: mobiles(group) }, due, now);
      queued++;
    }
    return queued;
  }

  private send(alert: AlertView, people: Array<{ person: PersonInfo }>, reason: NoticeReason | 'created', now: number, extraDestinations: string[] = [], minutes?: number): number {
    const groups = this.byDestination(people.map((r) => r.person));
    for (const d of extraDestinations) if (!groups.has(d)) groups.set(d, []);
    let queued = 0;
    for (const [dest, group] of groups) {
      const notice = noticeFor(alert, this.deps.directory, {
        reason: reason === 'created' ? 'opened' : reason,
        mentionMobiles: mobiles(group),
        ackUrl: this.ackUrl(alert.id, dest, now),
        snapshotUrl: this.snapshotUrl(alert, dest),
        minutesUnacknowledged: minutes,
        utcOffsetMinutes: this.deps.settings.utcOffsetMinutes,
      });
      const due = group.length
        ? Math.min(...group.map((p) => deliverAt(p.quietHours, alert.severity, now, this.deps.settings.utcOffsetMinutes)))
        : now;
      this.outbox.enqueue(dest, notice, due, now);
      queued++;
    }
    if (people.length && groups.size === 0)
      this.deps.log.debug({ alertId: alert.id, people: people.length }, 'recipients have no destination; the console stream carries the alert');
    return queued;
  }

  private byDestination(people: PersonInfo[]): Map<string, PersonInfo[]> {
    const out = new Map<string, PersonInfo[]>();
    for (const p of people) for (const d of this.destinationsOf(p)) out.set(d, [...(out.get(d) ?? []), p]);
    return out;
  }

  /** A person's own destinations plus every group robot whose `reaches` takes them in. */
  destinationsOf(p: PersonInfo): Set<string> {
    const out = new Set(p.channels?.destinations ?? []);
    for (const d of this.deps.settings.destinations) {
      const r = d.reaches;
      if (!r) continue;
      if (r.communities && !r.communities.includes(p.communityId)) continue;
      if (r.grids && !r.grids.some((g) => p.grids.includes(g))) continue;
      if (r.roles && !r.roles.some((role) => p.roles.includes(role))) continue;
      if (r.people && !r.people.includes(p.id)) continue;
      out.add(d.id);
    }
    return out;
  }

  private ackUrl(alertId: number, destination: string, _now: number): string {
    // Expiry is wall time, whatever clock the alerts run on: a link is used by a person, in real time.
    const token = signAck(this.ackKey, { alertId, personId: `link:${destination}`, exp: Date.now() + this.deps.settings.ackLinkTtlMinutes * 60_000 });
    return `${this.deps.publicUrl.replace(/\/$/, '')}/ack/${token}`;
  }

  /** A link to a camera alert's snapshot for this destination, when the alert has (or awaits) one and the
   *  destination reaches the staff of its grid. */
  private snapshotUrl(alert: AlertView, destination: string): string | undefined {
    if (!alert.details.snapshot && alert.details.snapshotPending !== true) return undefined;
    if (!this.reachesGridStaff(destination, alert)) return undefined;
    const token = signSnapshot(this.ackKey, alert.id, destination, Date.now() + this.deps.settings.ackLinkTtlMinutes * 60_000);
    return `${this.deps.publicUrl.replace(/\/$/, '')}/snapshot/${token}`;
  }

  /** Whether a destination reaches at least one staff member who serves the alert's grid (not a volunteer). */
  reachesGridStaff(destination: string, alert: Pick<AlertView, 'communityId' | 'gridId'>): boolean {
    for (const p of this.deps.directory.people.values()) {
      if (p.communityId !== alert.communityId) continue;
      const staff = p.roles.some((r) => r !== 'volunteer');
      const serves = p.grids.includes(alert.gridId) || (p.grids.length === 0 && p.roles.includes('admin'));
      if (staff && serves && this.destinationsOf(p).has(destination)) return true;
    }
    return false;
  }

  private cancelFollowUps(alertId: number): void {
    const steps = this.escalation(this.deps.desk.get(alertId)?.kind ?? 'smoke');
    steps.forEach((_, i) => this.deps.desk.cancelDeadline(`notify:esc:${alertId}:${i}`));
    for (let n = 1; n <= this.deps.settings.reminders.max; n++) this.deps.desk.cancelDeadline(`notify:rem:${alertId}:${n}`);
  }

  private routes(): Partial<Record<AlertKind, Partial<Route>>> {
    return this.deps.settings.routes as Partial<Record<AlertKind, Partial<Route>>>;
  }

  private escalation(kind: AlertKind): EscalationStep[] {
    const configured = (this.deps.settings.escalation as Record<string, EscalationStep[] | undefined>)[kind];
    return configured ?? DEFAULT_ESCALATION[kind] ?? [];
  }

  private recordAttempt(a: Attempt): void {
    try {
      this.deps.store.transaction(() => {
        for (const id of a.alertIds)
          this.deps.desk.record(id, this.deps.clock.now(), 'notification', 'system', {
            destination: a.destination,
            channel: a.channel,
            ok: a.ok,
            reason: a.reason,
            merged: a.merged,
            sentAt: new Date(a.at).toISOString(),
          });
      });
    } catch (err) {
      this.deps.log.error({ err }, 'could not record a notification attempt on the alert timeline');
    }
  }
}

function mobiles(people: PersonInfo[]): string[] {
  return [...new Set(people.map((p) => p.mobile).filter((m): m is string => !!m))];
}
