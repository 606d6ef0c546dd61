// Notifications end to end: a smoke alarm over real MQTT reaches the property group's WeCom robot and the
// volunteer's DingTalk group at once (a local receiver that checks shapes and signatures itself);
// escalation on the event clock stops the moment someone acknowledges; the one-tap link acknowledges once.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, type AlertsEnv } from './alertsHarness.js';
import { RobotReceiver } from '../robotReceiver.js';
import { sampleDevices, waitFor, connectDevice } from '../helpers.js';

const secrets = { 'gh-care': 'SECcare0123456789', street: 'street-hmac-key' };
let rx: RobotReceiver;
let env: AlertsEnv;

export function notifySettings(rx: RobotReceiver) {
  return {
    destinations: [
      { id: 'gh-duty', type: 'wecom', url: rx.robotUrl('wecom', 'gh-duty'), reaches: { communities: ['guihuayuan'], roles: ['property_duty', 'emergency'] } },
      {
        id: 'gh-care',
        type: 'dingtalk',
        url: rx.robotUrl('dingtalk', 'gh-care'),
        secret: secrets['gh-care'],
        reaches: { communities: ['guihuayuan'], roles: ['volunteer', 'special_care', 'grid_head', 'residents_committee'] },
      },
      { id: 'street', type: 'webhook', url: rx.robotUrl('webhook', 'street'), secret: secrets.street, streetOps: true },
    ],
  };
}

beforeAll(async () => {
  rx = await new RobotReceiver({ secrets }).start();
  env = await startAlertsApp(undefined, { notify: notifySettings(rx), http: { port: 0, host: '127.0.0.1', publicUrl: 'https://sb.example.cn' } });
});
afterAll(async () => {
  await env?.close();
  await rx?.stop();
});

const smokeDetectors = sampleDevices('smoke-detector', 'canonical', 'guihuayuan');
const textsFor = (title: string) => rx.accepted().filter((r) => r.text.includes(title));

