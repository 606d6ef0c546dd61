// Sends the texts and calls queued in the durable outbox (destinations phone:sms and phone:call, written in the
// alert's transaction like every notification: after a crash what was committed and not sent goes out once at
// the next start), and follows each accepted one to its receipt by polling the platform.
//
// One at a time, in due order: the per-number limits are counted from what the platforms accepted
// (phone_messages), so a storm of alarms cannot push a number past them — past a limit a send is skipped and
// the skip is on the alert's timeline (the chat groups still carry the alert). A call is never placed twice
// about one alert to one number within `sameAlertMinutes`; a call whose request went out and got no answer
// (a timeout) is not retried, since it may have rung. Everything else that fails for a reason that heals (5xx,
// a busy platform, a minute-level limit) is retried with doubling backoff for up to `retry.maxMinutes`.
import type { Logger } from 'pino';
import type { OutboxRow, PhoneMessage, Store } from '../../store/store.js';
import type { Clock } from '../../clock/clock.js';
import type { Metrics } from '../../metrics.js';
import type { AlertView } from '../../alerts/types.js';
import type { PhoneSettings, Template } from './config.js';
import type { PendingReceipt, PhoneProvider, Receipt, SendResult } from './providers.js';
import type { Provider } from './schema.js';
import { maskPhone } from './mask.js';

export type PhoneChannel = 'sms' | 'call';
export const PHONE_DESTINATION: Record<PhoneChannel, string> = { sms: 'phone:sms', call: 'phone:call' };

/** One text or call, as queued in the outbox (`notice` column). */
export interface PhoneNotice {
  alertId: number;
  channel: PhoneChannel;
  number: string;
  /** Who this is, for the timeline: duty, family, neighbour … */
  to: string;
  /** A person id, or household:index for a contact. */
  who: string;
  purpose: 'alert' | 'ask';
  /** Template values, filled when queued. */
  values: Record<string, string>;
  /** The phone step (index in the kind's route) that sent it. */
  step: number;
  /** Position in the step's call chain (contacts called one after another). */
  chain?: number;
}

/** What the timeline and the flows hear about one text or call. */
export interface PhoneEvent {
  notice: PhoneNotice;
  outcome: 'accepted' | 'delivered' | 'undelivered' | 'answered' | 'no_answer' | 'unknown' | 'failed' | 'limited' | 'duplicate' | 'cancelled';
  provider?: Provider;
  ref?: string;
  code?: string;
  reason?: string;
  /** A failed send that will be tried again. */
  retrying?: boolean;
  attempt?: number;
}

export interface PhoneDelivererDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  settings: PhoneSettings;
  providers: Map<Provider, PhoneProvider>;
  alert(id: number): AlertView | undefined;
  /** Inside the transaction that records the outcome: the timeline, and what follows (the next contact). */
  onEvent(e: PhoneEvent): void;
  /** After that transaction commits (kick the queue). */
  afterEvents(): void;
  hold?: () => boolean;
}

type Row = OutboxRow;

const HOUR = 3_600_000;

export class PhoneDeliverer {
  private timer?: NodeJS.Timeout;
  private receiptTimer?: NodeJS.Timeout;
  private running = false;
  private busy?: Promise<void>;
  private polling?: Promise<void>;
  private again = false;
  private readonly s;

  constructor(private readonly deps: PhoneDelivererDeps) {
    this.s = deps.store;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
    this.scheduleReceipts(this.pollMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.receiptTimer);
    await Promise.allSettled([this.busy, this.polling]);
  }

  kick(): void {
    if (this.running) this.schedule(0);
  }

