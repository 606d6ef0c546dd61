import { describe, it, expect } from 'vitest';
import { missedCheck, type MissedCheckConfig, type MissedCheckState } from '../../../src/rules/missedCheck.js';
import { nextRound, previousRound, clockTime } from '../../../src/rules/lib/rounds.js';
import { Harness, device, elder, family, reading, T0, MIN, HOUR } from './harness.js';
import type { HouseholdInfo } from '../../../src/config/inventory.js';
import type { RuleInput } from '../../../src/rules/lib/types.js';

// T0 is 2025-03-01 00:00 in UTC+8; the default rounds are 10:00 and 20:00 local.
const wm = device('water-meter', { householdId: elder.id });
const at = (t: number) => new Date(t).toISOString();

function care(household: HouseholdInfo = elder, config: Partial<MissedCheckConfig> = {}) {
  return new Harness<MissedCheckState, MissedCheckConfig>(missedCheck, { device: wm, household, subject: household.id, config });
}

/** A reading with one interval of `litres` ending at `t` (15 min long). */
const use = (t: number, litres: number, totalM3 = 10) =>
  reading(wm, 'reading', t, { totalM3, intervals: [{ start: at(t - 15 * MIN), end: at(t), litres }] });

const visit = (t: number, by = 'vol-1', note?: string): RuleInput => ({ type: 'visit', household: elder.id, by, at: t, note });

describe('care rounds (lib/rounds.ts)', () => {
  it('finds the next and previous round in local time', () => {
    const rounds = ['20:00', '10:00'];
    expect(nextRound(T0, rounds, 480)).toBe(T0 + 10 * HOUR);
    expect(nextRound(T0 + 10 * HOUR, rounds, 480)).toBe(T0 + 20 * HOUR);
    expect(nextRound(T0 + 21 * HOUR, rounds, 480)).toBe(T0 + 34 * HOUR);
    expect(previousRound(T0 + 10 * HOUR, rounds, 480)).toBe(T0 - 4 * HOUR);
    expect(previousRound(T0 + 20 * HOUR, rounds, 480)).toBe(T0 + 10 * HOUR);
    expect(clockTime(T0 + 10 * HOUR, 480)).toBe('10:00');
    // Another offset: UTC+0 rounds fall 8 h later in absolute time.
    expect(nextRound(T0, ['10:00'], 0)).toBe(T0 + 18 * HOUR);
  });
});

