// Smoke and device-health alerts end to end: real MQTT in, alerts out through the API, on the event clock.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, HOUR, at, type AlertsEnv } from './alertsHarness.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env.close());

describe('smoke and device-health alerts over MQTT', () => {
  it('smoke: an alarm opens a critical alert that only a person resolves', async () => {
    const sd = await env.device('gh-sd-6-302');
    await sd.send({ type: 'test', ts: at(T0) });
    await sd.send({ type: 'alarm', ts: at(T0 + MIN), smokePct: 42 });
    const a = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    expect(a).toMatchObject({
      severity: 'critical',
      status: 'open',
      title: '6号楼302 烟感报警',
      communityId: 'guihuayuan',
      gridId: 'gh-g2',
      householdId: 'gh-6-302',
      details: { smokePct: 42, loneElder: true },
      openedAt: at(T0 + MIN),
    });
    expect(await env.alerts({ kind: 'smoke', deviceId: 'gh-sd-6-302' })).toHaveLength(1); // the test never alerted

    await sd.send({ type: 'alarm_cleared', ts: at(T0 + 3 * MIN) });
    const cleared = await env.alert(a.id);
    expect(cleared.status).toBe('open');
    expect(cleared.timeline.map((e) => e.type)).toEqual(['opened', 'note']);

    const res = await env.post(`/api/alerts/${a.id}/resolve`, { note: '厨房煎鱼，已确认无火情' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', resolution: '厨房煎鱼，已确认无火情', resolvedBy: 'admin', resolvedAt: at(T0 + 3 * MIN) });
  });

  it('low_battery: opens on the detector\'s report and a later good report resolves it', async () => {
    const sd = await env.device('gh-sd-5-303');
    await sd.send({ type: 'low_battery', ts: at(T0 + 10 * MIN), batteryPct: 12 });
    const a = await env.waitAlert({ kind: 'low_battery', deviceId: 'gh-sd-5-303' });
    expect(a).toMatchObject({ severity: 'major', title: '5号楼303 烟感电量低', gridId: 'gh-g1' }); // 林爷爷 lives alone
    await sd.send({ type: 'heartbeat', ts: at(T0 + 11 * MIN), batteryPct: 98 });
    expect(await env.waitStatus(a.id, 'resolved')).toMatchObject({ resolution: '电量已恢复（98%）', resolvedBy: 'system' });
  });

  it('device_tamper: a removed detector alerts; putting it back resolves', async () => {
    const sd = await env.device('gh-sd-6-stair2');
    await sd.send({ type: 'tamper', ts: at(T0 + 20 * MIN) });
    const a = await env.waitAlert({ kind: 'device_tamper', deviceId: 'gh-sd-6-stair2' });
    expect(a).toMatchObject({ severity: 'minor', title: '6号楼 2单元楼道（一楼电表间旁） 烟感防拆报警' });
    await sd.send({ type: 'heartbeat', ts: at(T0 + 25 * MIN) });
    await env.waitStatus(a.id, 'resolved');
  });

  it('device_fault: a fault report alerts and a person closes it', async () => {
    const sd = await env.device('gh-sd-5-303');
    await sd.send({ type: 'fault', ts: at(T0 + 30 * MIN) });
    const a = await env.waitAlert({ kind: 'device_fault', deviceId: 'gh-sd-5-303' });
    expect(a).toMatchObject({ severity: 'major', title: '5号楼303 烟感故障', details: { fault: 'fault' } });
    expect((await env.post(`/api/alerts/${a.id}/resolve`, { note: '已更换' })).body.status).toBe('resolved');
  });

  it('device_offline: a gate silent for 2 × 150 s goes offline and its next message resolves it', async () => {
    const gate = await env.device('gh-gt-out');
    const t = T0 + HOUR;
    await gate.send({ type: 'heartbeat', ts: at(t) });
    await env.advance(t + 4 * MIN);
    expect(await env.alerts({ kind: 'device_offline', deviceId: 'gh-gt-out' })).toEqual([]);
    await env.advance(t + 5 * MIN);
    const a = await env.waitAlert({ kind: 'device_offline', deviceId: 'gh-gt-out' });
    expect(a).toMatchObject({ severity: 'minor', title: '小区大门（玉林北路） 道闸车牌识别离线', openedAt: at(t + 5 * MIN) });
    await gate.send({ type: 'heartbeat', ts: at(t + 20 * MIN) });
    const back = await env.waitStatus(a.id, 'resolved');
    expect(back.resolution).toContain('设备恢复上报');
    expect((await env.alert(a.id)).timeline.map((e) => [e.type, e.actor])).toEqual([
      ['opened', 'system'],
      ['resolved', 'system'],
    ]);

    // Silent again: offline 5 min after it was last heard, within the 5-minute flap hold of the last
    // clearing, so the same alert re-opens (count 2). A payload it cannot decode still proves it alive.
    await env.advance(t + HOUR);
    const again = await env.waitStatus(a.id, 'open');
    expect(again).toMatchObject({ count: 2, updatedAt: at(t + 25 * MIN) });
    await gate.sendRaw('garbage, not JSON');
    await env.waitStatus(a.id, 'resolved');
    expect((await env.alert(a.id)).timeline.map((e) => e.type)).toEqual(['opened', 'resolved', 'reopened', 'resolved']);
  });

  it('counts opened alerts in shaobing_alerts_opened_total{kind}', async () => {
    const res = await env.t.app.api.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/shaobing_alerts_opened_total\{kind="smoke"\} 1/);
    expect(res.body).toMatch(/shaobing_alerts_opened_total\{kind="device_offline"\} \d/);
  });
});
