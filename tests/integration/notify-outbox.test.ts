// The outbox against real SQLite and a local robot receiver that enforces the 20-a-minute limit itself.
import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { openDb, type Db } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { WallClock } from '../../src/clock/clock.js';
import { createMetrics } from '../../src/metrics.js';
import { Outbox, Deliverer, type Attempt } from '../../src/notify/outbox.js';
import type { Destination, Notice } from '../../src/notify/channels/index.js';
import { RobotReceiver } from '../robotReceiver.js';
import { tempDir, waitFor } from '../helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(dest: Destination, rx: RobotReceiver, options = {}) {
  const dir = tempDir('shaobing-outbox-');
  const db: Db = openDb({ dataDir: dir.path, synchronous: 'normal' });
  const attempts: Attempt[] = [];
  const store = sqliteStore(db);
  const deliverer = new Deliverer({
    store,
    clock: new WallClock(),
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    destinations: new Map([[dest.id, dest]]),
    options,
    onAttempt: (a) => attempts.push(a),
  });
  cleanups.push(() => dir.remove(), () => db.close(), () => deliverer.stop(), () => rx.stop());
  return { db, outbox: new Outbox(store.outbox), deliverer, attempts };
}

const notice = (i: number): Notice => ({
  title: `【一般】春江小区 消防通道车位${i} 违停`,
  lines: [`位置：地面停车场 消防通道 ${i}号`, '级别：一般', '时间：11月22日 09:41'],
  severity: 'minor',
  mentionMobiles: ['13800000001'],
  alertId: i,
});

describe('outbox delivery', () => {
  it('50 alerts within one rate window reach one WeCom robot as at most 20 requests, none lost', async () => {
    // Time is scaled 20×: the receiver allows 20 requests per 3 s and the sender paces one per 150 ms,
    // the same ratio as 20 a minute and one per 3 s.
    const rx = await new RobotReceiver({ windowMs: 3000, perMinute: 20 }).start();
    const dest: Destination = { id: 'cj-wecom', type: 'wecom', url: rx.robotUrl('wecom', 'cj-wecom') };
    const { db, outbox, deliverer } = setup(dest, rx, { minIntervalMs: { wecom: 150 }, pollMs: 20 });
    deliverer.start();
    for (let i = 1; i <= 50; i++) {
      outbox.enqueue(dest.id, notice(i), Date.now(), Date.now());
      deliverer.kick();
      await new Promise((r) => setTimeout(r, 55)); // 50 alerts over ~2.8 s: one window
    }
    await waitFor(() => (db.prepare("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").pluck().get() as number) === 0, 'outbox drained', 10_000);
    const delivered = rx.accepted('wecom');
    expect(rx.received.filter((r) => !r.accepted)).toEqual([]); // never rate-limited
    // No window of 3 s (one scaled minute) carries more than 20 requests; when the alerts and their delivery
    // fit in one window (the machine is not overloaded) that is ≤ 20 requests in all.
    const times = delivered.map((r) => r.at);
    const maxInWindow = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 3000).length));
    expect(maxInWindow).toBeLessThanOrEqual(20);
    expect(delivered.length).toBeLessThanOrEqual(20 * Math.ceil((times.at(-1)! - times[0] + 1) / 3000));
    expect(delivered.length).toBeLessThan(50); // merged, not one request per alert
    const text = delivered.map((r) => r.text).join('\n');
    for (let i = 1; i <= 50; i++) expect(text).toContain(`消防通道车位${i} 违停`);
    expect(db.prepare("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").pluck().get()).toBe(50);
  });

  it('retries a failed send with backoff and records every attempt', async () => {
    const rx = await new RobotReceiver({ failNext: 2 }).start();
    const dest: Destination = { id: 'ops', type: 'webhook', url: rx.robotUrl('webhook', 'ops'), secret: 'k' };
    const { db, outbox, deliverer, attempts } = setup(dest, rx, { backoffBaseMs: 50, pollMs: 10 });
    outbox.enqueue(dest.id, notice(1), Date.now(), Date.now());
    deliverer.start();
    await waitFor(() => rx.accepted('webhook').length === 1, 'delivered after two failures', 5000);
    // The receiver has it before the sender has recorded the attempt.
    await waitFor(() => attempts.length === 3, 'three attempts recorded', 5000);
    expect(attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(attempts[0]).toMatchObject({ alertIds: [1], reason: 'HTTP 500', channel: 'webhook' });
    expect(db.prepare('SELECT attempts, status FROM outbox').get()).toEqual({ attempts: 3, status: 'sent' });
    expect(db.prepare('SELECT COUNT(*) FROM notification_attempts').pluck().get()).toBe(3);
  });

  it('gives up at once on an answer that will not heal (errcode other than rate limit)', async () => {
    const rx = await new RobotReceiver({ secrets: { ding: 'SECright' } }).start();
    const dest: Destination = { id: 'ding', type: 'dingtalk', url: rx.robotUrl('dingtalk', 'ding'), secret: 'SECwrong' };
    const { db, outbox, deliverer, attempts } = setup(dest, rx, { pollMs: 10 });
    outbox.enqueue(dest.id, notice(1), Date.now(), Date.now());
    deliverer.start();
    await waitFor(() => attempts.length === 1, 'one attempt');
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toHaveLength(1);
    expect(db.prepare('SELECT status, last_error FROM outbox').get()).toEqual({ status: 'failed', last_error: 'errcode 310000: sign not match' });
  });

  it('sleeps while nothing can fall due: it wakes for a kick, for the next due time, or after idleMaxMs at most', async () => {
    const rx = await new RobotReceiver().start();
    const dest: Destination = { id: 'wh', type: 'webhook', url: rx.robotUrl('webhook', 'wh') };
    // pollMs 10: the old deliverer looked every 10 ms here, ~100 passes a second.
    const { outbox, deliverer } = setup(dest, rx, { pollMs: 10, idleMaxMs: 1000 });
    deliverer.start();
    await new Promise((r) => setTimeout(r, 1200));
    const idle = deliverer.passes;
    expect(idle).toBeGreaterThanOrEqual(1);
    expect(idle).toBeLessThanOrEqual(3);
    // Held until later (quiet hours) and kicked: one pass for the kick, one at the due time.
    outbox.enqueue(dest.id, notice(1), Date.now() + 400, Date.now());
    deliverer.kick();
    await waitFor(() => rx.accepted().length === 1, 'sent when due');
    expect(deliverer.passes - idle).toBeLessThanOrEqual(4);
    // Queued with no kick at all: found by the next idle look.
    outbox.enqueue(dest.id, notice(2), Date.now(), Date.now());
    await waitFor(() => rx.accepted().length === 2, 'sent without a kick');
  });

  it('holds a notice until its due time (quiet hours)', async () => {
    const rx = await new RobotReceiver().start();
    const dest: Destination = { id: 'wc', type: 'wecom', url: rx.robotUrl('wecom', 'wc') };
    const { outbox, deliverer } = setup(dest, rx, { pollMs: 10 });
    outbox.enqueue(dest.id, notice(1), Date.now() + 400, Date.now());
    deliverer.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received).toHaveLength(0);
    await waitFor(() => rx.accepted().length === 1, 'sent when due', 3000);
  });
});