describe('missed_check', () => {
  it('opens at the 20:00 round when the only sign of life was use at 08:00', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    expect(h.deadline).toBe(T0 + 10 * HOUR);
    h.advance(T0 + 10 * HOUR);
    expect(h.opened).toBe(0); // used water since the 20:00 round of the day before
    expect(h.deadline).toBe(T0 + 20 * HOUR);
    h.advance(T0 + 20 * HOUR);
    expect(h.opened).toBe(1);
    expect(h.actionsOf('open')[0]).toMatchObject({
      severity: 'major',
      title: '王婆婆家(6-302) 今日20:00巡访未见活动',
      details: { round: at(T0 + 20 * HOUR), since: at(T0 + 10 * HOUR), lastSignOfLifeAt: at(T0 + 8 * HOUR), lastSign: 'water', missedRounds: 1 },
    });
    expect(h.deadline).toBe(T0 + 34 * HOUR);
  });

  it('a logged visit resolves it with the visitor and the note', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    h.advance(T0 + 20 * HOUR);
    expect(h.alert).toBeDefined();
    const out = h.run(visit(T0 + 20 * HOUR + 30 * MIN, 'vol-1', '老人在家，精神好'), T0 + 20 * HOUR + 31 * MIN);
    expect(out).toContainEqual({ type: 'resolve', reason: '上门探访（vol-1，3月1日 20:30）：老人在家，精神好' });
    expect(h.alert).toBeUndefined();
    expect(h.state).toMatchObject({ lastSign: 'visit', lastSignAt: T0 + 20 * HOUR + 30 * MIN });
    expect(h.state?.missed).toBeUndefined();
  });

  it('water use resolves it too', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    h.advance(T0 + 20 * HOUR);
    const out = h.read(use(T0 + 21 * HOUR, 4));
    expect(out).toContainEqual({ type: 'resolve', reason: '恢复用水（3月1日 21:00，4 升）' });
  });

  it('a heartbeat or a reading with zero use is no sign of life', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6, 10));
    h.read(reading(wm, 'heartbeat', T0 + 12 * HOUR));
    h.read(use(T0 + 13 * HOUR, 0, 10.006));
    h.read(reading(wm, 'reading', T0 + 14 * HOUR, { totalM3: 10.006 })); // register unchanged since 13:00
    h.advance(T0 + 20 * HOUR);
    expect(h.opened).toBe(1);
    // And the open alert stays open through more of the same.
    h.read(reading(wm, 'heartbeat', T0 + 21 * HOUR));
    h.read(reading(wm, 'reading', T0 + 22 * HOUR, { totalM3: 10.006 }));
    expect(h.alert).toBeDefined();
  });

  it('a rise of the register between readings is use; a register going down is not', () => {
    const h = care();
    h.read(reading(wm, 'reading', T0 + 8 * HOUR, { totalM3: 10 }));
    h.read(reading(wm, 'reading', T0 + 11 * HOUR, { totalM3: 9 })); // meter swapped: a reset
    h.advance(T0 + 20 * HOUR);
    expect(h.opened).toBe(1);
    h.read(reading(wm, 'reading', T0 + 21 * HOUR, { totalM3: 9.003 }));
    expect(h.alert).toBeUndefined();
    expect(h.state).toMatchObject({ lastSign: 'water', lastSignAt: T0 + 21 * HOUR });
  });

  it('never fires for a household it has never heard from, and needs minWatchedHours before a round', () => {
    const silent = care();
    silent.run({ type: 'deadline', due: T0 + 10 * HOUR }, T0 + 10 * HOUR); // e.g. a stray deadline
    expect(silent.opened).toBe(0);
    expect(silent.deadline).toBeUndefined();

    const h = care();
    h.read(reading(wm, 'heartbeat', T0 + 9 * HOUR + 55 * MIN)); // first heard 5 min before the round
    h.advance(T0 + 10 * HOUR);
    expect(h.opened).toBe(0);
    h.advance(T0 + 20 * HOUR);
    expect(h.opened).toBe(1); // 10 watched hours without a sign
  });

  it('counts missed rounds while the alert is open, and opens again after a person closed it', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    h.advance(T0 + 34 * HOUR); // 20:00, then 10:00 next day
    expect(h.opened).toBe(1);
    expect(h.alert?.count).toBe(2);
    expect(h.actionsOf('open')[1]).toMatchObject({ details: { since: at(T0 + 10 * HOUR), missedRounds: 2 } });
    h.personResolves(); // closed without a logged visit: the next round without a sign is a new job
    h.advance(T0 + 44 * HOUR);
    expect(h.opened).toBe(2);
  });

  it('late data showing use after the previous round resolves; older use does not', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    h.advance(T0 + 20 * HOUR);
    expect(h.alert).toBeDefined();
    h.read(use(T0 + 9 * HOUR, 3), T0 + 20 * HOUR + 5 * MIN); // before the 10:00 round: says nothing about 10:00–20:00
    expect(h.alert).toBeDefined();
    h.read(use(T0 + 15 * HOUR, 3), T0 + 20 * HOUR + 6 * MIN); // an NB batch showing use at 15:00
    expect(h.alert).toBeUndefined();
    expect(h.state?.lastSignAt).toBe(T0 + 15 * HOUR);
  });

  it('watches lone elders only', () => {
    const h = care(family);
    h.read(use(T0 + 8 * HOUR, 6));
    expect(h.log).toEqual([]);
    expect(missedCheck.subjects(use(T0, 1), { device: wm, household: family })).toEqual([]);
    expect(missedCheck.subjects(use(T0, 1), { device: wm, household: elder })).toEqual([elder.id]);
  });

  it('takes its rounds from settings (per community, grid or household)', () => {
    const h = care(elder, { rounds: ['08:30'] });
    h.run(visit(T0 + 7 * HOUR), T0 + 7 * HOUR);
    expect(h.deadline).toBe(T0 + 8 * HOUR + 30 * MIN);
    h.advance(T0 + 8 * HOUR + 30 * MIN); // a visit at 07:00 counts for the 08:30 round
    expect(h.deadline).toBe(T0 + 32 * HOUR + 30 * MIN);
    h.advance(T0 + 32 * HOUR + 30 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ title: '王婆婆家(6-302) 今日08:30巡访未见活动' });
  });

  it('after downtime judges the round that was due and schedules the next one still ahead', () => {
    const h = care();
    h.read(use(T0 + 8 * HOUR, 6));
    h.deadline = undefined;
    // The 20:00 deadline fires at 11:00 the next day (the service was down, wall clock).
    h.run({ type: 'deadline', due: T0 + 20 * HOUR }, T0 + 35 * HOUR);
    expect(h.opened).toBe(1);
    expect(h.deadline).toBe(T0 + 44 * HOUR);
  });
});

