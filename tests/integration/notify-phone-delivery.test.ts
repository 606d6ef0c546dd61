// How texts and calls are delivered: retried with backoff through an outage, held by quiet hours for
// non-critical alerts (critical ones go through), through Tencent Cloud as well as Alibaba Cloud, and — under an
// alarm storm — never past a number's limit: the duty phone every flat's smoke alarm would call is called at
// most `perNumberPerHour` times, each skip is on its alert's timeline, and no alert calls one number twice.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, type AlertsEnv } from './alertsHarness.js';
import { PhoneReceiver } from '../phoneReceiver.js';
import { sampleReceiverOptions, samplePhoneSettings } from '../../simulators/lib/phoneSample.js';
import { connectDevice, sampleDevices, sampleSecrets, tempDir, waitFor } from '../helpers.js';
import type { AlertView, TimelineEntry } from '../../src/alerts/types.js';

const DUTY = '13800000110';
const FAMILY_5_302 = '13800006948';
const texts = { continuous_water_flow: [{ afterMinutes: 0, to: ['contacts'], by: 'sms' }] };
const phoneOf = (t: TimelineEntry[]) => t.filter((e) => e.type === 'phone').map((e): Record<string, unknown> => ({ at: e.at, ...e.data }));

async function start(rx: PhoneReceiver, dir: string, sms: 'aliyun' | 'tencent') {
  return startAlertsApp(undefined, { notify: { phone: { ...samplePhoneSettings(rx, dir, { sms }), routes: texts } }, http: { port: 0, host: '127.0.0.1', publicUrl: 'https://sb.example.cn' } });
}

/** Nothing left to send or to hear back about. */
function settled(env: AlertsEnv): boolean {
  const db = env.t.app.db;
  const queued = db.prepare(`SELECT COUNT(*) FROM outbox WHERE destination LIKE 'phone:%' AND status = 'pending' AND due_at <= ?`).pluck().get(env.t.app.clock.now()) as number;
  const waiting = db.prepare(`SELECT COUNT(*) FROM phone_messages WHERE status = 'accepted'`).pluck().get() as number;
  return queued === 0 && waiting === 0;
}

