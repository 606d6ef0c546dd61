import { describe, it, expect } from 'vitest';
import { noWaterUse, type NoWaterUseConfig, type NoWaterUseState } from '../../../src/rules/noWaterUse.js';
import { Harness, device, elder, family, reading, T0, MIN, HOUR } from './harness.js';
import type { HouseholdInfo } from '../../../src/config/inventory.js';

const wm = device('water-meter', { householdId: elder.id });

function meter(household: HouseholdInfo = elder, config: Partial<NoWaterUseConfig> = {}) {
  return new Harness<NoWaterUseState, NoWaterUseConfig>(noWaterUse, { device: wm, household, config });
}

/** Hourly register readings from `from` for `hours` hours, adding `litresPerHour` each hour. */
function hourly(h: ReturnType<typeof meter>, from: number, hours: number, startM3: number, litresPerHour = 0): number {
  let total = startM3;
  for (let i = 0; i <= hours; i++) {
    if (i > 0) total += litresPerHour / 1000;
    h.read(reading(wm, 'reading', from + i * HOUR, { totalM3: Math.round(total * 1000) / 1000 }));
  }
  return total;
}

describe('no_water_use', () => {
  it('alerts after 12 h of covered time with under 10 L, once the settle time has passed', () => {
    const h = meter();
    hourly(h, T0, 11, 10);
    expect(h.deadline).toBeUndefined(); // 11 h covered: not yet
    h.read(reading(wm, 'reading', T0 + 12 * HOUR, { totalM3: 10.005 }));
    expect(h.deadline).toBe(T0 + 12 * HOUR + 10 * MIN);
    h.advance(T0 + 12 * HOUR + 9 * MIN);
    expect(h.alert).toBeUndefined();
    h.advance(T0 + 12 * HOUR + 10 * MIN);
    expect(h.alert).toBeDefined();
    const open = h.actionsOf('open')[0];
    expect(open).toMatchObject({ severity: 'major', title: '王婆婆家(6-302) 12小时无用水' });
    expect(open).toMatchObject({ details: { litres: 5, thresholdLitres: 10, windowTo: new Date(T0 + 12 * HOUR).toISOString() } });
  });

  it('does not alert when 10 L or more were used', () => {
    const h = meter();
    hourly(h, T0, 12, 10, 1); // 12 L over 12 h
    h.advance(T0 + 24 * HOUR);
    expect(h.opened).toBe(0);
  });

  it('watches lone elders only (unless configured otherwise)', () => {
    const h = meter(family);
    hourly(h, T0, 13, 10);
    h.advance(T0 + 24 * HOUR);
    expect(h.opened).toBe(0);
    const all = meter(family, { loneEldersOnly: false });
    hourly(all, T0, 13, 10);
    all.advance(T0 + 24 * HOUR);
    expect(all.opened).toBe(1);
  });

  it('treats a register going down as a reset, never as negative use', () => {
    const h = meter();
    // 20 L every other hour throughout; the meter is swapped at 6 h (the register drops from ~100 m³ to 0).
    let total = hourly(h, T0, 5, 100, 20);
    total = 0;
    for (let i = 6; i <= 24; i++) {
      total += i % 2 ? 0.02 : 0;
      h.read(reading(wm, 'reading', T0 + i * HOUR, { totalM3: Math.round(total * 1000) / 1000 }));
    }
    h.advance(T0 + 26 * HOUR);
    expect(h.opened).toBe(0);
    const slots = h.state!.m!.s;
    expect(slots.every((slot) => slot[1] >= 0)).toBe(true);
    // The hour across the swap is unknown (not covered): the 5 h–6 h slot has no span.
    const swapHour = slots.find((slot) => slot[0] === (T0 + 5 * HOUR) / HOUR);
    expect(swapHour === undefined || swapHour.length === 3).toBe(true);
  });

  it('judges a batch of intervals arriving 10 hours late on its own timestamps', () => {
    const h = meter();
    const intervals = Array.from({ length: 48 }, (_, i) => ({ start: T0 + i * 15 * MIN, end: T0 + (i + 1) * 15 * MIN, litres: 0 }));
    const arrival = T0 + 22 * HOUR; // the batch ends at 12:00 and arrives at 22:00
    h.read({ ...reading(wm, 'reading', T0 + 12 * HOUR, { totalM3: 50, intervals }), receivedAt: arrival }, arrival);
    expect(h.deadline).toBe(T0 + 12 * HOUR + 10 * MIN); // already due: fires with the batch
    h.advance(arrival);
    expect(h.opened).toBe(1);
    expect(h.actionsOf('open')[0]).toMatchObject({
      details: { windowFrom: new Date(T0).toISOString(), windowTo: new Date(T0 + 12 * HOUR).toISOString(), litres: 0 },
    });
  });

  it('counts a batch sent twice once (new data replaces what it overlaps)', () => {
    const h = meter(elder, { settleMinutes: 0 });
    const intervals = Array.from({ length: 48 }, (_, i) => ({ start: T0 + i * 15 * MIN, end: T0 + (i + 1) * 15 * MIN, litres: i % 8 === 0 ? 1.5 : 0 }));
    h.read(reading(wm, 'reading', T0 + 12 * HOUR, { intervals })); // 9 L in 12 h
    h.advance(T0 + 12 * HOUR);
    expect(h.actionsOf('open')[0]).toMatchObject({ details: { litres: 9 } });
    h.read(reading(wm, 'reading', T0 + 12 * HOUR, { intervals }), T0 + 13 * HOUR); // the same batch, re-sent
    expect(h.actionsOf('resolve')).toEqual([]); // not 18 L, not "use resumed"
  });

  it('does not alert on a late batch that shows use, however long it was silent', () => {
    const h = meter();
    const intervals = Array.from({ length: 48 }, (_, i) => ({ start: T0 + i * 15 * MIN, end: T0 + (i + 1) * 15 * MIN, litres: i === 40 ? 12 : 0 }));
    h.read(reading(wm, 'reading', T0 + 12 * HOUR, { totalM3: 50, intervals }), T0 + 22 * HOUR);
    h.advance(T0 + 22 * HOUR);
    expect(h.opened).toBe(0);
  });

  it('gives a silent meter no alert: no data is not no use', () => {
    const h = meter();
    hourly(h, T0, 6, 10);
    h.advance(T0 + 48 * HOUR);
    expect(h.opened).toBe(0);
    expect(h.deadline).toBeUndefined();
  });

  it('lets a late piece showing use within the settle time cancel the alert', () => {
    const h = meter();
    hourly(h, T0, 12, 10);
    expect(h.deadline).toBeDefined();
    // An interval from 11:00–11:15 with 15 L turns up after the register readings.
    h.read(reading(wm, 'reading', T0 + 11 * HOUR + 15 * MIN, { intervals: [{ start: T0 + 11 * HOUR, end: T0 + 11 * HOUR + 15 * MIN, litres: 15 }] }), T0 + 12 * HOUR + 5 * MIN);
    expect(h.deadline).toBeUndefined();
    h.advance(T0 + 13 * HOUR);
    expect(h.opened).toBe(0);
  });

  it('resolves automatically when use resumes', () => {
    const h = meter();
    const total = hourly(h, T0, 12, 10);
    h.advance(T0 + 13 * HOUR);
    expect(h.alert).toBeDefined();
    h.read(reading(wm, 'reading', T0 + 14 * HOUR, { totalM3: total + 0.006 }));
    expect(h.alert).toBeUndefined();
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: expect.stringContaining('恢复用水') });
  });

  it('does not open a second alert for the same quiet stretch after a person closed the first', () => {
    const h = meter();
    let total = hourly(h, T0, 12, 10);
    h.advance(T0 + 13 * HOUR);
    h.personResolves(); // the volunteer visited: she is staying with her daughter
    hourly(h, T0 + 13 * HOUR, 12, total);
    h.advance(T0 + 30 * HOUR);
    expect(h.opened).toBe(1);
    // Use resumes, then another 12 quiet hours: a new episode, a new alert.
    total += 0.02;
    h.read(reading(wm, 'reading', T0 + 26 * HOUR, { totalM3: total }));
    hourly(h, T0 + 26 * HOUR, 12, total);
    h.advance(T0 + 40 * HOUR);
    expect(h.opened).toBe(2);
  });

  it('takes its window and thresholds from settings', () => {
    const h = meter(elder, { windowHours: 24, minLitres: 8, settleMinutes: 0 });
    hourly(h, T0, 12, 10);
    h.advance(T0 + 13 * HOUR);
    expect(h.opened).toBe(0);
    hourly(h, T0 + 12 * HOUR, 12, 10);
    h.advance(T0 + 24 * HOUR);
    expect(h.actionsOf('open')[0]).toMatchObject({ title: '王婆婆家(6-302) 24小时无用水' });
  });
});

