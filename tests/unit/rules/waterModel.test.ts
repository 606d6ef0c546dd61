// no_water_use on the learned model (src/rules/lib/waterModel.ts): a silence improbable for this elder, the
// drip floor, the explanation, fixed size. T0 is 2025-03-01 00:00 China time.
import { describe, it, expect } from 'vitest';
import { noWaterUse, type NoWaterUseConfig, type NoWaterUseState } from '../../../src/rules/noWaterUse.js';
import { dispersion, floorOf, historyDays, newModel, observe, observeSlots, silence, usualDay } from '../../../src/rules/lib/waterModel.js';
import { Harness, device, elder, reading, T0, MIN, HOUR } from './harness.js';

const wm = device('water-meter', { householdId: elder.id });
const DAY = 24 * HOUR;
// settleMinutes 0: the harness advances the clock with each hourly reading, as the engine would at the deadline.
const meter = (config: Partial<NoWaterUseConfig> = {}) =>
  new Harness<NoWaterUseState, NoWaterUseConfig>(noWaterUse, { device: wm, household: elder, config: { settleMinutes: 0, ...config } });

/**
 * One hourly reading per hour from `from` for `hours`, with four 15-minute intervals: `use(t)` litres in the
 * first quarter of the hour starting at t, plus a drip of `drip` whole litres in the last quarter.
 */
function run(h: ReturnType<typeof meter>, from: number, hours: number, use: (t: number) => number, drip = 0): void {
  for (let i = 0; i < hours; i++) {
    const t = from + i * HOUR;
    const intervals = [0, 1, 2, 3].map((q) => ({ start: t + q * 15 * MIN, end: t + (q + 1) * 15 * MIN, litres: (q === 0 ? use(t) : 0) + (q === 3 ? drip : 0) }));
    h.read(reading(wm, 'reading', t + HOUR + 30_000, { intervals }));
    h.advance(t + HOUR + 30_000);
  }
}
const localHour = (t: number) => Math.floor(((t + 8 * HOUR) % DAY) / HOUR);
/** A heavy user: some water every hour from 06:00 to 22:00. */
const heavy = (t: number) => (localHour(t) >= 6 && localHour(t) <= 22 ? 5 : 0);
/** A frugal elder: 2 L at 07:00 every day, 2 L at 19:00 two days in three. */
const frugal = (t: number) => (localHour(t) === 7 ? 2 : localHour(t) === 19 && Math.floor((t - T0) / DAY) % 3 !== 1 ? 2 : 0);