describe('phone delivery through Alibaba Cloud', () => {
  let rx: PhoneReceiver;
  let env: AlertsEnv;
  const dir = tempDir('shaobing-phone-delivery-');
  beforeAll(async () => {
    rx = await new PhoneReceiver(sampleReceiverOptions()).start();
    env = await start(rx, dir.path, 'aliyun');
  });
  afterAll(async () => {
    await env?.close();
    await rx?.stop();
    dir.remove();
  });

  it('retries a text through an outage with backoff; every attempt and the receipt are on the timeline', async () => {
    rx.failNext = 2;
    const d = await env.device('gh-wm-5-302');
    await d.send({ type: 'alarm', code: 'leak', ts: T0 });
    await d.end();
    const alert = await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-5-302' });
    await waitFor(() => rx.sms(FAMILY_5_302).length === 1, 'text after the outage', 8000);
    const events = await waitFor(async () => {
      const ev = phoneOf((await env.alert(alert.id)).timeline);
      return ev.some((e) => e.outcome === 'delivered') && ev;
    }, 'receipt on the timeline', 8000);
    expect(events.map((e) => [e.outcome, e.retrying ?? false, e.attempt ?? null])).toEqual([
      ['failed', true, 1],
      ['failed', true, 2],
      ['accepted', false, 3],
      ['delivered', false, null],
    ]);
    expect(events[0]).toMatchObject({ channel: 'sms', to: 'family', number: '138****6948', code: 'BadAnswer' });
    expect(rx.sms(FAMILY_5_302)).toHaveLength(1);
  });

  it('an alarm storm: the shared duty phone is called at most 3 times an hour, the rest skipped on their timelines; no alert calls a number twice', async () => {
    // The sample's canonical detectors, and more provisioned into flats of 6号楼 for the storm.
    const secrets = new Map<string, string>();
    for (const room of ['102', '103', '104', '201', '203', '204', '301', '303']) {
      const res = await env.post('/api/devices', { id: `gh-sd-storm-${room}`, kind: 'smoke-detector', communityId: 'guihuayuan', householdId: `gh-6-${room}` });
      expect(res.statusCode).toBe(201);
      secrets.set(res.body.id, res.body.secret);
    }
    const detectors = [...sampleDevices('smoke-detector', 'canonical', 'guihuayuan'), ...secrets.keys()];
    const t1 = T0 + 10 * MIN;
    for (const [i, id] of detectors.entries()) {
      const client = await connectDevice(env.t.mqttUrl, id, secrets.get(id) ?? sampleSecrets.devices[id]);
      await client.publishAsync(`iot/guihuayuan/${id}/up`, JSON.stringify({ type: 'alarm', smokePct: 40, ts: t1 + i * 1000 }), { qos: 1 });
      await client.endAsync();
    }
    const alerts = await waitFor(async () => {
      const list = (await env.alerts({ kind: 'smoke' })).filter((a) => detectors.includes(a.deviceId!));
      return list.length === detectors.length && list;
    }, 'every flat alarmed');
    await env.advance(t1 + 4 * MIN);
    await waitFor(() => settled(env), 'all calls placed and answered', 15_000);
    expect(rx.calls(DUTY)).toHaveLength(3);
    const timelines = await Promise.all(alerts.map(async (a: AlertView) => phoneOf((await env.alert(a.id)).timeline)));
    const duty = timelines.flatMap((t) => t.filter((e) => e.to === 'duty'));
    expect(duty.filter((e) => e.outcome === 'accepted')).toHaveLength(3);
    expect(duty.filter((e) => e.outcome === 'limited')).toHaveLength(detectors.length - 3);
    expect(duty.find((e) => e.outcome === 'limited')).toMatchObject({ reason: '3 per hour reached', number: '138****0110' });
    // Each alert reached each of its numbers at most once.
    for (const t of timelines) {
      const numbers = t.filter((e) => e.outcome === 'accepted' && e.channel === 'call').map((e) => `${e.number}`);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
    // Every contact of a flat was called (different numbers, each under its own limit) and nobody else twice.
    const perNumber = new Map<string, number>();
    for (const c of rx.calls()) perNumber.set(c.number!, (perNumber.get(c.number!) ?? 0) + 1);
    for (const [n, count] of perNumber) if (n !== DUTY) expect(count, n).toBe(1);
    expect(rx.refused()).toEqual([]);
  }, 30_000);
});

describe('phone delivery through Tencent Cloud, and quiet hours', () => {
  let rx: PhoneReceiver;
  let env: AlertsEnv;
  const dir = tempDir('shaobing-phone-quiet-');
  const NIGHT = Date.parse('2025-03-01T23:00:00+08:00');
  const MORNING = Date.parse('2025-03-02T07:00:00+08:00');
  beforeAll(async () => {
    rx = await new PhoneReceiver(sampleReceiverOptions()).start();
    env = await start(rx, dir.path, 'tencent');
  });
  afterAll(async () => {
    await env?.close();
    await rx?.stop();
    dir.remove();
  });

  it('holds a non-critical text at night until the quiet hours end, then sends it through Tencent Cloud with its receipt', async () => {
    const d = await env.device('gh-wm-5-302');
    await d.send({ type: 'alarm', code: 'leak', ts: NIGHT });
    await d.end();
    const alert = await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-5-302' });
    expect(alert.severity).not.toBe('critical');
    await env.advance(MORNING - MIN);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.sms()).toEqual([]);
    await env.advance(MORNING);
    await waitFor(() => rx.sms(FAMILY_5_302).length === 1, 'sent at 07:00', 8000);
    expect(rx.sms(FAMILY_5_302)[0]).toMatchObject({ vendor: 'tencent', template: '2044123' });
    const ev = await waitFor(async () => {
      const t = phoneOf((await env.alert(alert.id)).timeline);
      return t.some((e) => e.outcome === 'delivered') && t;
    }, 'Tencent receipt', 8000);
    expect(ev.find((e) => e.outcome === 'accepted')).toMatchObject({ provider: 'tencent', at: new Date(MORNING).toISOString() });
  });

  it('a critical alarm at night goes through: the smoke call is placed at 3 minutes', async () => {
    const night2 = Date.parse('2025-03-02T23:30:00+08:00');
    const d = await env.device('gh-sd-6-302');
    await d.send({ type: 'alarm', smokePct: 60, ts: night2 });
    await d.end();
    await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    await env.advance(night2 + 3 * MIN);
    await waitFor(() => rx.calls(DUTY).length === 1, 'duty phone called at night', 8000);
  });
});