describe('notifications', () => {
  it('a smoke alarm reaches property on duty and the volunteer at once, in Chinese, with place, severity, time and an ack link', async () => {
    const d = await env.device('gh-sd-6-302');
    await d.send({ type: 'alarm', smokePct: 42, ts: T0 });
    const alert = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    await waitFor(() => textsFor(alert.title).length >= 2, 'both groups told', 8000);
    const duty = textsFor(alert.title).find((r) => r.platform === 'wecom')!;
    const care = textsFor(alert.title).find((r) => r.platform === 'dingtalk')!;
    expect(duty.text).toContain(`【紧急】${alert.title}`);
    expect(duty.text).toContain('小区：桂花园');
    expect(duty.text).toContain('级别：紧急');
    expect(duty.text).toMatch(/时间：3月1日 08:00/);
    expect(duty.text).toMatch(/一键确认：https:\/\/sb\.example\.cn\/ack\/\S+/);
    expect(duty.text).not.toMatch(/1380000\d{4}/); // mobiles are mentions, never in the text
    expect((duty.body.text as { mentioned_mobile_list: string[] }).mentioned_mobile_list.length).toBeGreaterThan(0);
    expect(care.text).toContain(alert.title);
    // Every attempt is on the alert's timeline.
    // The receiver has them before the sender records its attempts: wait for the timeline.
    const attempts = await waitFor(async () => {
      const list = (await env.alert(alert.id)).timeline.filter((e) => e.type === 'notification');
      return list.length === 2 && list;
    }, 'attempts on the timeline');
    expect(attempts.map((e) => e.data?.destination).sort()).toEqual(['gh-care', 'gh-duty']);
    expect(attempts.every((e) => e.data?.ok === true)).toBe(true);
    await d.end();
  });

  it('the one-tap link shows a page, acknowledges on the button, and works once', async () => {
    const alert = (await env.alerts({ kind: 'smoke', deviceId: 'gh-sd-6-302' }))[0];
    const link = /一键确认：(\S+)/.exec(textsFor(alert.title).find((r) => r.platform === 'wecom')!.text)![1];
    const path = new URL(link).pathname;
    const page = await env.t.app.api.inject({ url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('确认接警');
    expect((await env.alert(alert.id)).status).toBe('open'); // GET does not acknowledge (link previews)
    const ok = await env.t.app.api.inject({ method: 'POST', url: path });
    expect(ok.body).toContain('已确认');
    const acked = await env.alert(alert.id);
    expect(acked.status).toBe('acknowledged');
    expect(acked.timeline.find((e) => e.type === 'acknowledged')?.actor).toBe('link:gh-duty');
    const again = await env.t.app.api.inject({ method: 'POST', url: path });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('此链接已使用');
    const forged = await env.t.app.api.inject({ url: path.slice(0, -3) + 'abc' });
    expect(forged.statusCode).toBe(410);
  });

  it('escalation: acknowledged at 2 minutes → none; at 4 → exactly one; the 10-minute street step never comes', async () => {
    const [a, b] = smokeDetectors.filter((id) => id !== 'gh-sd-6-302');
    const t1 = T0 + 60 * MIN;
    const da = await env.device(a);
    const db = await env.device(b);
    await da.send({ type: 'alarm', smokePct: 30, ts: t1 });
    await db.send({ type: 'alarm', smokePct: 30, ts: t1 });
    const alertA = await env.waitAlert({ kind: 'smoke', deviceId: a });
    const alertB = await env.waitAlert({ kind: 'smoke', deviceId: b });

    await env.advance(t1 + 2 * MIN);
    expect((await env.post(`/api/alerts/${alertA.id}/ack`)).statusCode).toBe(200);
    await env.advance(t1 + 4 * MIN);
    expect((await env.post(`/api/alerts/${alertB.id}/ack`)).statusCode).toBe(200);
    await env.advance(t1 + 15 * MIN);

    const escalations = async (id: number) => (await env.alert(id)).timeline.filter((e) => e.type === 'escalated');
    expect(await escalations(alertA.id)).toEqual([]);
    const escB = await escalations(alertB.id);
    expect(escB).toHaveLength(1);
    expect(escB[0].data).toMatchObject({ step: 1, roles: ['grid_head', 'residents_committee'] });
    // The escalation notice went to the group that has the grid head and committee in it, once.
    await waitFor(() => rx.accepted('dingtalk').some((r) => r.text.includes(`升级：${alertB.title}`)), 'escalation delivered', 8000);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.accepted().filter((r) => r.text.includes(`升级：${alertA.title}`))).toEqual([]);
    expect(rx.accepted().filter((r) => r.text.includes(`升级：${alertB.title}`))).toHaveLength(1);
    expect(rx.accepted('webhook')).toEqual([]);
    await da.end();
    await db.end();
  });

  it('an unacknowledged smoke alarm is reminded with a bound and reaches the street operations webhook at 10 minutes', async () => {
    // A detector provisioned for this test (the sample has two other canonical ones, used above).
    const c = 'gh-sd-5-test';
    const prov = await env.post('/api/devices', { id: c, kind: 'smoke-detector', communityId: 'guihuayuan', buildingId: 'gh-b5', area: '5号楼 二单元楼道' });
    expect(prov.statusCode).toBe(201);
    const t2 = T0 + 120 * MIN;
    const dc = await connectDevice(env.t.mqttUrl, c, prov.body.secret);
    await dc.publishAsync(`iot/guihuayuan/${c}/up`, JSON.stringify({ type: 'alarm', smokePct: 55, ts: t2 }), { qos: 1 });
    const alert = await env.waitAlert({ kind: 'smoke', deviceId: c });
    for (const m of [3, 5, 10, 15, 20, 25, 30]) await env.advance(t2 + m * MIN);
    const timeline = (await env.alert(alert.id)).timeline;
    expect(timeline.filter((e) => e.type === 'escalated').map((e) => e.data?.step)).toEqual([1, 2]);
    await waitFor(() => rx.accepted('webhook').some((r) => r.text.includes(alert.title)), 'street webhook', 8000);
    const body = rx.accepted('webhook').find((r) => r.text.includes(alert.title))!.body as { notifications: Array<{ alert: { kind: string } }> };
    expect(body.notifications[0].alert.kind).toBe('smoke');
    // Reminders every 5 minutes, 3 at most (settings.notify.reminders): 5, 10, 15 — not 20, 25, 30.
    // Queued close together they may be merged into fewer requests: count the notices, not the requests.
    const reminders = () => rx.accepted('wecom').reduce((n, r) => n + r.text.split(`提醒：${alert.title}`).length - 1, 0);
    await waitFor(() => reminders() === 3, 'three reminders', 15_000);
    await new Promise((r) => setTimeout(r, 3500));
    expect(reminders()).toBe(3);
    dc.end(true);
  }, 40_000);
});
