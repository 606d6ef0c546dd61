// Water alerts end to end: a lone elder's meter over real MQTT, judged on the meter's own times.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, HOUR, at, type AlertsEnv } from './alertsHarness.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env.close());

describe('water alerts over MQTT', () => {
  it('no_water_use: 12 quiet covered hours alert the volunteer, and use resolves it', async () => {
    const wm = await env.device('gh-wm-6-302'); // 王婆婆, 6-302, lives alone; canonical hourly meter
    for (let h = 0; h <= 12; h++) await wm.send({ type: 'reading', ts: at(T0 + h * HOUR), totalM3: 31.402 + (h === 0 ? 0 : 0.003) });
    // Quiet since T0 (3 L in 12 h); judged 10 min after the window's end.
    await env.advance(T0 + 12 * HOUR + 10 * MIN);
    const a = await env.waitAlert({ kind: 'no_water_use', deviceId: 'gh-wm-6-302' });
    expect(a).toMatchObject({
      severity: 'major',
      status: 'open',
      title: '王婆婆家(6-302) 12小时无用水',
      gridId: 'gh-g2',
      householdId: 'gh-6-302',
      details: { windowFrom: at(T0), windowTo: at(T0 + 12 * HOUR), litres: 3, thresholdLitres: 10 },
    });
    await wm.send({ type: 'reading', ts: at(T0 + 13 * HOUR), totalM3: 31.425 });
    const resolved = await env.waitStatus(a.id, 'resolved');
    expect(resolved.resolution).toMatch(/^恢复用水/);
  });

  it('no_water_use: a batch of intervals arriving 10 hours late is judged on its own timestamps', async () => {
    const wm = await env.device('gh-wm-5-302'); // 董婆婆, 5-302
    const start = T0 + 24 * HOUR;
    await env.advance(start + 22 * HOUR); // the clock is at 22:00 when the 00:00–12:00 batch finally arrives
    const intervals = Array.from({ length: 48 }, (_, i) => ({ start: at(start + i * 15 * MIN), end: at(start + (i + 1) * 15 * MIN), litres: 0 }));
    await wm.send({ type: 'reading', ts: at(start + 12 * HOUR), totalM3: 12.5, intervals });
    const a = await env.waitAlert({ kind: 'no_water_use', deviceId: 'gh-wm-5-302' });
    expect(a.details).toMatchObject({ windowFrom: at(start), windowTo: at(start + 12 * HOUR), litres: 0 });
    expect(a.openedAt).toBe(at(start + 12 * HOUR + 10 * MIN)); // the deadline's own time on the event clock
  });

  it('continuous_water_flow: use in every interval for 2 h alerts; a dry interval resolves', async () => {
    const wm = await env.device('gh-wm-5-402'); // 周嬢嬢, 5-402
    const start = T0 + 60 * HOUR;
    const flowing = Array.from({ length: 8 }, (_, i) => ({ start: at(start + i * 15 * MIN), end: at(start + (i + 1) * 15 * MIN), litres: 10 }));
    await wm.send({ type: 'reading', ts: at(start + 2 * HOUR), totalM3: 40.048, intervals: flowing });
    const a = await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-5-402' });
    expect(a).toMatchObject({ severity: 'major', title: '5号楼402 持续用水超过2小时', details: { hours: 2, litres: 80 } });
    await wm.send({
      type: 'reading',
      ts: at(start + 2 * HOUR + 15 * MIN),
      totalM3: 40.048,
      intervals: [{ start: at(start + 2 * HOUR), end: at(start + 2 * HOUR + 15 * MIN), litres: 0 }],
    });
    expect((await env.waitStatus(a.id, 'resolved')).resolution).toBe('用水已停止');
  });

  it('continuous_water_flow: a 3 h run that ended inside an NB batch is reported (and resolved); a 90-min bath is not', async () => {
    const wm = await env.device('gh-wm-5-303');
    const start = T0 + 80 * HOUR;
    const q = (i: number, litres: number) => ({ start: at(start + i * 15 * MIN), end: at(start + (i + 1) * 15 * MIN), litres });
    // A bath (6 × 15 min), a pause, then a tap left open 3 h and closed, all in one upload.
    const litres = [0, 20, 20, 20, 20, 20, 20, 0, 0, ...Array(12).fill(10), 0, 0, 0];
    await wm.send({ type: 'reading', ts: at(start + litres.length * 15 * MIN), totalM3: 50.18, intervals: litres.map((l, i) => q(i, l)) });
    const a = await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-5-303' });
    expect(a).toMatchObject({ title: '5号楼303 持续用水3小时（已停止）', details: { ended: true, hours: 3, litres: 120, runFrom: at(start + 9 * 15 * MIN) } });
    expect((await env.waitStatus(a.id, 'resolved')).resolution).toBe('用水已停止（批量数据中已结束）');
    expect((await env.alerts({ kind: 'continuous_water_flow' })).filter((x) => x.deviceId === 'gh-wm-5-303')).toHaveLength(1); // not the bath
  });

  it('continuous_water_flow: hourly readings with flowLph show a tap open for 2 h', async () => {
    const wm = await env.device('gh-wm-5-504');
    const start = T0 + 90 * HOUR;
    for (let i = 0; i <= 2; i++) await wm.send({ type: 'reading', ts: at(start + i * HOUR), totalM3: 60 + i * 0.36, flowLph: 360 });
    expect(await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-5-504' })).toMatchObject({
      title: '5号楼504 持续用水超过2小时',
      details: { judgedBy: 'hourly_flow', hours: 2, litres: 720 },
    });
  });

  it('continuous_water_flow: a leak alarm alerts at once', async () => {
    const wm = await env.device('gh-wm-6-504');
    await wm.send({ type: 'alarm', code: 'leak', ts: at(T0 + 70 * HOUR) });
    expect(await env.waitAlert({ kind: 'continuous_water_flow', deviceId: 'gh-wm-6-504' })).toMatchObject({
      title: '6号楼504 水表漏水报警',
      details: { source: 'leak_alarm' },
    });
  });
});
