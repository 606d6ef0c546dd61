// Texts and calls end to end, on the event clock: the real app, real MQTT, real SQLite, and a local receiver
// that plays Alibaba Cloud and Tencent Cloud and checks every request's signature with its own code. A smoke
// alarm nobody acknowledges calls the duty phone and the elder's contacts one after another; a family asked
// by text answers on the one-tap page; a work order goes out when nobody confirms.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, type AlertsEnv } from './alertsHarness.js';
import { PhoneReceiver } from '../phoneReceiver.js';
import { RobotReceiver } from '../robotReceiver.js';
import { sampleReceiverOptions, samplePhoneSettings } from '../../simulators/lib/phoneSample.js';
import { tempDir, waitFor } from '../helpers.js';
import type { TimelineEntry } from '../../src/alerts/types.js';

const DUTY = '13800000110';
const FAMILY_6_302 = '13800009667';
const NEIGHBOUR_6_302 = '13800009474';

let rx: PhoneReceiver;
let robots: RobotReceiver;
let env: AlertsEnv;
const dir = tempDir('shaobing-phone-');

beforeAll(async () => {
  rx = await new PhoneReceiver(sampleReceiverOptions()).start();
  robots = await new RobotReceiver().start();
  env = await startAlertsApp(undefined, {
    notify: {
      destinations: [{ id: 'gh-grid', type: 'wecom', url: robots.robotUrl('wecom', 'gh-grid'), reaches: { communities: ['guihuayuan'], roles: ['grid_member', 'volunteer'] } }],
      phone: {
        ...samplePhoneSettings(rx, dir.path),
        // Besides the default smoke route: a lone elder's tap left running (a fall in the shower?) asks the
        // family first, and sends the grid to the door if nobody confirms in 30 minutes — the flow
        // no_water_use has by default (its scenario: simulators/scenarios/water-silent-family.yaml).
        routes: {
          continuous_water_flow: [
            { afterMinutes: 0, to: ['contacts'], relations: ['family'], by: 'sms', ask: true },
            { afterMinutes: 30, visit: { roles: ['grid_member'] } },
          ],
          // A second question about the same elder (here: their meter's battery) while the first is unanswered.
          low_battery: [{ afterMinutes: 0, to: ['contacts'], relations: ['family'], by: 'sms', ask: true }],
        },
      },
    },
    http: { port: 0, host: '127.0.0.1', publicUrl: 'https://sb.example.cn' },
  });
});
afterAll(async () => {
  await env?.close();
  await rx?.stop();
  await robots?.stop();
  dir.remove();
});

const phoneEvents = (timeline: TimelineEntry[]) => timeline.filter((e) => e.type === 'phone').map((e) => e.data as Record<string, unknown>);

describe('phone: smoke nobody acknowledges', () => {
  it('calls nobody at once, then after 3 minutes the duty phone and the first contact; an unanswered call moves to the next contact', async () => {
    rx.person(FAMILY_6_302, { call: 'no_answer' });
    const d = await env.device('gh-sd-6-302');
    await d.send({ type: 'alarm', smokePct: 42, ts: T0 });
    const alert = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    await new Promise((r) => setTimeout(r, 400));
    expect(rx.calls()).toEqual([]);

    await env.advance(T0 + 3 * MIN);
    await waitFor(() => rx.calls(DUTY).length === 1 && rx.calls(FAMILY_6_302).length === 1, 'duty phone and family called', 8000);
    // The family does not answer: the neighbour is called next (after the receipt says so), nobody else.
    await waitFor(() => rx.calls(NEIGHBOUR_6_302).length === 1, 'neighbour called next', 8000);
    expect(rx.calls(DUTY)[0].text).toBe('您好，这里是哨兵社区。6号楼302烟感报警，请立即处置。');
    expect(rx.refused()).toEqual([]);

    const timeline = await waitFor(async () => {
      const t = (await env.alert(alert.id)).timeline;
      const ev = phoneEvents(t);
      return ev.some((e) => e.outcome === 'answered' && e.to === 'neighbour') && ev.some((e) => e.outcome === 'answered' && e.to === 'duty') && t;
    }, 'outcomes on the timeline', 8000);
    const ev = phoneEvents(timeline);
    expect(ev.find((e) => e.to === 'family' && e.outcome === 'no_answer')).toMatchObject({ channel: 'call', number: '138****9667', chain: 1, provider: 'aliyun' });
    expect(ev.find((e) => e.to === 'neighbour' && e.outcome === 'accepted')).toMatchObject({ chain: 2 });
    // Numbers are masked on the timeline: no full number anywhere in it.
    expect(JSON.stringify(timeline)).not.toMatch(/1380000\d{4}/);
    expect(timeline.find((e) => e.type === 'phone_step')?.data).toMatchObject({ step: 1, afterMinutes: 3, to: ['duty', 'contacts'], by: 'call' });
    await d.end();
  });
});

const FAMILY_5_302 = '13800006948';
const FAMILY_6_504 = '13800008981';
const FAMILY_6_101 = '13800008202';

async function leak(deviceId: string, ts: number) {
  const d = await env.device(deviceId);
  await d.send({ type: 'alarm', code: 'leak', ts });
  await d.end();
  return env.waitAlert({ kind: 'continuous_water_flow', deviceId });
}