  private get pollMs(): number {
    return this.deps.settings.receipts.pollSeconds * 1000;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private scheduleReceipts(ms: number): void {
    clearTimeout(this.receiptTimer);
    this.receiptTimer = setTimeout(() => void this.pollReceipts(), ms);
    this.receiptTimer.unref();
  }

  /** Send what is due, one at a time; a kick while busy runs another pass right after. */
  async tick(): Promise<void> {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = this.pass().finally(() => (this.busy = undefined));
    await this.busy;
    if (this.running) this.schedule(this.again ? 0 : 250);
    this.again = false;
  }

  private async pass(): Promise<void> {
    try {
      if (this.deps.hold?.()) return;
      const rows = this.s.outbox.due({ appNow: this.deps.clock.now(), wallNow: Date.now(), destinations: 'phone', perDestination: 50, limit: 50 });
      for (const row of rows) {
        if (!this.running) return;
        await this.one(row);
      }
    } catch (err) {
      this.deps.log.error({ err }, 'phone delivery pass failed');
    }
  }

  private async one(row: Row): Promise<void> {
    const n = JSON.parse(row.notice) as PhoneNotice;
    const { settings } = this.deps;
    const wall = Date.now();
    const alert = this.deps.alert(n.alertId);
    // Still wanted? A text held for the morning or a call down a chain is no use once someone took the job.
    if (!alert || alert.status !== 'open') return this.settle(row, n, { outcome: 'cancelled', reason: alert ? `alert is ${alert.status}` : 'alert gone' }, 'failed');
    const limits = n.channel === 'sms' ? settings.limits.sms : settings.limits.call;
    const sameMinutes = settings.limits.call.sameAlertMinutes;
    if (this.s.phone.countSince({ number: n.number, channel: n.channel, alertId: n.alertId, since: wall - sameMinutes * 60_000 }) > 0)
      return this.settle(row, n, { outcome: 'duplicate', reason: `already ${n.channel === 'call' ? 'called' : 'texted'} about this alert within ${sameMinutes} min` }, 'failed');
    const lastHour = this.s.phone.countSince({ number: n.number, channel: n.channel, since: wall - HOUR });
    const lastDay = this.s.phone.countSince({ number: n.number, channel: n.channel, since: wall - 24 * HOUR });
    if (lastHour >= limits.perNumberPerHour || lastDay >= limits.perNumberPerDay)
      return this.settle(row, n, { outcome: 'limited', reason: lastHour >= limits.perNumberPerHour ? `${limits.perNumberPerHour} per hour reached` : `${limits.perNumberPerDay} per day reached` }, 'failed');

    const cfg = n.channel === 'sms' ? settings.sms : settings.call;
    const provider = cfg ? this.deps.providers.get(cfg.provider) : undefined;
    if (!cfg || !provider) return this.settle(row, n, { outcome: 'failed', reason: `no ${n.channel} provider configured` }, 'failed');
    const template = (cfg.templates as Record<string, Template | undefined>)[n.purpose] as Template;
    const message = { number: n.number, template, values: n.values, outId: String(row.id) };
    let result: SendResult;
    try {
      result =
        n.channel === 'sms'
          ? await provider.sendSms(message, settings.sms!.signName)
          : await provider.call!(message, { calledShowNumber: settings.call!.calledShowNumber, playTimes: settings.call!.playTimes });
    } catch (err) {
      result = { ok: false, kind: 'retry', code: 'Error', message: (err as Error).message };
    }
    const at = Date.now();
    const base = { provider: cfg.provider, attempt: row.attempts + 1 };
    if (result.ok) {
      this.deps.metrics.notifications.inc({ channel: n.channel, result: 'sent' });
      return this.settle(row, n, { ...base, outcome: 'accepted', ref: result.ref }, 'sent', () =>
        this.s.phone.add({ outboxId: row.id, alertId: n.alertId, channel: n.channel, provider: cfg.provider, number: n.number, ref: result.ref, status: 'accepted', detail: null, sentAt: at, nextPollAt: at + this.pollMs, doneAt: null, context: JSON.stringify(n) }),
      );
    }
    this.deps.metrics.notifications.inc({ channel: n.channel, result: result.kind === 'limited' ? 'limited' : 'failed' });
    this.deps.log.warn({ channel: n.channel, to: maskPhone(n.number), alertId: n.alertId, code: result.code, kind: result.kind }, `${n.channel} not sent: ${result.message}`);
    if (result.kind === 'retry') {
      const backoff = Math.min(settings.retry.capSeconds * 1000, settings.retry.baseSeconds * 1000 * 2 ** row.attempts);
      const next = at + (result.retryAfterMs ?? backoff / 2 + Math.random() * (backoff / 2));
      if (next - row.createdAt <= settings.retry.maxMinutes * 60_000)
        return this.settle(row, n, { ...base, outcome: 'failed', code: result.code, reason: result.message, retrying: true }, { retryAt: next });
      return this.settle(row, n, { ...base, outcome: 'failed', code: result.code, reason: `${result.message} (gave up after ${settings.retry.maxMinutes} min)` }, 'failed');
    }
    if (result.kind === 'unknown')
      // It may have rung: counted against the limits, never retried, and down a chain treated as not answered.
      return this.settle(row, n, { ...base, outcome: 'unknown', code: result.code, reason: result.message }, 'sent', () =>
        this.s.phone.add({ outboxId: row.id, alertId: n.alertId, channel: n.channel, provider: cfg.provider, number: n.number, ref: null, status: 'unknown', detail: result.code, sentAt: at, nextPollAt: null, doneAt: at, context: JSON.stringify(n) }),
      );
    return this.settle(row, n, { ...base, outcome: result.kind === 'limited' ? 'limited' : 'failed', code: result.code, reason: result.message }, 'failed');
  }

  /** Record the outcome on the row, the timeline and whatever follows, in one transaction. */
  private settle(row: Row, n: PhoneNotice, e: Omit<PhoneEvent, 'notice'>, status: 'sent' | 'failed' | { retryAt: number }, extra?: () => void): void {
    const at = Date.now();
    this.deps.store.transaction(() => {
      if (status === 'sent') this.s.outbox.sent(row.id, at);
      else if (status === 'failed') this.s.outbox.failed(row.id, e.reason ?? e.code ?? e.outcome);
      else this.s.outbox.retry(row.id, status.retryAt, `${e.code}: ${e.reason}`);
      extra?.();
      this.deps.onEvent({ ...e, notice: n });
    });
    this.deps.afterEvents();
  }

  // ── receipts ──────────────────────────────────────────────────────────────────────────────────────────

  /** Ask the platforms about what they accepted; final states go on the timeline (and move call chains). */
  async pollReceipts(): Promise<void> {
    if (!this.running || this.polling) return;
    this.polling = this.receiptsPass().finally(() => (this.polling = undefined));
    await this.polling;
    if (this.running) this.scheduleReceipts(this.pollMs);
  }

  private async receiptsPass(): Promise<void> {
    const wall = Date.now();
    const rows = this.s.phone.awaitingReceipt(wall, 200) as Array<PhoneMessage & { channel: PhoneChannel; provider: Provider; ref: string }>;
    const groups = new Map<string, typeof rows>();
    for (const r of rows) groups.set(`${r.provider}|${r.channel}`, [...(groups.get(`${r.provider}|${r.channel}`) ?? []), r]);
    for (const [key, list] of groups) {
      const [providerName, channel] = key.split('|') as [Provider, PhoneChannel];
      const provider = this.deps.providers.get(providerName);
      const pending: PendingReceipt[] = list.map((r) => ({ ref: r.ref, number: r.number, sentAt: r.sentAt }));
      let receipts: Map<string, Receipt>;
      try {
        if (!provider) continue;
        receipts = channel === 'sms' ? await provider.smsReceipts(pending) : await provider.callReceipts!(pending);
      } catch (err) {
        this.deps.log.warn({ provider: providerName, channel, err: (err as Error).message }, 'receipt poll failed; trying again later');
        continue;
      }
      const now = Date.now();
      const giveUp = this.deps.settings.receipts.giveUpMinutes * 60_000;
      this.deps.store.transaction(() => {
        for (const r of list) {
          const rc = receipts.get(r.ref) ?? { state: 'pending' as const };
          const n = JSON.parse(r.context) as PhoneNotice;
          if (rc.state === 'pending') {
            if (now - r.sentAt < giveUp) this.s.phone.pollLater(r.id, now + this.pollMs);
            else if (this.s.phone.finish(r.id, 'unknown', 'no receipt', now))
              this.deps.onEvent({ notice: n, outcome: 'unknown', provider: providerName, ref: r.ref, reason: `no receipt within ${this.deps.settings.receipts.giveUpMinutes} min` });
            continue;
          }
          if (this.s.phone.finish(r.id, rc.state, rc.code ?? null, now))
            this.deps.onEvent({ notice: n, outcome: rc.state, provider: providerName, ref: r.ref, code: rc.code });
        }
      });
      this.deps.afterEvents();
    }
  }
}
