// bench:care in small (bench/care.ts): 16 labelled elders × 24 days with 8 falls, replayed over real MQTT into
// a real shaobing on the event clock, judged against the ground truth — once with the learned model and once
// held to the fixed rule (the cold start's, by never having enough history). The registered stays away are
// posted through POST /api/care/absences by a grid member at their time, so none of them may raise a false
// no_water_use. ~15 s.
import { describe, it, expect } from 'vitest';
import { buildPopulation } from '../../bench/carePopulation.js';
import { absenceEvents, judge, runCare } from '../../bench/care.js';

describe('the care alerts on a labelled population', () => {
  it('finds every fall, sees through drips and raises far fewer false no_water_use than the fixed rule', async () => {
    const pop = buildPopulation({ elders: 16, days: 24, warmupDays: 10, incidents: 8, seed: 'suite' });
    const registered = pop.elders.reduce((n, e) => n + e.absences.filter((a) => a.registered).length, 0);
    expect(registered).toBeGreaterThan(0);
    expect(absenceEvents(pop).filter((e) => e.type === 'api' && e.path === '/api/care/absences')).toHaveLength(registered);
    const run = await runCare(pop);
    expect(run.absencesPosted).toBe(registered); // every one accepted (201) by the real API
    const model = judge(pop, run.seen, 0).figures;
    const fixed = judge(pop, (await runCare(pop, { rules: { no_water_use: { minHistoryDays: 56, maxQuietHours: 168, flapHoldMinutes: 5 } } })).seen, 0).figures;
    expect(model.incidents).toBe(8);
    expect(model.found).toBe(8);
    expect(fixed.found).toBeLessThan(8); // falls in dripping flats: the fixed rule counts the drip as use
    expect(model.false_no_water_use).toBeLessThan(3);
    expect(fixed.false_no_water_use).toBeGreaterThan(3 * model.false_no_water_use);
    // A stay the service was told of is not alerted, by either rule.
    expect(model.false_no_water_use_registered).toBe(0);
    expect(fixed.false_no_water_use_registered).toBe(0);
    expect(model.drips).toBeGreaterThan(0);
    expect(model.dripsFound).toBe(model.drips);
    expect(model.false_slow_leak).toBe(0);
  }, 180_000); // two replays; ~30 s on a loaded machine
});
