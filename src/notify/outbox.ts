// The durable outbox: a notification is a row written in the same transaction as the alert change that
// caused it, and a delivery loop sends what is due. After a crash, pending rows are sent at the next start.
//
// Pacing, not dropping: a group robot takes about 20 messages a minute (WeCom, DingTalk; DOMAIN.md §5), so
// one destination sends at most one request per `minIntervalMs` (3 s → ≤ 20 a minute), and whatever queued
// for it meanwhile is merged into that one request, up to the platform's size limit. Retries back off
// exponentially with jitter; a 200 whose body carries a non-zero errcode/code is a failure (channel.judge).
import type { Logger } from 'pino';
import type { OutboxRepo, Store } from '../store/store.js';
import type { Clock } from '../clock/clock.js';
import type { Metrics } from '../metrics.js';
import { channels, noticeText, type Destination, type Notice } from './channels/index.js';
import { KeepAliveClient } from './http.js';

export interface OutboxRow {
  id: number;
  alertId: number | null;
  destination: string;
  createdAt: number;
  notice: Notice;
  dueAt: number;
  attempts: number;
}

export interface Attempt {
  outboxIds: number[];
  alertIds: number[];
  destination: string;
  channel: Destination['type'];
  ok: boolean;
  reason?: string;
  at: number;
  merged: number;
}

export interface DeliveryOptions {
  /** Wall-clock gap between two requests to one destination; 3 s keeps a robot under 20 a minute. */
  minIntervalMs: Record<Destination['type'], number>;
  /** Keep retrying (backoff capped at backoffMaxMs) until a notice is this old; a robot throttled for 10
   *  minutes or an uplink down for an hour must not lose a smoke alarm. */
  maxAgeMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Shortest sleep between passes (a backlog is worked off at this pace; a kick wakes it at once). */
  pollMs: number;
  /** Longest sleep when nothing is known to fall due: a row queued without a kick (the daily digest) waits at most this. */
  idleMaxMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  minIntervalMs: { wecom: 3000, dingtalk: 3000, feishu: 600, webhook: 0 },
  maxAgeMs: 24 * 3_600_000,
  backoffBaseMs: 2000,
  backoffMaxMs: 5 * 60_000,
  pollMs: 250,
  idleMaxMs: 5000,
};

export class Outbox {
  constructor(private readonly repo: OutboxRepo) {}

  /** Queue a notice; call inside the transaction that changed the alert. */
  enqueue(destination: string, notice: Notice, dueAt: number, _now?: number): number {
    // created_at is wall time, like sent_at and the retry times: delivery runs in real time even when the
    // app clock is an event clock replaying another day; `dueAt` is app-clock time (quiet hours).
    return this.repo.enqueue({ alertId: notice.alertId ?? null, destination, notice: JSON.stringify(notice), dueAt, createdAt: Date.now() });
  }
}

export interface DelivererDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  destinations: Map<string, Destination>;
  options?: Partial<DeliveryOptions>;
  /** Every attempt, after it is recorded (the alert timeline, the API). */
  onAttempt?(attempt: Attempt): void;
  /** Held by the failpoint notify.afterCommit (crash tests). */
  hold?: () => boolean;
}

/** Sends due outbox rows. Wall time paces and backs off; the app clock decides what is due (quiet hours). */
export class Deliverer {
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly lastSent = new Map<string, number>();
  private readonly opts: DeliveryOptions;
  private inFlight = new Set<string>();
  private stmts;

  constructor(private readonly deps: DelivererDeps) {
    this.opts = { ...DEFAULT_DELIVERY, ...deps.options, minIntervalMs: { ...DEFAULT_DELIVERY.minIntervalMs, ...deps.options?.minIntervalMs } };
    this.stmts = deps.store.outbox;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  private readonly sending = new Set<Promise<void>>();

  /** Stop polling and wait for requests already on the wire, so their outcome is recorded before the store closes. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.sending]);
    this.http.close();
  }

  /** Destinations' connections, kept alive between requests so an alarm does not wait for a handshake. */
  private readonly http = new KeepAliveClient();
  private kicked = false;

  /**
   * Look now: an alert change just committed and queued something. From the commit itself — a microtask after
   * the transaction's synchronous work, not a timer in a later turn of the event loop (issue 11: that hop was
   * one of three ~8–10 ms waits between a smoke alarm and its request); one look for all of a batch's changes.
   */
  kick(): void {
    if (!this.running || this.kicked) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      void this.tick();
    });
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  /** One pass: group due rows by destination, send one merged request per destination that may send. */
  async tick(): Promise<void> {
    if (!this.running) return;
    try {
      if (this.deps.hold?.()) return;
      const wall = Date.now();
      // Up to 50 due rows per destination: a backlog for one paced robot must not keep another destination's
      // smoke alarm out of the selection. Texts and calls have their own sender (src/notify/phone/deliverer.ts).
      const rows = this.stmts
        .due({ appNow: this.deps.clock.now(), wallNow: wall, destinations: 'chat', perDestination: 50, limit: 100_000 })
        .map((r): OutboxRow => ({ ...r, notice: JSON.parse(r.notice) as Notice }));
      const byDest = new Map<string, OutboxRow[]>();
      for (const r of rows) byDest.set(r.destination, [...(byDest.get(r.destination) ?? []), r]);
      const sends: Promise<void>[] = [];
      for (const [destId, list] of byDest) {
        if (this.inFlight.has(destId)) continue;
        const dest = this.deps.destinations.get(destId);
        if (!dest) {
          for (const r of list) this.stmts.failed(r.id, `no destination '${destId}' in settings`);
          this.deps.log.error({ destination: destId, count: list.length }, 'notifications for an unknown destination marked failed');
          continue;
        }
        const gap = this.opts.minIntervalMs[dest.type];
        if (wall - (this.lastSent.get(destId) ?? 0) < gap) continue;
        const p = this.send(dest, list).finally(() => this.sending.delete(p));
        this.sending.add(p);
        sends.push(p);
      }
      await Promise.all(sends);
    } catch (err) {
      this.deps.log.error({ err }, 'notification delivery pass failed');
    } finally {
      if (this.running) this.schedule(this.sleep());
    }
  }

