// Parking and gate alerts end to end, and the live lot counts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, HOUR, GH, at, type AlertsEnv } from './alertsHarness.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env.close());

const S = 1000;

describe('parking and gate alerts over MQTT', () => {
  it('illegal_parking: a fire lane occupied for 3 min alerts; vacating resolves; coming back re-opens the same alert', async () => {
    const ps = await env.device('gh-ps-fl1');
    await ps.send({ type: 'state', occupied: true, ts: at(T0) });
    await ps.send({ type: 'state', occupied: false, ts: at(T0 + 20 * S) }); // the sensor flaps
    await ps.send({ type: 'state', occupied: true, ts: at(T0 + 25 * S) });
    await env.advance(T0 + 3 * MIN);
    const a = await env.waitAlert({ kind: 'illegal_parking', deviceId: 'gh-ps-fl1' });
    expect(a).toMatchObject({
      severity: 'major',
      title: '6号楼东侧 消防通道占用',
      spaceId: 'gh-sp-fl1',
      gridId: 'gh-g1',
      openedAt: at(T0 + 3 * MIN),
      details: { zone: 'fire_lane', occupiedSince: at(T0) },
    });
    await ps.send({ type: 'state', occupied: false, ts: at(T0 + 6 * MIN) });
    await env.advance(T0 + 7 * MIN);
    expect((await env.waitStatus(a.id, 'resolved')).resolution).toMatch(/^车辆已驶离/);

    // Back within the 5-minute flap hold: the same alert re-opens with its count raised.
    await ps.send({ type: 'state', occupied: true, ts: at(T0 + 8 * MIN) });
    await env.advance(T0 + 11 * MIN);
    const again = await env.waitStatus(a.id, 'open');
    expect(again.count).toBe(2);
    expect((await env.alerts({ kind: 'illegal_parking', deviceId: 'gh-ps-fl1' })).map((x) => x.id)).toEqual([a.id]);
    expect((await env.alert(a.id)).timeline.map((e) => e.type)).toEqual(['opened', 'resolved', 'reopened']);
  });

  it('unregistered_vehicle: an unknown plate entering alerts; residents do not; a person resolves', async () => {
    const gate = await env.device('gh-gt-out');
    await gate.send({ type: 'plate', plate: '川A5P005', direction: 'in', ts: at(T0 + HOUR), confidence: 95 }); // 5-202's car
    await gate.send({ type: 'plate', plate: '渝B77777', direction: 'in', ts: at(T0 + HOUR + MIN), confidence: 95, lane: 'in' });
    const a = await env.waitAlert({ kind: 'unregistered_vehicle', plate: '渝B77777' });
    expect(a).toMatchObject({ severity: 'minor', title: '小区大门（玉林北路） 未登记车辆入场 渝B77777', gridId: 'gh-g1' });
    expect(await env.alerts({ kind: 'unregistered_vehicle' })).toHaveLength(1);
    expect((await env.post(`/api/alerts/${a.id}/resolve`, { note: '快递车，已放行' })).body.status).toBe('resolved');
  });

  it('visitor_overstay: a registered visitor past its time alerts; leaving resolves', async () => {
    const gate = await env.device('gh-gt-out');
    const t = T0 + 2 * HOUR;
    await env.advance(t);
    const reg = await env.post('/api/visitors', { plate: '川A·V0001', communityId: GH, until: at(t + HOUR) });
    expect(reg).toMatchObject({ statusCode: 201, body: { plate: '川AV0001', until: at(t + HOUR), registeredBy: 'admin' } });
    await gate.send({ type: 'plate', plate: '川AV0001', direction: 'in', ts: at(t + MIN) });
    await env.advance(t + HOUR - 1);
    expect(await env.alerts({ kind: 'visitor_overstay' })).toEqual([]);
    expect(await env.alerts({ kind: 'unregistered_vehicle', status: 'open' })).toEqual([]);
    await env.advance(t + HOUR);
    const a = await env.waitAlert({ kind: 'visitor_overstay', plate: '川AV0001' });
    expect(a).toMatchObject({ severity: 'minor', title: '访客车辆 川AV0001 超时停留', gridId: 'gh-g1', details: { until: at(t + HOUR) } });
    await gate.send({ type: 'plate', plate: '川AV0001', direction: 'out', ts: at(t + 2 * HOUR) });
    expect((await env.waitStatus(a.id, 'resolved')).resolution).toMatch(/^访客车辆已离场/);
  });

  it('lot_full and live counts: gate events count, an exit never seen entering cannot go negative, full alerts', async () => {
    const gate = await env.device('gh-gt-out');
    const lot = async () => {
      const res = await env.t.app.api.inject({ method: 'GET', url: '/api/parking/lots', headers: { authorization: 'Bearer test-admin-token-0123456789' } });
      expect(res.statusCode).toBe(200);
      return (JSON.parse(res.body).items as Array<{ id: string; name: string; occupied: number; free: number; capacity: number }>).find((l) => l.id === 'gh-lot-1')!;
    };
    const t = T0 + 5 * HOUR;
    const before = await lot();
    expect(before).toMatchObject({ name: '地面停车场（5、6号楼之间）', capacity: 26, occupied: 2, free: 24 }); // the two cars above
    await gate.send({ type: 'plate', plate: '川Z00000', direction: 'out', ts: at(t) });
    expect(await lot()).toMatchObject({ occupied: 2, free: 24 });
    for (let i = 1; i <= 24; i++) await gate.send({ type: 'plate', plate: `川Q${String(i).padStart(5, '0')}`, direction: 'in', ts: at(t + i * S) });
    expect(await lot()).toMatchObject({ occupied: 26, free: 0 });
    const a = await env.waitAlert({ kind: 'lot_full' });
    expect(a).toMatchObject({ severity: 'info', title: '地面停车场（5、6号楼之间） 车位已满', gridId: 'gh-g1', details: { free: 0 } });
    await gate.send({ type: 'plate', plate: '川Q00001', direction: 'out', ts: at(t + MIN) });
    expect((await env.waitStatus(a.id, 'resolved')).resolution).toBe('已有空余车位（1）');
    expect(await lot()).toMatchObject({ occupied: 25, free: 1 });
  });
});