describe('no_water_use on the learned model', () => {
  it("catches a heavy user's missing morning within a few hours, and explains it in Chinese", () => {
    const h = meter();
    run(h, T0, 20 * 24, heavy);
    expect(h.opened).toBe(0);
    expect(historyDays(h.state!.m!)).toBeGreaterThan(14);
    // Day 21: water at 06:00–08:00, then nothing (a fall at 08:15).
    run(h, T0 + 20 * DAY, 24, (t) => (localHour(t) < 9 ? heavy(t) : 0));
    expect(h.opened).toBe(1);
    const open = h.actionsOf('open')[0] as { title: string; details: Record<string, unknown> };
    const openedAt = h.log.find((l) => l.action.type === 'open')!.at;
    expect(openedAt - (T0 + 20 * DAY + 8 * HOUR + 15 * MIN)).toBeLessThan(4 * HOUR); // the fixed rule: 12 h
    expect(open.details.basis).toBe('model');
    expect(open.details.explanation).toMatch(/^平时 9:\d\d 前会用水，今天到 1[12]:00 仍未用水（最后用水 8:15；预计约 \d+ 升，实际 0 升）$/);
    expect(open.title).toMatch(/^王婆婆家\(6-302\) \d小时无用水$/);
  });

  it('names the day of the habit when the silence began on an earlier day', () => {
    const h = meter();
    run(h, T0, 30 * 24, frugal);
    h.personResolves();
    const before = h.opened;
    run(h, T0 + 30 * DAY, 8, frugal); // day 30: the 07:00 use, then nothing for a day and more
    run(h, T0 + 30 * DAY + 8 * HOUR, 40, () => 0);
    const opens = h.log.filter((l) => l.action.type === 'open' && l.at > T0 + 30 * DAY).map((l) => l.action as { details: Record<string, unknown> });
    expect(h.opened).toBeGreaterThan(before);
    // Called the next morning, a day after her last use: the habit's 19:xx is yesterday's, and says so.
    expect(opens[0].details.explanation).toMatch(/^按平时规律，昨天 19:\d\d 前就会再用水，今天到 8:00 仍未用水（已连续 25 小时，最后用水 昨天 7:15；/);
  });

  it("does not raise a frugal elder's ordinary quiet evening, which the fixed rule does", () => {
    const learned = meter();
    const fixed = meter({ minHistoryDays: 1000 });
    for (const h of [learned, fixed]) run(h, T0, 30 * 24, frugal);
    expect(fixed.opened).toBeGreaterThan(5); // 12 h with 2–4 L, most days
    // Only in the cold start, while the fixed rule holds (1 day learned, which the 48 h ring delays by two).
    expect(learned.log.filter((l) => l.action.type === 'open' && l.at > T0 + 4 * DAY)).toEqual([]);
    expect(fixed.log.filter((l) => l.action.type === 'open' && l.at > T0 + 10 * DAY).length).toBeGreaterThan(5);
  });

  it('leaves the fixed rule after one learned day (minHistoryDays 1): her first week is judged on silence, not on litres', () => {
    const now = meter();
    const week = meter({ minHistoryDays: 7 });
    for (const h of [now, week]) run(h, T0, 9 * 24, frugal);
    const opensFrom = (h: ReturnType<typeof meter>, t: number) => h.log.filter((l) => l.action.type === 'open' && l.at > t).length;
    // Days 4–9: the model (a typical elder's hours shrunk with her own) sees her daily use and stays quiet; the
    // fixed rule, kept for seven learned days, calls her 2–4 L in 12 h.
    expect(opensFrom(now, T0 + 4 * DAY)).toBe(0);
    expect(opensFrom(week, T0 + 4 * DAY)).toBeGreaterThan(0);
    // And a silence after that is still called by the model.
    run(now, T0 + 9 * DAY, 8, frugal);
    run(now, T0 + 9 * DAY + 8 * HOUR, 30, () => 0);
    const fall = now.log.find((l) => l.action.type === 'open' && l.at > T0 + 9 * DAY);
    expect((fall?.action as { details: Record<string, unknown> } | undefined)?.details.basis).toMatch(/^(model|max)$/);
  });

  it('sees through a drip: a dripping toilet is neither use nor a sign of life, and never hides a fall', () => {
    const h = meter();
    run(h, T0, 20 * 24, heavy, 2);
    expect(floorOf(h.state!.m!)).toBe(2);
    expect(h.opened).toBe(0);
    run(h, T0 + 20 * DAY, 24, (t) => (localHour(t) < 9 ? heavy(t) : 0), 2);
    expect(h.opened).toBe(1);
    const open = h.actionsOf('open')[0] as { details: Record<string, unknown> };
    expect(open.details).toMatchObject({ basis: 'model', floorLph: 2 });
    expect(open.details.explanation).toContain('；另有持续小流量约 2 升/时未计入）');
  });

  it('ends the episode on real use only, and the next silence is a new opening', () => {
    const h = meter();
    run(h, T0, 20 * 24, heavy, 2);
    run(h, T0 + 20 * DAY, 12, (t) => (localHour(t) < 9 ? heavy(t) : 0), 2);
    expect(h.opened).toBe(1);
    // More drip (3 L in an hour is within the floor's jitter): not activity.
    run(h, T0 + 20 * DAY + 12 * HOUR, 2, () => 1, 2);
    expect(h.actionsOf('resolve')).toEqual([]);
    run(h, T0 + 20 * DAY + 14 * HOUR, 1, () => 6, 2);
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: expect.stringContaining('恢复用水') });
    expect(h.alert).toBeUndefined();
  });

  it("learns from a false alarm that the elder's own use ended within a day (a day out), not from a longer silence", () => {
    // A heavy user who goes out one day a week from 08:15 to 18:00–19:00 without telling anyone.
    const dayOut = (day: number, back = 19) => (t: number) => (Math.floor((t - T0) / DAY) === day && localHour(t) >= 9 && localHour(t) < back ? 0 : heavy(t));
    const week = (learn: boolean) => {
      const h = meter({ learnShortEpisodes: learn });
      run(h, T0, 21 * 24, heavy);
      run(h, T0 + 21 * DAY, 24, dayOut(21)); // the first day out: a surprise, alerted, resolved by her return
      const first = h.opened;
      run(h, T0 + 22 * DAY, 6 * 24, heavy);
      run(h, T0 + 28 * DAY, 24, dayOut(28, 18)); // a day out a week later (the record fades: 4-week half-life)
      return { h, first, second: h.opened - first };
    };
    const learnt = week(true);
    const skipped = week(false);
    expect(learnt.first).toBe(1);
    expect(skipped.first).toBe(1);
    expect(skipped.second).toBe(1); // its hours skipped, the day out is as surprising as the first time
    expect(learnt.second).toBe(0); // learned: her day out is her life

    // A fall on a later day is still called, after about her longest day out lately (not at the 24 h net).
    const h = learnt.h;
    run(h, T0 + 29 * DAY, 7 * 24, heavy);
    run(h, T0 + 36 * DAY, 9, heavy);
    run(h, T0 + 36 * DAY + 9 * HOUR, 20, () => 0);
    const fall = h.log.find((l) => l.action.type === 'open' && l.at > T0 + 36 * DAY);
    expect(fall).toBeDefined();
    expect(fall!.at - (T0 + 36 * DAY + 8 * HOUR + 15 * MIN)).toBeGreaterThan(7 * HOUR); // the first day out: 3.75 h
    expect(fall!.at - (T0 + 36 * DAY + 8 * HOUR + 15 * MIN)).toBeLessThan(12 * HOUR);
    expect((fall!.action as { details: Record<string, unknown> }).details.basis).toBe('model');

    // A silence longer than maxQuietHours that ends in use (back from hospital) is not learned.
    const long = meter();
    run(long, T0, 21 * 24, heavy);
    run(long, T0 + 21 * DAY, 9, heavy);
    run(long, T0 + 21 * DAY + 9 * HOUR, 30, () => 0);
    run(long, T0 + 22 * DAY + 15 * HOUR, 3 * 24, heavy);
    expect(long.state!.m!.x.every((x) => x < 24)).toBe(true);
    expect(long.state!.m!.skip).toBeDefined();
  });

  it('alerts whatever the model says after maxQuietHours of covered silence', () => {
    const h = meter({ maxQuietHours: 6, improbability: 1e-12 });
    run(h, T0, 20 * 24, heavy);
    run(h, T0 + 20 * DAY, 24, (t) => (localHour(t) < 9 ? heavy(t) : 0));
    const open = h.actionsOf('open')[0] as { details: Record<string, unknown> };
    expect(open.details.basis).toBe('max');
  });

  it('keeps a fixed-size state: a meter reporting every minute for three days holds 48 hour slots', () => {
    const c = { utcOffsetMinutes: 480, priorDays: 3 };
    let m = newModel();
    for (let t = T0; t < T0 + 3 * DAY; t += MIN) m = observe(m, [[t, t + MIN, t % (7 * MIN) === 0 ? 1 : 0]], c);
    expect(m.s.length).toBe(48);
    expect(JSON.stringify(m).length).toBeLessThan(4000);
    // The same minute again (a duplicate) changes nothing.
    const again = observe(m, [[T0 + 3 * DAY - MIN, T0 + 3 * DAY, 1]], c);
    expect(again.s[47][1]).toBe(m.s[47][1]);
    expect(silence(m, c)!.coveredMs).toBeGreaterThan(0);
    expect(usualDay(m, c)).toHaveLength(24);
  });
});