  /** Passes made (for tests and benchmarks: an idle deliverer should hardly make any). */
  passes = 0;

  /**
   * How long to sleep after a pass: until the next pending row falls due, its retry time comes or its paced
   * destination may send again — at least pollMs, at most idleMaxMs; a commit that queues something kicks it
   * awake at once. It used to look every 250 ms whatever was queued: 240 queries a minute on an idle service
   * (issue 18, "idle is idle"). On the event clock, where due times move with the messages, every pollMs.
   */
  private sleep(): number {
    this.passes++;
    const { pollMs, idleMaxMs } = this.opts;
    if (this.deps.clock.mode !== 'wall') return pollMs;
    const wall = Date.now();
    let at = wall + idleMaxMs;
    for (const r of this.stmts.nextPerDestination()) {
      // A destination with a request on the wire is looked at again when that request's pass ends.
      if (this.inFlight.has(r.destination)) continue;
      const dest = this.deps.destinations.get(r.destination);
      const paced = dest ? (this.lastSent.get(r.destination) ?? 0) + this.opts.minIntervalMs[dest.type] : 0;
      at = Math.min(at, Math.max(r.at, paced));
    }
    return Math.min(idleMaxMs, Math.max(pollMs, at - wall));
  }

  /** Merge as many notices as fit in one message, oldest first; the rest wait for the next slot. */
  private pick(dest: Destination, list: OutboxRow[]): OutboxRow[] {
    const channel = channels[dest.type];
    const picked: OutboxRow[] = [];
    for (const r of list) {
      const tryNotices = [...picked, r].map((p) => p.notice);
      const size = Buffer.byteLength(channel.build(dest, tryNotices, 0).body);
      if (picked.length > 0 && size > channel.maxBytes) break;
      picked.push(r);
    }
    // A single notice over the limit is cut to its title and link rather than never sent.
    if (picked.length === 1) {
      const n = picked[0].notice;
      if (Buffer.byteLength(channel.build(dest, [n], 0).body) > channel.maxBytes) picked[0] = { ...picked[0], notice: { ...n, lines: [] } };
    }
    return picked;
  }

  private async send(dest: Destination, list: OutboxRow[]): Promise<void> {
    const picked = this.pick(dest, list);
    const channel = channels[dest.type];
    const wall = Date.now();
    this.lastSent.set(dest.id, wall);
    this.inFlight.add(dest.id);
    const req = channel.build(dest, picked.map((p) => p.notice), wall);
    let outcome: { ok: true } | { ok: false; retryable: boolean; reason: string };
    try {
      const res = await this.http.post(req.url, req.headers, req.body, 10_000);
      outcome = channel.judge(res.status, res.text);
    } catch (err) {
      outcome = { ok: false, retryable: true, reason: (err as Error).message };
    } finally {
      this.inFlight.delete(dest.id);
    }
    const at = Date.now();
    const attempt: Attempt = {
      outboxIds: picked.map((p) => p.id),
      alertIds: [...new Set(picked.map((p) => p.alertId).filter((a): a is number => a !== null))],
      destination: dest.id,
      channel: dest.type,
      ok: outcome.ok,
      reason: outcome.ok ? undefined : outcome.reason,
      at,
      merged: picked.length,
    };
    this.deps.store.transaction(() => {
      for (const p of picked) {
        if (outcome.ok) this.stmts.sent(p.id, at);
        else if (!outcome.retryable || at - p.createdAt >= this.opts.maxAgeMs) this.stmts.failed(p.id, outcome.reason);
        else {
          const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** p.attempts);
          this.stmts.retry(p.id, at + backoff / 2 + Math.random() * (backoff / 2), outcome.reason);
        }
      }
      this.stmts.recordAttempt({ alertIds: attempt.alertIds, outboxIds: attempt.outboxIds, destination: dest.id, channel: dest.type, ok: outcome.ok, reason: attempt.reason ?? null, merged: picked.length, at });
    });
    this.deps.metrics.notifications.inc({ channel: dest.type, result: outcome.ok ? 'sent' : 'failed' }, 1);
    if (!outcome.ok) this.deps.log.warn({ destination: dest.id, reason: outcome.reason, merged: picked.length }, 'notification attempt failed');
    this.deps.onAttempt?.(attempt);
  }
}

/** For a digest or a log line: the text a channel would carry. */
export const previewText = noticeText;
