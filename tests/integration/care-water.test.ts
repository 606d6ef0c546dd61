// The usual day beside the last two days (GET /api/care/elders/:householdId/water), learned by no_water_use
// from 王婆婆's meter over real MQTT on the event clock; a volunteer not paired with her is told it does not exist.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, HOUR, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { sampleSecrets } from '../helpers.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env?.close());

const get = async (url: string, person: string) => {
  const res = await env.t.app.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${sampleSecrets.people[person]}` } });
  return { statusCode: res.statusCode, body: JSON.parse(res.body) };
};

describe('the usual day of water use', () => {
  it('shows what the model learned and the hours as the meter showed them, to the paired volunteer only', async () => {
    const wm = await env.device('gh-wm-6-302');
    const start = T0 - 8 * HOUR; // 00:00 local
    let total = 31.4;
    // Three days: 6 L at 07:00 and 4 L at 18:00 local, hourly readings of four 15-minute intervals.
    for (let i = 0; i < 72; i++) {
      const t = start + i * HOUR;
      const hour = i % 24;
      const litres = hour === 7 ? 6 : hour === 18 ? 4 : 0;
      total += litres / 1000;
      const intervals = [0, 1, 2, 3].map((q) => ({ start: at(t + q * 15 * MIN), end: at(t + (q + 1) * 15 * MIN), litres: q === 0 ? litres : 0 }));
      await wm.send({ type: 'reading', ts: at(t + HOUR), totalM3: Math.round(total * 1000) / 1000, intervals });
    }
    const res = await get('/api/care/elders/gh-6-302/water', 'gh-vol-g2-1');
    expect(res.statusCode).toBe(200);
    const b = res.body;
    // One day has left the 48 h ring: learned (minHistoryDays 1), so the model judges, not the fixed rule.
    expect(b).toMatchObject({ householdId: 'gh-6-302', deviceId: 'gh-wm-6-302', learning: false, floorLph: 0 });
    expect(b.historyDays).toBeGreaterThan(0);
    expect(b.usualDay).toHaveLength(24);
    // Learned from the day that left the 48 h ring: 07:00 and 18:00 stand out from the night.
    expect(b.usualDay[7].p).toBeGreaterThan(b.usualDay[3].p + 0.3);
    expect(b.usualDay[18].litres).toBeGreaterThan(b.usualDay[3].litres);
    expect(b.recent).toHaveLength(48);
    const used = b.recent.filter((x: { used: boolean }) => x.used).map((x: { hour: number; litres: number }) => [x.hour, x.litres]);
    expect(used).toEqual([[7, 6], [18, 4], [7, 6], [18, 4]]);
    // 张婆婆's volunteer: as if the household did not exist.
    const other = await get('/api/care/elders/gh-6-302/water', 'gh-vol-g2-2');
    expect(other.statusCode).toBe(404);
    expect(other.body.code).toBe('SB_NOT_FOUND');
  });
});
