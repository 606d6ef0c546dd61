// Care rounds judged on covering data, over real MQTT and SQLite on the event clock. Two lone elders' NB meters
// upload a batch of 15-minute intervals every 6 hours, arriving 30 minutes after the batch's end (the device
// state learns that cadence). Both used water at 09:00; 程爷爷 (C) again at 19:00, which only the batch ending at
// 24:00 shows. At the 20:00 round neither is called missed (before this, both were: their covering batch had
// not arrived); when the 24:00 batch arrives, 田嬢嬢 (D), who shows nothing since 09:00, is — and C is not.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, HOUR, MIN, at, type AlertsEnv } from './alertsHarness.js';

const C = 'gh-6-501';
const D = 'gh-6-101';
const E0 = T0 - 8 * HOUR; // 2025-03-01 00:00 local

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(async () => {
  await env?.close();
});

/** The batch of [end − 6 h, end] with litres at the given event times. */
const batch = (end: number, uses: Record<number, number> = {}) => {
  const intervals = [];
  for (let t = end - 6 * HOUR; t < end; t += 15 * MIN) intervals.push({ start: at(t), end: at(t + 15 * MIN), litres: uses[t] ?? 0 });
  return { type: 'reading', ts: at(end), totalM3: 20, intervals };
};
/** missed_check alerts of the household for the 20:00 round of 1 March (the setup's first day has its own). */
const missed = async (h: string) =>
  (await env.alerts({ kind: 'missed_check' })).filter((a) => a.householdId === h && (a.details as { round?: string }).round === at(E0 + 20 * HOUR));

describe('missed_check waits for the batch that covers the round', () => {
  it('does not call a round missed before its batch is in, and judges it when the batch arrives', async () => {
    const c = await env.device('gh-wm-6-501');
    const d = await env.device('gh-wm-6-101');
    for (const end of [E0 - 12 * HOUR, E0 - 6 * HOUR, E0, E0 + 6 * HOUR, E0 + 12 * HOUR, E0 + 18 * HOUR]) {
      await env.advance(end + 30 * MIN); // it arrives half an hour after its last interval
      const uses = end === E0 + 12 * HOUR ? { [E0 + 9 * HOUR]: 8 } : {};
      await c.send(batch(end, uses));
      await d.send(batch(end, uses));
    }
    await env.advance(E0 + 20 * HOUR + 5 * MIN); // the 20:00 round: nothing since 10:00 in the data so far
    expect(await missed(C)).toEqual([]);
    expect(await missed(D)).toEqual([]);

    await env.advance(E0 + 24 * HOUR + 30 * MIN);
    await c.send(batch(E0 + 24 * HOUR, { [E0 + 19 * HOUR]: 6 }));
    await d.send(batch(E0 + 24 * HOUR));
    const alert = await env.waitAlert({ kind: 'missed_check', householdId: D, status: 'open' });
    expect(alert).toMatchObject({
      title: '田嬢嬢家(6-101) 今日20:00巡访未见活动',
      details: { round: at(E0 + 20 * HOUR), since: at(E0 + 10 * HOUR), judgedAt: at(E0 + 24 * HOUR + 30 * MIN), lastSignOfLifeAt: at(E0 + 9 * HOUR + 15 * MIN) },
    });
    expect(await missed(C)).toEqual([]);
  });
});