/** The one-tap page's path from the text a number received. */
async function linkPath(number: string): Promise<string> {
  const sms = await waitFor(() => rx.sms(number).at(-1), `text to ${number}`, 8000);
  const url = /https:\/\/sb\.example\.cn(\/c\/[A-Za-z0-9]+)/.exec(sms.text!)?.[1];
  expect(url).toBeDefined();
  return url!;
}

describe('phone: the family is asked first', () => {
  it('texts the family a one-tap page; "已联系上，平安" acknowledges for them and no work order follows', async () => {
    const alert = await leak('gh-wm-5-302', T0 + 10 * MIN);
    const path = await linkPath(FAMILY_5_302);
    expect(rx.sms(FAMILY_5_302)[0].text).toMatch(/^【哨兵社区】您的家人（5号楼302）持续用水，请尽快打电话或上门联系/);
    const page = await env.t.app.api.inject({ url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('已联系上，平安');
    expect(page.body).toContain('联系不上');
    expect((await env.alert(alert.id)).status).toBe('open'); // a preview fetch answers nothing
    const res = await env.t.app.api.inject({ method: 'POST', url: `${path}/safe` });
    expect(res.statusCode).toBe(200);
    const acked = await env.alert(alert.id);
    expect(acked.status).toBe('acknowledged');
    expect(acked.timeline.find((e) => e.type === 'acknowledged')?.actor).toBe('family:138****6948');
    expect(acked.timeline.find((e) => e.type === 'contact_answer')?.data).toMatchObject({ answer: 'safe' });
    expect((await env.t.app.api.inject({ method: 'POST', url: `${path}/unreachable` })).statusCode).toBe(409); // once
    await env.advance(T0 + 45 * MIN);
    expect((await env.alert(alert.id)).timeline.some((e) => e.type === 'work_order')).toBe(false);
  });

  it('nobody confirms within 30 minutes: a work order dispatches the alert to the paired volunteer, and the grid is told 请上门查看', async () => {
    const alert = await leak('gh-wm-6-504', T0 + 50 * MIN);
    await linkPath(FAMILY_6_504);
    await env.advance(T0 + 79 * MIN);
    expect((await env.alert(alert.id)).status).toBe('open');
    await env.advance(T0 + 80 * MIN);
    await env.waitStatus(alert.id, 'dispatched');
    const a = await env.alert(alert.id);
    expect(a.assignee).toBe('gh-vol-g2-2');
    expect(a.timeline.find((e) => e.type === 'work_order')?.data).toMatchObject({ reason: 'no_confirmation', assignee: 'gh-vol-g2-2', roles: ['grid_member'] });
    await waitFor(() => robots.accepted('wecom').some((r) => r.text.includes(`请上门查看：${alert.title}`)), 'the grid told to visit', 8000);
  });

  it('"联系不上" sends the work order at once', async () => {
    const alert = await leak('gh-wm-6-101', T0 + 90 * MIN);
    const path = await linkPath(FAMILY_6_101);
    const res = await env.t.app.api.inject({ method: 'POST', url: `${path}/unreachable` });
    expect(res.body).toContain('社区已安排人员上门查看');
    await env.waitStatus(alert.id, 'dispatched');
    const a = await env.alert(alert.id);
    expect(a.timeline.find((e) => e.type === 'contact_answer')?.data).toMatchObject({ answer: 'unreachable' });
    expect(a.timeline.find((e) => e.type === 'work_order')?.data).toMatchObject({ reason: 'unreachable', by: 'family:138****8202' });
  });

  it('asks a family one question at a time about their elder; the answer covers every open alert that asked', async () => {
    const FAMILY_5_504 = '13800007666';
    const leakAlert = await leak('gh-wm-5-504', T0 + 100 * MIN);
    const path = await linkPath(FAMILY_5_504);
    const d = await env.device('gh-wm-5-504');
    await d.send({ type: 'heartbeat', batteryPct: 4, ts: T0 + 101 * MIN });
    await d.end();
    const battery = await env.waitAlert({ kind: 'low_battery', deviceId: 'gh-wm-5-504' });
    const held = (await env.alert(battery.id)).timeline.find((e) => e.type === 'phone');
    expect(held?.data).toMatchObject({ outcome: 'duplicate', number: '138****7666', reason: `already asked about this household (alert ${leakAlert.id})` });
    await new Promise((r) => setTimeout(r, 400));
    expect(rx.sms(FAMILY_5_504)).toHaveLength(1);
    expect((await env.t.app.api.inject({ method: 'POST', url: `${path}/safe` })).statusCode).toBe(200);
    for (const id of [leakAlert.id, battery.id]) {
      const a = await env.alert(id);
      expect(a.status, a.kind).toBe('acknowledged');
      expect(a.timeline.find((e) => e.type === 'acknowledged')?.actor).toBe('family:138****7666');
    }
  });

  it('a page that does not exist, or is used, answers in Chinese and changes nothing', async () => {
    const bad = await env.t.app.api.inject({ url: '/c/AAAAAAAAAA' });
    expect(bad.statusCode).toBe(404);
    expect(bad.body).toContain('链接无效');
    expect((await env.t.app.api.inject({ method: 'POST', url: '/c/AAAAAAAAAA/safe' })).statusCode).toBe(404);
  });
});
