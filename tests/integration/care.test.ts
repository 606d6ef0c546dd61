// 一天两见面 end to end on the event clock over real MQTT: 王婆婆's meter (6-302) shows use at 08:00 and nothing
// after, so the 20:00 round raises missed_check for her flat and her paired volunteer's logged visit resolves it;
// 张婆婆 (6-504) used water at 15:00 and gets nothing. Then the care API's scoping (a volunteer sees and visits
// only the elders paired with them), the committee's daily report and digest (to a local robot receiver), and
// the rounds surviving a restart.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, HOUR, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { sampleSecrets, waitFor } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';
import { runRetention } from '../../src/jobs/retention.js';

const token = (person: string) => sampleSecrets.people[person];
const A = 'gh-6-302'; // 王婆婆, paired with gh-vol-g2-1
const B = 'gh-6-504'; // 张婆婆, paired with gh-vol-g2-2

let rx: RobotReceiver;
let env: AlertsEnv;
beforeAll(async () => {
  rx = await new RobotReceiver().start();
  env = await startAlertsApp(undefined, {
    notify: { destinations: [{ id: 'gh-committee', type: 'wecom', url: rx.robotUrl('wecom', 'gh-committee'), reaches: { communities: ['guihuayuan'], roles: ['residents_committee', 'owners_committee'] } }] },
  });
});
afterAll(async () => {
  await env?.close();
  await rx?.stop();
});

const get = async (url: string, person?: string) => {
  const res = await env.t.app.api.inject({ method: 'GET', url, headers: person ? { authorization: `Bearer ${token(person)}` } : { authorization: 'Bearer test-admin-token-0123456789' } });
  return { statusCode: res.statusCode, body: JSON.parse(res.body) };
};
const elders = async (person: string) => (await get('/api/care/elders', person)).body.items as Array<Record<string, any>>;
const use = (t: number, litres: number, totalM3: number) => ({
  type: 'reading',
  ts: at(t),
  totalM3,
  intervals: [{ start: at(t - 15 * MIN), end: at(t), litres }],
});