describe('the explanation in notifications', () => {
  it('puts a care alert\'s explanation into the notice', async () => {
    const { noticeFor } = await import('../../../src/notify/wording.js');
    const { Directory } = await import('../../../src/config/inventory.js');
    const alert = {
      id: 1, kind: 'no_water_use' as const, severity: 'major' as const, status: 'open' as const, communityId: 'c1', gridId: 'g1',
      title: '王婆婆家(6-302) 3小时无用水', details: { explanation: '平时 9:15 前会用水，今天到 12:00 仍未用水（预计约 20 升，实际 0 升）' },
      count: 1, openedAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(),
    };
    const n = noticeFor(alert, new Directory([]), { reason: 'opened', mentionMobiles: [] });
    expect(n.lines).toContain('说明：平时 9:15 前会用水，今天到 12:00 仍未用水（预计约 20 升，实际 0 升）');
    const plain = noticeFor({ ...alert, details: {} }, new Directory([]), { reason: 'opened', mentionMobiles: [] });
    expect(plain.lines.some((l) => l.startsWith('说明'))).toBe(false);
  });
});

describe('signs of life other than water', () => {
  it('counts the silence only after a later sign of life (the hook for visits and absences)', async () => {
    const { judge } = await import('../../../src/rules/noWaterUse.js');
    const h = meter();
    run(h, T0, 20 * 24, heavy);
    run(h, T0 + 20 * DAY, 13, (t) => (localHour(t) < 9 ? heavy(t) : 0));
    const c = { ...noWaterUse.defaults, settleMinutes: 0 };
    expect(judge(h.state!, c)?.why).toBe('model');
    // A volunteer saw her at 12:00: the hour of silence since says nothing yet.
    expect(judge(h.state!, c, T0 + 20 * DAY + 12 * HOUR)).toBeUndefined();
  });
});

