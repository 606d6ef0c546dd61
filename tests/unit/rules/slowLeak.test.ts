import { describe, it, expect } from 'vitest';
import { slowLeak, type SlowLeakConfig, type SlowLeakState } from '../../../src/rules/slowLeak.js';
import { Harness, device, elder, family, reading, T0, MIN, HOUR } from './harness.js';

const wm = device('water-meter', { householdId: elder.id });
const meter = (household = elder, config: Partial<SlowLeakConfig> = {}) => new Harness<SlowLeakState, SlowLeakConfig>(slowLeak, { device: wm, household, config });

/** Hourly readings of four 15-minute intervals: `drip(i)` whole litres in the last quarter of hour i, 6 L of use at 08:00. */
function run(h: ReturnType<typeof meter>, from: number, hours: number, drip: (i: number) => number): void {
  for (let i = 0; i < hours; i++) {
    const t = from + i * HOUR;
    const intervals = [0, 1, 2, 3].map((q) => ({ start: t + q * 15 * MIN, end: t + (q + 1) * 15 * MIN, litres: (q === 3 ? drip(i) : 0) + (q === 0 && i % 24 === 8 ? 6 : 0) }));
    h.read(reading(wm, 'reading', t + HOUR, { intervals }));
  }
}

describe('slow_leak (漏水提醒)', () => {
  it('notices water in every hour of a whole day, gently, and says how much', () => {
    const h = meter();
    run(h, T0, 23, () => 2);
    expect(h.opened).toBe(0); // 23 full hours: not yet a day
    run(h, T0 + 23 * HOUR, 1, () => 2);
    expect(h.opened).toBe(1);
    expect(h.actionsOf('open')[0]).toMatchObject({
      severity: 'minor',
      title: '王婆婆家(6-302) 漏水提醒',
      details: { floorLph: 2, litresPerDay: 48, explanation: expect.stringContaining('最少约 2 升/时') },
    });
  });

  it('raises the same notice again when the drip grows, and resolves when an hour shows no water', () => {
    const h = meter(family);
    run(h, T0, 30, () => 1);
    expect(h.opened).toBe(1);
    run(h, T0 + 30 * HOUR, 30, () => 3);
    expect(h.actionsOf('open')).toHaveLength(2);
    expect(h.actionsOf('open')[1]).toMatchObject({ details: { floorLph: 3, explanation: expect.stringMatching(/^滴漏加重/) } });
    run(h, T0 + 60 * HOUR, 1, () => 0);
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: '滴漏已停（有一小时无用水）' });
  });

  it('never takes ordinary use for a leak: a day with quiet night hours has no floor', () => {
    const h = meter();
    run(h, T0, 72, (i) => (i % 24 >= 6 && i % 24 <= 22 ? 5 : 0));
    expect(h.opened).toBe(0);
  });
});
