// Reaching the people who are not in a chat group: the daughter in another district, the neighbour who holds a
// key, the duty phone at night (DOMAIN.md §7). Per alert kind (and severity), phone steps say when a text or a
// call replaces or follows the chat message: a smoke alarm nobody acknowledged in 3 minutes calls the duty
// phones and the elder's contacts one after another (an unanswered call moves to the next contact); an elder's
// silence texts the family with a one-tap page (已联系上，平安 / 联系不上), and if nobody confirms in time a work
// order goes to the grid for a visit (the 静安 flow) — dispatched within the alert's own lifecycle.
//
// Steps are deadlines in the rule engine's persisted scheduler (`notify:ph:<alert>:<step>`), so they run on the
// event clock in replays, survive restarts and fire once; texts and calls are rows of the durable outbox,
// written in the alert's transaction (./deliverer.ts sends them and follows their receipts).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../clock/clock.js';
import type { Metrics } from '../../metrics.js';
import type { Directory, PersonInfo, HouseholdInfo } from '../../config/inventory.js';
import type { AlertDesk } from '../../alerts/engine.js';
import type { AlertKind, AlertView } from '../../alerts/types.js';
import type { Transition } from '../../alerts/lifecycle.js';
import type { Role } from '../../config/schema.js';
import { Outbox } from '../outbox.js';
import { recipients, type Route } from '../routing.js';
import { deliverAt } from '../quietHours.js';
import { localTime } from '../wording.js';
import { SEVERITY_ZH, type Notice } from '../channels/types.js';
import { KIND_ZH } from '../../jobs/digest.js';
import { roomLabel } from '../../rules/lib/place.js';
import { phoneRoutes, type PhoneCredentials, type PhoneSettings, type PhoneStep } from './config.js';
import { createProviders, type PhoneProvider } from './providers.js';
import { PhoneDeliverer, PHONE_DESTINATION, type PhoneChannel, type PhoneEvent, type PhoneNotice } from './deliverer.js';
import type { Provider } from './schema.js';
import { maskPhone } from './mask.js';

export type { PhoneNotice, PhoneEvent } from './deliverer.js';
export { maskPhone } from './mask.js';

/** A platform's template variables are short (Alibaba: 35 characters for notices); links are kept whole. */
const MAX_VALUE = 35;
const KEY = 'notify:ph';

interface Target {
  number: string;
  to: string;
  who: string;
  prefer: 'sms' | 'call' | 'both';
  /** Hours the contact may be reached; non-critical waits for them. */
  hours?: { from: string; to: string };
}

export interface PhoneNotifierDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  directory: Directory;
  /** Alerts and this notifier's deadlines (the alert engine's AlertDesk). */
  desk: AlertDesk;
  settings: PhoneSettings;
  credentials: PhoneCredentials;
  /** The chat routes' overrides: the duty phones are those of the staff the alert goes to. */
  chatRoutes: () => Partial<Record<AlertKind, Partial<Route>>>;
  publicUrl: string;
  utcOffsetMinutes: number;
  linkTtlMinutes: number;
  /** Tell staff in their chat groups (a work order: 请上门查看). Inside the caller's transaction. */
  tellStaff(alert: AlertView, people: Array<{ person: PersonInfo }>, now: number): void;
  /** Stop the chat escalation and reminders (the job went to the grid). */
  cancelChatFollowUps(alertId: number): void;
  hold?: () => boolean;
  /** Providers to use instead of the SDK-backed ones (none in production). */
  providers?: Map<Provider, PhoneProvider>;
}

export type LinkAnswer = 'safe' | 'unreachable' | 'ack';

export class PhoneNotifier {
  readonly routes: Partial<Record<AlertKind, PhoneStep[]>>;
  readonly deliverer: PhoneDeliverer;
  private readonly outbox: Outbox;
  private readonly s;