describe('a state saved before the model', () => {
  it('keeps its open episode and drops the old covered segments on the first reading', () => {
    const h = meter();
    h.state = { use: { base: T0, s: [0, 3600, 0] }, litresAtOpen: 0, episodeFrom: T0 - HOUR } as unknown as NoWaterUseState;
    run(h, T0, 1, () => 0);
    expect(h.state).not.toHaveProperty('use');
    expect(h.state).not.toHaveProperty('litresAtOpen');
    expect(h.state!.episodeFrom).toBe(T0 - HOUR);
    expect(h.state!.m!.s).toHaveLength(1);
  });
});

describe('dayVariation: an elder whose days differ', () => {
  const mc = { utcOffsetMinutes: 480, priorDays: 3 };
  /** Hourly intervals for `days` days: use in the hours `used(day, localHour)` says. */
  function learn(days: number, used: (d: number, hr: number) => boolean) {
    let m = newModel();
    for (let i = 0; i < days * 24; i++) {
      const t = T0 + i * HOUR;
      m = observe(m, [[t, t + HOUR, used(Math.floor(i / 24), localHour(t)) ? 3 : 0]], mc);
    }
    return m;
  }
  // Waking hours 07:00–21:00 with use in every other one; on quiet days (one in three) in every fourth.
  const alike = learn(40, (_d, hr) => hr >= 7 && hr <= 21 && hr % 2 === 1);
  const varied = learn(40, (d, hr) => hr >= 7 && hr <= 21 && hr % (d % 3 === 0 ? 4 : 2) === 1);

  it('learns how much the days differ: every day alike is Infinity, quiet days give a finite shape', () => {
    expect(dispersion(alike, mc)).toBe(Infinity);
    const k = dispersion(varied, mc);
    expect(k).toBeGreaterThanOrEqual(1);
    expect(k).toBeLessThan(100);
    expect(varied.dn).toBeGreaterThan(30);
  });

  it('makes the same silence less surprising from the elder whose days differ, and changes nothing when off', () => {
    const on = silence(varied, { ...mc, dayVariation: true }, T0 + 38 * DAY)!;
    const off = silence(varied, { ...mc, dayVariation: false }, T0 + 38 * DAY)!;
    expect(on.rate).toBeCloseTo(off.rate, 6);
    expect(off.logP).toBeCloseTo(-off.rate, 6);
    expect(on.logP).toBeGreaterThan(off.logP);
    expect(on.shape).toBe(dispersion(varied, mc));
  });
});

describe('observe is pure (copy on write)', () => {
  const deepFreeze = <T>(o: T): T => {
    if (o && typeof o === 'object' && !Object.isFrozen(o)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deepFreeze(v);
    }
    return o;
  };
  it('leaves every earlier model as it was, through hours that fold into the learned arrays', () => {
    const mc = { utcOffsetMinutes: 480, priorDays: 3 };
    const models = [deepFreeze(newModel())];
    const texts = [JSON.stringify(models[0])];
    // Four days of quarter-hour use, in readings of a quarter hour each (several per slot, slots folding).
    for (let q = 0; q < 4 * 96; q++) {
      const t = T0 + q * 15 * MIN;
      // Frozen arrays throw on a write in strict code: a write into a shared slot or learned array fails here.
      const next = observe(models[models.length - 1], [[t, t + 15 * MIN, q % 7 === 0 ? 3 : 0]], mc);
      models.push(deepFreeze(next));
      texts.push(JSON.stringify(next));
    }
    models.forEach((m, i) => expect(JSON.stringify(m)).toBe(texts[i]));
    const last = models[models.length - 1];
    expect(historyDays(last)).toBeGreaterThan(1); // slots folded
    expect(last.s.length).toBe(48);
    // Untouched slots are shared with the model before, the one written is new.
    const before = models[models.length - 2];
    expect(last.s[0]).toBe(before.s[0]);
    expect(last.s[47]).not.toBe(before.s[47]);
  });

  it('observeSlots leaves the slots it was given as they were', () => {
    const slots = deepFreeze(observeSlots([], [[T0, T0 + 90 * MIN, 3]])); // hour 0 and half of hour 1
    const text = JSON.stringify(slots);
    const next = observeSlots(slots, [[T0 + 90 * MIN, T0 + 3 * HOUR, 3]]); // the rest of hour 1, and hour 2
    expect(JSON.stringify(slots)).toBe(text);
    expect(next).toHaveLength(3);
    expect(next[0]).toBe(slots[0]); // untouched: shared
    expect(next[1]).not.toBe(slots[1]); // written: a copy
    expect(next[1][1]).toBeGreaterThan(slots[1][1]);
  });
});