describe('no_water_use and what the care desk says (ctx.care)', () => {
  it('counts silence only after a logged visit', () => {
    const h = meter();
    h.care = { absences: [], lastVisitAt: T0 + 3 * HOUR };
    hourly(h, T0, 14, 10);
    expect(h.deadline).toBeUndefined(); // 11 quiet hours since the visit
    hourly(h, T0 + 15 * HOUR, 0, 10);
    expect(h.deadline).toBe(T0 + 15 * HOUR + 10 * MIN); // 12 since the visit
    h.advance(T0 + 15 * HOUR + 10 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ details: { windowFrom: new Date(T0 + 3 * HOUR).toISOString() } });
  });

  it('does not alert while the household is marked away, nor until 12 quiet hours after it ends', () => {
    const h = meter();
    h.care = { absences: [{ id: 1, reason: 'hospital', from: T0 - HOUR, until: T0 + 20 * HOUR }] };
    hourly(h, T0, 24, 10);
    h.advance(T0 + 25 * HOUR);
    expect(h.actionsOf('open')).toEqual([]);
    hourly(h, T0 + 25 * HOUR, 7, 10);
    h.advance(T0 + 33 * HOUR);
    expect(h.actionsOf('open')).toHaveLength(1);
    expect(h.actionsOf('open')[0]).toMatchObject({ details: { windowFrom: new Date(T0 + 20 * HOUR).toISOString() } });
  });

  it('a visit during an open episode resolves it, and so does marking the household away over it', () => {
    for (const input of ['visit', 'absence'] as const) {
      const h = meter();
      hourly(h, T0, 12, 10);
      h.advance(T0 + 13 * HOUR);
      expect(h.alert).toBeDefined();
      if (input === 'visit') {
        h.care = { absences: [], lastVisitAt: T0 + 13 * HOUR };
        h.run({ type: 'visit', household: elder.id, by: 'vol-1', at: T0 + 13 * HOUR }, T0 + 13 * HOUR);
        expect(h.actionsOf('resolve')).toEqual([{ type: 'resolve', reason: '上门探访（vol-1）' }]);
      } else {
        const absence = { id: 2, reason: 'family' as const, from: T0, until: T0 + 48 * HOUR };
        h.care = { absences: [absence] };
        h.run({ type: 'absence', household: elder.id, by: 'vol-1', change: 'marked', absence }, T0 + 13 * HOUR);
        expect(h.actionsOf('resolve')).toEqual([{ type: 'resolve', reason: '已登记子女家，不在家' }]);
      }
      expect(h.alert).toBeUndefined();
    }
  });

  it('a planned absence (not begun) explains nothing', () => {
    const h = meter();
    h.care = { absences: [{ id: 3, reason: 'outing', from: T0 + 30 * HOUR, until: T0 + 40 * HOUR }] };
    hourly(h, T0, 12, 10);
    h.advance(T0 + 13 * HOUR);
    expect(h.alert).toBeDefined();
  });
});