  constructor(private readonly deps: PhoneNotifierDeps) {
    this.routes = phoneRoutes(deps.settings);
    this.outbox = new Outbox(deps.store.outbox);
    const providers = deps.providers ?? createProviders(deps.settings, deps.credentials);
    this.deliverer = new PhoneDeliverer({
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      metrics: deps.metrics,
      settings: deps.settings,
      providers,
      alert: (id) => deps.desk.get(id),
      onEvent: (e) => this.onEvent(e),
      afterEvents: () => this.deliverer.kick(),
      hold: deps.hold,
    });
    this.s = deps.store.phone;
  }

  /** Sending is on when texts or calls are configured. */
  get enabled(): boolean {
    return !!(this.deps.settings.sms || this.deps.settings.call);
  }

  start(): void {
    if (!this.enabled) return;
    this.deliverer.start();
    const kinds = Object.keys(this.routes);
    this.deps.log.info({ sms: this.deps.settings.sms?.provider ?? null, call: this.deps.settings.call?.provider ?? null, kinds }, 'phone notifications on');
  }

  async stop(): Promise<void> {
    await this.deliverer.stop();
  }

  kick(): void {
    if (this.enabled) this.deliverer.kick();
  }

  private steps(alert: Pick<AlertView, 'kind' | 'severity'>): Array<{ step: PhoneStep; index: number }> {
    return (this.routes[alert.kind] ?? []).map((step, index) => ({ step, index })).filter(({ step }) => !step.severities || step.severities.includes(alert.severity));
  }

  // ── alert hooks (inside the alert's transaction) ──────────────────────────────────────────────────────

  opened(alert: AlertView, now: number): void {
    if (!this.enabled) return;
    // Non-critical alerts at night: the steps wait for the end of the quiet hours and keep their spacing, so
    // the family gets its full time to answer before a work order goes out.
    const base = deliverAt(this.deps.settings.quietHours, alert.severity, now, this.deps.utcOffsetMinutes);
    for (const { step, index } of this.steps(alert)) {
      const due = base + step.afterMinutes * 60_000;
      if (due <= now) this.run(alert, step, index, now);
      else this.deps.desk.setDeadline(`${KEY}:${alert.id}:${index}`, due);
    }
  }

  transitioned(alert: AlertView, t: Transition): void {
    if (t === 'ack' || t === 'resolve' || t === 'dispatch' || t === 'accept') this.cancelSteps(alert.id, alert.kind);
  }

  /** A step's deadline (the notifier checked the alert is still open). Returns alerts it changed. */
  deadline(alert: AlertView, index: number, now: number): AlertView[] {
    const step = this.routes[alert.kind]?.[index];
    return step ? this.run(alert, step, index, now) : [];
  }

  private cancelSteps(alertId: number, kind: AlertKind): void {
    (this.routes[kind] ?? []).forEach((_, i) => this.deps.desk.cancelDeadline(`${KEY}:${alertId}:${i}`));
  }

  private run(alert: AlertView, step: PhoneStep, index: number, now: number): AlertView[] {
    if (step.visit) return this.visit(alert, step.visit.roles, now, { reason: 'no_confirmation', step: index + 1 });
    const { sms, call } = this.deps.settings;
    const duty = step.to?.includes('duty') ? this.duty(alert) : [];
    const contacts = step.to?.includes('contacts') ? this.contacts(alert, step) : [];
    let queued = 0;
    // Duty phones are staff lines: `preferred` means a call.
    for (const t of duty) queued += this.enqueue(alert, t, this.channel(step.by === 'sms' ? 'sms' : 'call'), 'alert', index, now);
    for (const t of contacts) {
      if (!this.wants(step, t).sms) continue;
      // One question at a time: a family already asked about this elder (say no_water_use, then missed_check)
      // is not asked again; their answer on the page they have covers every open alert of the household.
      const asked = step.ask ? this.s.openAsk(linkWho(t), Date.now(), alert.householdId ?? '') : undefined;
      if (asked !== undefined) {
        this.deps.desk.record(alert.id, now, 'phone', 'system', { channel: 'sms', to: t.to, number: maskPhone(t.number), purpose: 'ask', outcome: 'duplicate', step: index + 1, reason: `already asked about this household (alert ${asked})` });
        continue;
      }
      queued += this.enqueue(alert, t, 'sms', step.ask ? 'ask' : 'alert', index, now);
    }
    // Contacts to call are called one after another: the next only when the one before did not answer.
    const chain = this.callChain(alert, step);
    if (chain[0]) queued += this.enqueue(alert, chain[0], 'call', 'alert', index, now, 0);
    this.deps.desk.record(alert.id, now, 'phone_step', 'system', {
      step: index + 1,
      afterMinutes: step.afterMinutes,
      to: step.to,
      by: step.by,
      ask: step.ask,
      queued,
      ...(queued === 0 ? { reason: duty.length + contacts.length ? 'no usable channel' : 'nobody with a phone' } : {}),
    });
    if (!sms && !call) this.deps.log.warn({ alertId: alert.id }, 'phone step with no SMS or call configured');
    return [];
  }