describe('missed_check judged on covering data (NB batches)', () => {
  // An NB meter uploading every 6 h: the batch holding 12:00–18:00 (15-min intervals) arrives at 18:30.
  const nb = () =>
    new Harness<MissedCheckState, MissedCheckConfig>(missedCheck, { device: wm, household: elder, subject: elder.id, periodic: true, heartbeatSeconds: 43_200 });
  /** The batch covering [end − 6 h, end] with `uses` (litres at event times), arriving 30 min after `end`. */
  const batch = (end: number, uses: Record<number, number> = {}) => {
    const intervals = [];
    for (let t = end - 6 * HOUR; t < end; t += 15 * MIN) intervals.push({ start: at(t), end: at(t + 15 * MIN), litres: uses[t] ?? 0 });
    return { ...reading(wm, 'reading', end, { intervals }), receivedAt: end + 30 * MIN };
  };
  const upload = (h: ReturnType<typeof nb>, end: number, uses?: Record<number, number>) => {
    h.advance(end + 30 * MIN - 1);
    h.read(batch(end, uses), end + 30 * MIN);
  };
  /** Opens for one round (the setup's evening before has its own missed round). */
  const opensFor = (h: ReturnType<typeof nb>, round: number) =>
    h.actionsOf('open').filter((a) => a.type === 'open' && a.details.round === at(round));
  /** A day of uploads up to 18:00 (learning the 6 h cadence); water last used at 09:00. */
  const dayUntil1800 = (h: ReturnType<typeof nb>) => {
    upload(h, T0 - 12 * HOUR);
    upload(h, T0 - 6 * HOUR);
    upload(h, T0);
    upload(h, T0 + 6 * HOUR);
    upload(h, T0 + 12 * HOUR, { [T0 + 9 * HOUR]: 8 });
    upload(h, T0 + 18 * HOUR);
  };

  it('waits at 20:00 for the batch holding the round, and use at 19:00 in it means nobody is missing', () => {
    const h = nb();
    dayUntil1800(h);
    h.advance(T0 + 20 * HOUR); // the round: the 18:00–24:00 batch is not in yet
    expect(h.alert).toBeUndefined();
    expect(h.state!.pending).toEqual([{ round: T0 + 20 * HOUR, due: expect.any(Number) }]);
    upload(h, T0 + 24 * HOUR, { [T0 + 19 * HOUR]: 6 });
    expect(opensFor(h, T0 + 20 * HOUR)).toEqual([]);
    expect(h.state!.pending).toBeUndefined();
    expect(h.deadline).toBe(T0 + 34 * HOUR); // the next round
  });

  it('judges the round when its batch arrives showing nothing: the alert opens then', () => {
    const h = nb();
    dayUntil1800(h);
    h.advance(T0 + 20 * HOUR);
    upload(h, T0 + 24 * HOUR);
    expect(opensFor(h, T0 + 20 * HOUR)[0]).toMatchObject({ details: { round: at(T0 + 20 * HOUR), since: at(T0 + 10 * HOUR), judgedAt: at(T0 + 24 * HOUR + 30 * MIN) } });
  });

  it('judges it when the covering upload and the next are overdue (waitUploads 2: intervals + usual lag + grace), not later', () => {
    const h = nb();
    dayUntil1800(h);
    h.advance(T0 + 20 * HOUR);
    const due = h.state!.pending![0].due;
    expect(due).toBe(T0 + 30 * HOUR + 30 * MIN + 90 * MIN); // uploads due at 24:00 and 06:00, 30 min lag, 1 h 30 min grace
    h.advance(due - 1);
    expect(opensFor(h, T0 + 20 * HOUR)).toEqual([]);
    h.advance(due);
    expect(opensFor(h, T0 + 20 * HOUR)).toHaveLength(1);
  });

  it('a meter reporting hourly has its 10:00 data by 10:00 and is judged at the round, as before', () => {
    const h = new Harness<MissedCheckState, MissedCheckConfig>(missedCheck, { device: wm, household: elder, subject: elder.id, periodic: true, heartbeatSeconds: 3600 });
    for (let t = T0 + 5 * HOUR; t <= T0 + 10 * HOUR; t += HOUR) h.read(reading(wm, 'reading', t, { totalM3: 10 }));
    h.advance(T0 + 10 * HOUR);
    expect(h.actionsOf('open')).toHaveLength(1);
  });
});

