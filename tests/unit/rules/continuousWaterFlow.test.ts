import { describe, it, expect } from 'vitest';
import { continuousWaterFlow } from '../../../src/rules/continuousWaterFlow.js';
import { Harness, device, elder, family, reading, T0, MIN, HOUR } from './harness.js';

const wm = device('water-meter', { householdId: elder.id });

/** A batch of 15-minute intervals from `from` with the given litres each. */
function batch(from: number, litres: number[]) {
  const intervals = litres.map((l, i) => ({ start: from + i * 15 * MIN, end: from + (i + 1) * 15 * MIN, litres: l }));
  return reading(wm, 'reading', from + litres.length * 15 * MIN, { intervals });
}

describe('continuous_water_flow', () => {
  it('alerts when every interval for 2 h shows use (major for a lone elder)', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: elder });
    h.read(batch(T0, [3, 3, 3, 3, 3, 3, 3])); // 1 h 45 min
    expect(h.alert).toBeUndefined();
    h.read(batch(T0 + 105 * MIN, [3]));
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'major', title: '6号楼302 持续用水超过2小时', details: { hours: 2, litres: 24 } });
  });

  it('is minor for other households and updates the running alert', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: family });
    h.read(batch(T0, Array(8).fill(2)));
    h.read(batch(T0 + 2 * HOUR, [2, 2]));
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'minor' });
    expect(h.actionsOf('update')[0]).toMatchObject({ details: { hours: 2.5 } });
  });

  it('resolves when the flow stops', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: elder });
    h.read(batch(T0, Array(8).fill(2)));
    expect(h.alert).toBeDefined();
    h.read(batch(T0 + 2 * HOUR, [0]));
    expect(h.alert).toBeUndefined();
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: '用水已停止' });
  });

  it('does not count a run broken by an uncovered gap', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: elder });
    h.read(batch(T0, Array(5).fill(2)));
    h.read(batch(T0 + 90 * MIN, Array(5).fill(2))); // 15 min missing between them
    expect(h.opened).toBe(0);
  });

  it('works on register deltas between readings up to 30 minutes apart', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: elder });
    [10, 10.02, 10.04, 10.06, 10.08].forEach((totalM3, i) => h.read(reading(wm, 'reading', T0 + i * 30 * MIN, { totalM3 })));
    expect(h.opened).toBe(1); // four 30-minute deltas with use (the first reading only sets the baseline)
  });

  it('does not take hourly or daily deltas for continuous flow: a busy morning is not a leak', () => {
    const hourly = new Harness(continuousWaterFlow, { device: wm, household: elder });
    [10, 10.02, 10.04, 10.06, 10.08].forEach((totalM3, i) => hourly.read(reading(wm, 'reading', T0 + i * HOUR, { totalM3 })));
    expect(hourly.opened).toBe(0);
    const daily = new Harness(continuousWaterFlow, { device: wm, household: elder });
    [10, 10.5, 11].forEach((totalM3, i) => daily.read(reading(wm, 'reading', T0 + i * 12 * HOUR, { totalM3 })));
    expect(daily.opened).toBe(0);
  });

  it('opens on a leak alarm and clears when the meter says the flow is zero', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: family });
    h.read(reading(wm, 'alarm', T0, { code: 'leak', flowLph: 300 }));
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'major', title: '6号楼302 水表漏水报警', details: { source: 'leak_alarm' } });
    h.read(reading(wm, 'reading', T0 + 10 * MIN, { totalM3: 5, flowLph: 0 }));
    expect(h.alert).toBeUndefined();
  });

  it('ignores spans older than what it has already seen', () => {
    const h = new Harness(continuousWaterFlow, { device: wm, household: elder });
    h.read(batch(T0 + 2 * HOUR, [0]));
    h.read(batch(T0, Array(8).fill(2))); // a late batch from before: history, not now
    expect(h.opened).toBe(0);
  });
});