  /** sms or call as configured: a call falls back to a text when calls are not set up, and back. */
  private channel(want: PhoneChannel): PhoneChannel {
    const { sms, call } = this.deps.settings;
    if (want === 'call' && !call && sms) return 'sms';
    if (want === 'sms' && !sms && call) return 'call';
    return want;
  }

  private wants(step: PhoneStep, t: Target): { sms: boolean; call: boolean } {
    const raw = step.by === 'preferred' ? { sms: t.prefer !== 'call', call: t.prefer !== 'sms' } : { sms: step.by === 'sms', call: step.by === 'call' };
    // What cannot be sent is sent the other way (an asking text needs SMS: never a call instead).
    const { sms, call } = this.deps.settings;
    return {
      sms: !!sms && (raw.sms || (raw.call && !call)),
      call: !!call && !step.ask && (raw.call || (raw.sms && !sms)),
    };
  }

  private callChain(alert: AlertView, step: PhoneStep): Target[] {
    return step.to?.includes('contacts') ? this.contacts(alert, step).filter((t) => this.wants(step, t).call) : [];
  }

  /** The duty phones of the staff this alert goes to (one per number). */
  private duty(alert: AlertView): Target[] {
    const seen = new Set<string>();
    const out: Target[] = [];
    for (const { person } of recipients(alert, this.deps.directory, this.deps.chatRoutes())) {
      if (!person.dutyPhone || seen.has(person.dutyPhone)) continue;
      seen.add(person.dutyPhone);
      out.push({ number: person.dutyPhone, to: 'duty', who: person.id, prefer: 'call' });
    }
    return out;
  }