describe('missed_check learns how regularly the elder shows a sign at each round', () => {
  const DAY = 24 * HOUR;
  /** `days` days from T0 on an hourly meter: use at 08:00 every day, and at 15:00 on the days `afternoon` says. */
  function live(h: ReturnType<typeof care>, days: number, afternoon: (d: number) => boolean, from = 0) {
    let total = 10;
    for (let d = from; d < from + days; d++)
      for (let hr = 0; hr < 24; hr++) {
        const t = T0 + d * DAY + hr * HOUR;
        h.advance(t);
        const litres = hr === 8 || (hr === 15 && afternoon(d)) ? 5 : 0;
        total += litres / 1000;
        h.read(reading(wm, 'reading', t, { totalM3: total, intervals: [{ start: at(t - HOUR), end: at(t), litres }] }));
      }
  }
  const opensAt = (h: ReturnType<typeof care>, round: number) => h.log.filter((l) => l.action.type === 'open' && l.at === round);

  it('while a round is not yet learned (minRounds), every missed round is called, as before', () => {
    const h = care();
    live(h, 3, (d) => d !== 1); // day 1's 20:00 round missed
    expect(opensAt(h, T0 + 1 * DAY + 20 * HOUR)).toHaveLength(1);
    h.personResolves();
    live(h, 1, () => false, 3); // day 3's too: one miss in three learned, still the cold start
    expect(opensAt(h, T0 + 3 * DAY + 20 * HOUR)).toHaveLength(1);
  });

  it('an elder seen before nearly every round is called at the first miss', () => {
    const h = care();
    live(h, 20, () => true);
    expect(h.opened).toBe(0);
    live(h, 1, () => false, 20); // no use after 08:00 on day 20
    expect(opensAt(h, T0 + 20 * DAY + 20 * HOUR)).toHaveLength(1);
    expect(h.actionsOf('open')[0]).toMatchObject({ details: { missedRounds: 1, usualSeenPct: 100 } });
  });

  it("an elder whose afternoons often pass without water is not called at one quiet 20:00, but on the rounds that follow", () => {
    const h = care();
    // Water between 10:00 and 20:00 on two days in three: a quiet afternoon is this elder's normal.
    live(h, 21, (d) => d % 3 !== 2);
    // The cold start (fewer than minRounds 7 of a round learned) calls every missed round, as before: the
    // first quiet afternoons are called; from the second week on, none is.
    const called = h.log.filter((l) => l.action.type === 'open').map((l) => l.at);
    expect(called.length).toBeGreaterThan(0);
    expect(called.every((t) => t < T0 + 7 * DAY)).toBe(true);
    h.personResolves();
    const p = h.state!.usual!['20:00'];
    expect(p[0]).toBeGreaterThan(0.5);
    expect(p[0]).toBeLessThan(0.8);
    expect(h.state!.usual!['10:00'][0]).toBe(1);
    // Day 21: used water at 08:00, then nothing (a fall at 09:00).
    for (let hr = 0; hr <= 9; hr++) {
      const t = T0 + 21 * DAY + hr * HOUR;
      h.advance(t);
      h.read(reading(wm, 'reading', t, { totalM3: 20, intervals: [{ start: at(t - HOUR), end: at(t), litres: hr === 8 ? 5 : 0 }] }));
    }
    for (let t = T0 + 21 * DAY + 10 * HOUR; t <= T0 + 22 * DAY + 10 * HOUR; t += HOUR) {
      h.read(reading(wm, 'reading', t, { totalM3: 20, intervals: [{ start: at(t - HOUR), end: at(t), litres: 0 }] }));
      h.advance(t);
    }
    expect(opensAt(h, T0 + 21 * DAY + 20 * HOUR)).toEqual([]); // a quiet afternoon, as often
    // …but no use overnight and none by 10:00, where this elder always has some: called then.
    expect(opensAt(h, T0 + 22 * DAY + 10 * HOUR)).toHaveLength(1);
    expect(opensAt(h, T0 + 22 * DAY + 10 * HOUR)[0].action).toMatchObject({ details: { since: at(T0 + 21 * DAY + 10 * HOUR), missedRounds: 2 } });
  });

  it('calls maxRounds missed rounds in a row whatever was learned', () => {
    const h = care(elder, { maxRounds: 2, improbability: 1e-9, minRounds: 0 });
    live(h, 3, () => true);
    live(h, 2, () => false, 3); // day 3: use at 08:00 only; day 4: the same
    // Day 3 20:00 missed (1), day 4 10:00 seen (08:00), day 4 20:00 missed (1): never two in a row.
    expect(h.opened).toBe(0);
    for (let t = T0 + 5 * DAY; t <= T0 + 5 * DAY + 10 * HOUR; t += HOUR) {
      h.read(reading(wm, 'reading', t, { totalM3: 20, intervals: [{ start: at(t - HOUR), end: at(t), litres: 0 }] }));
      h.advance(t);
    }
    expect(opensAt(h, T0 + 5 * DAY + 10 * HOUR)).toHaveLength(1);
  });

  it('sees through a dripping toilet: water in every hour of a day is not a sign of life once the floor is known', () => {
    // 2 L every hour (a drip), 5 L more at 08:00 and 15:00 — until day 3, when after 08:00 only the drip goes on.
    const dripping = (h: ReturnType<typeof care>) => {
      let total = 10;
      for (let t = T0 + HOUR; t <= T0 + 3 * DAY + 21 * HOUR; t += HOUR) {
        h.advance(t);
        const hr = Math.floor(((t - HOUR - T0) % DAY) / HOUR);
        const litres = 2 + ((hr === 8 || hr === 15) && t <= T0 + 3 * DAY + 9 * HOUR ? 5 : 0);
        total += litres / 1000;
        h.read(reading(wm, 'reading', t, { totalM3: total, intervals: [{ start: at(t - HOUR), end: at(t), litres }] }));
      }
    };
    const h = care();
    dripping(h);
    // Day 3's 20:00 round: nothing above the floor since 10:00 (use at 08:00–09:00 was the last).
    expect(opensAt(h, T0 + 3 * DAY + 20 * HOUR)).toHaveLength(1);
    expect(opensAt(h, T0 + 3 * DAY + 20 * HOUR)[0].action).toMatchObject({ details: { lastSignOfLifeAt: at(T0 + 3 * DAY + 9 * HOUR) } });
    // The first day, before 24 full hours show the floor, every litre counted: no round was missed then.
    expect(h.opened).toBe(1);
    // Real use again (7 L in the hour, the drip's 2 L included): resolved, with the litres above the floor.
    const t = T0 + 3 * DAY + 22 * HOUR;
    h.read(reading(wm, 'reading', t, { totalM3: 20, intervals: [{ start: at(t - HOUR), end: at(t), litres: 7 }] }));
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: '恢复用水（3月4日 22:00，5 升）' });
  });

  it('a running cistern (6 L/h in every hour) does not end an absence; use above it does', () => {
    const h = care();
    let total = 10;
    const hourOf = (t: number, litres: number) => {
      total += litres / 1000;
      h.advance(t);
      h.read(reading(wm, 'reading', t, { totalM3: total, intervals: [{ start: at(t - HOUR), end: at(t), litres }] }));
    };
    for (let t = T0 + HOUR; t <= T0 + 2 * DAY; t += HOUR) hourOf(t, 6 + (t % DAY === 8 * HOUR ? 10 : 0));
    h.care = { absences: [{ id: 7, reason: 'family', from: T0 + 2 * DAY, until: T0 + 5 * DAY }] };
    for (let t = T0 + 2 * DAY + HOUR; t <= T0 + 3 * DAY; t += HOUR) hourOf(t, 6);
    expect(h.actionsOf('endAbsence')).toEqual([]);
    hourOf(T0 + 3 * DAY + HOUR, 18); // home: 12 L above the cistern
    expect(h.actionsOf('endAbsence')).toEqual([{ type: 'endAbsence', id: 7, at: T0 + 3 * DAY + HOUR, note: '回家用水（3月4日 01:00，12 升）' }]);
  });

  it('does not learn from rounds the elder was marked away for', () => {
    const h = care();
    live(h, 2, () => true);
    const before = h.state!.usual!['20:00'];
    h.care = { absences: [{ id: 1, reason: 'family', from: T0 + 2 * DAY + 9 * HOUR, until: T0 + 6 * DAY }] };
    for (let t = T0 + 2 * DAY; t < T0 + 6 * DAY; t += HOUR) {
      h.advance(t);
      h.read(reading(wm, 'reading', t, { totalM3: 20, intervals: [{ start: at(t - HOUR), end: at(t), litres: 0 }] }));
    }
    expect(h.opened).toBe(0);
    expect(h.state!.usual!['20:00']).toEqual(before);
  });
});