describe('care rounds over MQTT (event clock)', () => {
  it('raises missed_check at 20:00 for the elder with no sign of life since 10:00, not for the one who used water', async () => {
    const a = await env.device('gh-wm-6-302');
    const b = await env.device('gh-wm-6-504');
    await a.send(use(T0, 5, 31.405)); // 08:00, and nothing after
    await b.send(use(T0, 2, 20));
    await env.advance(T0 + 2 * HOUR); // the 10:00 round: both used water since yesterday's 20:00 round
    expect(await env.alerts({ kind: 'missed_check' })).toEqual([]);
    await b.send(use(T0 + 7 * HOUR, 8, 20.01)); // 15:00: a sign of life for the 20:00 round
    await env.advance(T0 + 12 * HOUR); // the 20:00 round
    const alert = await env.waitAlert({ kind: 'missed_check', householdId: A });
    expect(alert).toMatchObject({
      severity: 'major',
      status: 'open',
      title: '王婆婆家(6-302) 今日20:00巡访未见活动',
      gridId: 'gh-g2',
      openedAt: at(T0 + 12 * HOUR),
      details: { round: at(T0 + 12 * HOUR), since: at(T0 + 2 * HOUR), lastSignOfLifeAt: at(T0), lastSign: 'water' },
    });
    expect((await env.alerts({ kind: 'missed_check' })).map((x) => x.householdId)).toEqual([A]);
    await a.end();
    await b.end();
  });

  it('lists a volunteer only the elders paired with them, the missed one first', async () => {
    const items = await elders('gh-vol-g2-1');
    expect(items.map((i) => i.householdId)).toEqual([A, 'gh-6-101', 'gh-6-202']);
    expect(items[0]).toMatchObject({
      displayName: '王婆婆',
      room: '302',
      buildingName: '6号楼',
      gridId: 'gh-g2',
      lastSignOfLifeAt: at(T0),
      lastSign: 'water',
      volunteerId: 'gh-vol-g2-1',
      round: { lastAt: at(T0 + 12 * HOUR), nextAt: at(T0 + 26 * HOUR), missed: true },
    });
    expect(items[0].openAlerts).toBeGreaterThanOrEqual(1);
    expect(items[1]).toMatchObject({ lastSignOfLifeAt: null, lastSign: null, round: { missed: false } }); // never heard of
    expect((await elders('gh-vol-g2-2')).map((i) => i.householdId)).toEqual(['gh-6-501', B]);
  });

  it('staff see the lone elders of their grids', async () => {
    const g1 = await elders('gh-head-g1');
    expect(g1.length).toBeGreaterThan(0);
    expect(g1.every((i) => i.gridId === 'gh-g1')).toBe(true);
    const both = await elders('gh-care-1');
    expect(new Set(both.map((i) => i.gridId))).toEqual(new Set(['gh-g1', 'gh-g2']));
    expect(both.find((i) => i.householdId === B)).toMatchObject({ lastSign: 'water', lastSignOfLifeAt: at(T0 + 7 * HOUR), round: { missed: false } });
  });

  it('answers 404 for a household outside the caller (not paired, other grid, unknown) and 400 for a visit in the future', async () => {
    expect((await env.post('/api/care/visits', { householdId: A }, token('gh-vol-g2-2'))).statusCode).toBe(404);
    expect((await env.post('/api/care/visits', { householdId: A }, token('gh-vol-g1-1'))).statusCode).toBe(404);
    expect((await env.post('/api/care/visits', { householdId: A }, token('gh-head-g1'))).statusCode).toBe(404);
    expect((await env.post('/api/care/visits', { householdId: 'gh-nope' }, token('gh-vol-g2-1'))).body.code).toBe('SB_NOT_FOUND');
    const future = await env.post('/api/care/visits', { householdId: A, at: at(T0 + 13 * HOUR) }, token('gh-vol-g2-1'));
    expect(future).toMatchObject({ statusCode: 400, body: { code: 'SB_VALIDATION' } });
    expect((await env.post('/api/care/visits', { householdId: A, extra: 1 }, token('gh-vol-g2-1'))).statusCode).toBe(400);
    expect((await env.alerts({ kind: 'missed_check' })).find((x) => x.householdId === A)?.status).toBe('open');
  });

  it("the paired volunteer's logged visit resolves it", async () => {
    const alert = (await env.alerts({ kind: 'missed_check' })).find((x) => x.householdId === A)!;
    const res = await env.post('/api/care/visits', { householdId: A, note: '老人在家，精神不错' }, token('gh-vol-g2-1'));
    expect(res.statusCode).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), householdId: A, at: at(T0 + 12 * HOUR) });
    const resolved = await env.waitStatus(alert.id, 'resolved');
    expect(resolved.resolution).toBe('上门探访（gh-vol-g2-1，3月1日 20:00）：老人在家，精神不错');
    const [item] = (await elders('gh-vol-g2-1')).filter((i) => i.householdId === A);
    expect(item).toMatchObject({ lastSign: 'visit', lastSignOfLifeAt: at(T0 + 12 * HOUR), round: { missed: false } });
  });

  it("gives the committee the day's report, scoped to their grids", async () => {
    const r = await get('/api/reports/daily?communityId=guihuayuan', 'gh-rc-1');
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatchObject({ communityId: 'guihuayuan', communityName: '桂花园', to: at(T0 + 12 * HOUR), autoResolved: expect.any(Number) });
    expect(r.body.grids.map((g: { gridId: string }) => g.gridId)).toEqual(['gh-g1', 'gh-g2']);
    expect(r.body.opened).toBeGreaterThanOrEqual(1);
    expect(r.body.offlineDevices.map((d: { deviceId: string }) => d.deviceId)).toContain('gh-wm-6-302'); // silent since 08:00
    const day = await get('/api/reports/daily?communityId=guihuayuan&date=2025-03-01', 'gh-oc-1');
    expect(day.body).toMatchObject({ date: '2025-03-01', from: at(Date.parse('2025-03-01T00:00:00+08:00')), to: at(T0 + 12 * HOUR) });
    expect((await get('/api/reports/daily?communityId=guihuayuan', 'gh-vol-g2-1')).statusCode).toBe(403);
    expect((await get('/api/reports/daily?communityId=guihuayuan', 'cj-rc-1')).statusCode).toBe(404);
    expect((await get('/api/reports/daily?communityId=guihuayuan&date=2025-03-09', 'gh-rc-1')).statusCode).toBe(400);
    expect((await get('/api/reports/daily?communityId=guihuayuan&date=2025-02-30', 'gh-rc-1')).body.code).toBe('SB_VALIDATION');
    const g1 = await get('/api/reports/daily?communityId=guihuayuan', 'gh-head-g1');
    expect(g1.body.grids.map((g: { gridId: string }) => g.gridId)).toEqual(['gh-g1']);
  });

  it("queues the daily digest to the committee's group robot", async () => {
    await env.t.app.jobs!.digest!.runNow();
    const msg = await waitFor(() => rx.accepted('wecom').find((m) => m.text.includes('每日简报')), 'the digest at the robot', 8000);
    expect(msg.text).toContain('【提示】桂花园 每日简报（3月1日）');
    expect(msg.text).toContain('离线设备');
    expect(msg.text).toMatch(/桂花园第二微网格（6号楼）：新增\d+件，未办结\d+件；确认用时/);
  });

  it('retention keeps this year\'s visits', async () => {
    const r = await runRetention({ store: env.t.app.store, now: env.t.app.clock.now(), rejectionsMax: 10_000 });
    expect(r.careVisits).toBe(0);
    expect((await runRetention({ store: env.t.app.store, now: env.t.app.clock.now() + 366 * 24 * HOUR, rejectionsMax: 10_000 })).careVisits).toBe(1);
  });

  it('keeps the rounds across a restart', async () => {
    const dataDir = env.t.dataDir;
    await env.close({ keepData: true });
    env = await startAlertsApp(dataDir);
    await env.advance(T0 + 26 * HOUR); // 10:00 the next day: nothing from either since 20:00
    const next = await waitFor(async () => {
      const list = await env.alerts({ kind: 'missed_check', status: 'open' });
      return list.length === 2 && list;
    }, 'both missed at 10:00 after the restart');
    expect(next.map((x) => x.householdId).sort()).toEqual([A, B]);
    expect(next.find((x) => x.householdId === B)!.title).toBe('张婆婆家(6-504) 今日10:00巡访未见活动');
  });
});