  /** The household's contacts with a phone, in their listed order (the first contact first). */
  private contacts(alert: AlertView, step: PhoneStep): Target[] {
    const h = alert.householdId ? this.deps.directory.households.get(alert.householdId) : undefined;
    if (!h) return [];
    return h.careContacts
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => !!c.phone && (!step.relations || step.relations.includes(c.relation)))
      .map(({ c, i }) => ({ number: c.phone!, to: c.relation, who: `${h.id}:${i}`, prefer: c.prefer ?? 'sms', hours: c.hours }));
  }

  private enqueue(alert: AlertView, t: Target, channel: PhoneChannel, purpose: 'alert' | 'ask', step: number, now: number, chain?: number): number {
    const values = this.values(alert, now);
    // A text carries a one-tap page: the family answers whether the elder is safe; a duty phone acknowledges.
    if (channel === 'sms') {
      const code = this.link(alert.id, purpose === 'ask' ? 'ask' : 'ack', linkWho(t));
      values.code = code;
      values.link = `${this.deps.publicUrl.replace(/\/$/, '')}/c/${code}`;
    }
    const hours = t.hours ? { from: t.hours.to, to: t.hours.from } : undefined;
    const due = Math.max(now, deliverAt(hours, alert.severity, now, this.deps.utcOffsetMinutes));
    const notice: PhoneNotice = { alertId: alert.id, channel, number: t.number, to: t.to, who: t.who, purpose, values, step, ...(chain !== undefined ? { chain } : {}) };
    this.outbox.enqueue(PHONE_DESTINATION[channel], notice as unknown as Notice, due, now);
    return 1;
  }

  private values(alert: AlertView, now: number): Record<string, string> {
    const d = this.deps.directory;
    const h: HouseholdInfo | undefined = alert.householdId ? d.households.get(alert.householdId) : undefined;
    const device = alert.deviceId ? d.devices.get(alert.deviceId) : undefined;
    const cut = (s: string) => (s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s);
    return {
      community: cut(d.communities.get(alert.communityId)?.name ?? alert.communityId),
      place: cut(h ? roomLabel(h) : (device?.area ?? alert.title.split(' ')[0])),
      kind: KIND_ZH[alert.kind],
      title: cut(alert.title),
      severity: SEVERITY_ZH[alert.severity],
      time: localTime(Date.parse(alert.openedAt), this.deps.utcOffsetMinutes),
      minutes: String(Math.max(0, Math.round((now - Date.parse(alert.openedAt)) / 60_000))),
      name: cut(h?.displayName ?? ''),
    };
  }

  private link(alertId: number, purpose: 'ask' | 'ack', who: string): string {
    // 10 characters of base62-ish randomness (~59 bits): short enough for a template variable, never guessable.
    const code = randomBytes(8).toString('base64url').replace(/[-_]/g, '').slice(0, 10).padEnd(10, '0');
    // Links are used by people, in real time, whatever clock the alerts run on.
    this.s.addLink({ code, alertId, purpose, who, createdAt: Date.now(), expiresAt: Date.now() + this.deps.linkTtlMinutes * 60_000 });
    return code;
  }

  // ── outcomes (inside the deliverer's transaction) ─────────────────────────────────────────────────────

  private onEvent(e: PhoneEvent): void {
    const n = e.notice;
    const now = this.deps.clock.now();
    this.deps.desk.record(n.alertId, now, 'phone', 'system', {
      channel: n.channel,
      to: n.to,
      number: maskPhone(n.number),
      purpose: n.purpose,
      outcome: e.outcome,
      step: n.step + 1,
      ...(n.chain !== undefined ? { chain: n.chain + 1 } : {}),
      ...(e.provider ? { provider: e.provider } : {}),
      ...(e.ref ? { ref: e.ref } : {}),
      ...(e.code ? { code: e.code } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.retrying ? { retrying: true } : {}),
      ...(e.attempt ? { attempt: e.attempt } : {}),
      sentAt: new Date().toISOString(),
    });
    // An unanswered call (or one that could not be placed) moves to the next contact while the alert is open.
    const unanswered = ['no_answer', 'unknown', 'limited', 'duplicate'].includes(e.outcome) || (e.outcome === 'failed' && !e.retrying);
    if (n.channel !== 'call' || n.chain === undefined || !unanswered) return;
    const alert = this.deps.desk.get(n.alertId);
    const step = alert && this.routes[alert.kind]?.[n.step];
    if (!alert || !step || alert.status !== 'open') return;
    const next = this.callChain(alert, step)[n.chain + 1];
    if (next) this.enqueue(alert, next, 'call', 'alert', n.step, now, n.chain + 1);
    else this.deps.desk.record(alert.id, now, 'phone_chain_end', 'system', { step: n.step + 1, reason: 'no contact answered' });
  }

  // ── the work order ────────────────────────────────────────────────────────────────────────────────────

  /**
   * 请上门查看: dispatch the alert to whoever visits (the elder's paired volunteer, else the first person of the
   * roles in the grid), tell them and the roles' people in their chat groups, and stop the chat escalation.
   */
  visit(alert: AlertView, roles: Role[], now: number, why: { reason: 'no_confirmation' | 'unreachable'; step?: number; by?: string }): AlertView[] {
    if (alert.status !== 'open') return [];
    const people = recipients(alert, this.deps.directory, { [alert.kind]: { roles: [], careContacts: true, digestOnly: false } }, roles);
    const assignee =
      people.find((r) => r.via === 'care' && r.person.roles.includes('volunteer')) ??
      roles.map((role) => people.find((r) => r.via === role)).find((r) => r !== undefined);
    this.deps.desk.record(alert.id, now, 'work_order', 'system', {
      reason: why.reason,
      ...(why.step ? { step: why.step } : {}),
      ...(why.by ? { by: why.by } : {}),
      roles,
      assignee: assignee?.person.id ?? null,
      told: people.map((r) => r.person.id),
    });
    const view = assignee ? this.deps.desk.move(alert.id, 'dispatch', 'system', { assignee: assignee.person.id }, now) : alert;
    this.cancelSteps(alert.id, alert.kind);
    this.deps.cancelChatFollowUps(alert.id);
    this.deps.tellStaff(view, people, now);
    return assignee ? [view] : [];
  }

  // ── the one-tap page (src/api/contactLinks.ts) ────────────────────────────────────────────────────────

  linkInfo(code: string): { alert: AlertView; purpose: 'ask' | 'ack'; who: string; expired: boolean; used: boolean; answer?: string } | undefined {
    const r = this.s.link(code);
    const alert = r && this.deps.desk.get(r.alertId);
    if (!r || !alert) return undefined;
    return { alert, purpose: r.purpose, who: r.who, expired: r.expiresAt <= Date.now(), used: r.usedAt !== null, answer: r.answer ?? undefined };
  }

  /**
   * A person answers on the page: safe (the family reached the elder: acknowledged, the visit is off), unreachable
   * (a work order goes out now), or ack (a duty phone takes the alert). Works once per link.
   */
  answer(code: string, answer: LinkAnswer): { ok: true; alert: AlertView } | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'wrong' } {
    const info = this.linkInfo(code);
    if (!info) return { ok: false, reason: 'unknown' };
    if (info.expired) return { ok: false, reason: 'expired' };
    if ((info.purpose === 'ack') !== (answer === 'ack')) return { ok: false, reason: 'wrong' };
    if (!this.s.useLink(code, Date.now(), answer)) return { ok: false, reason: 'used' };
    const actor = info.who;
    const { desk } = this.deps;
    if (answer === 'ack') {
      if (desk.get(info.alert.id)!.status === 'open') desk.transition(info.alert.id, 'ack', actor, {});
      return { ok: true, alert: desk.get(info.alert.id)! };
    }
    // The answer is about the elder, so it covers every open alert of the household that asks the family
    // (the one this page was texted for, and any whose question was held back as a duplicate).
    const household = info.alert.householdId;
    const ids = new Set([info.alert.id]);
    if (household)
      for (const id of this.deps.store.alerts.openIdsOfHousehold(household)) {
        const a = desk.get(id);
        if (a && (this.routes[a.kind] ?? []).some((s) => s.ask)) ids.add(id);
      }
    desk.runInTransaction((now) => {
      const changed: AlertView[] = [];
      for (const id of ids) {
        const a = desk.get(id);
        if (!a) continue;
        desk.record(a.id, now, 'contact_answer', actor, { answer, note: answer === 'safe' ? '已联系上，平安' : '联系不上', ...(id !== info.alert.id ? { page: info.alert.id } : {}) });
        if (answer === 'unreachable') {
          const visitStep = (this.routes[a.kind] ?? []).find((s) => s.visit);
          changed.push(...this.visit(a, visitStep?.visit?.roles ?? ['grid_member', 'grid_head'], now, { reason: 'unreachable', by: actor }));
        }
      }
      return changed;
    });
    if (answer === 'safe') for (const id of ids) if (desk.get(id)?.status === 'open') desk.transition(id, 'ack', actor, {});
    return { ok: true, alert: desk.get(info.alert.id)! };
  }
}

/** Who a page was texted to, as the timeline and the acknowledgement name them: family:138****6948. */
function linkWho(t: Target): string {
  return `${t.to}:${maskPhone(t.number)}`;
}
