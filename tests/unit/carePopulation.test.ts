// The labelled population of bench/care.ts: its ground truth must be true of the bytes it sends, or every
// figure the bench reports is wrong.
import { describe, expect, it } from 'vitest';
import { buildPopulation } from '../../bench/carePopulation.js';

const opts = { elders: 12, days: 12, warmupDays: 4, incidents: 8, seed: 't1' };

describe('bench care population', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = buildPopulation(opts);
    const b = buildPopulation(opts);
    const c = buildPopulation({ ...opts, seed: 't2' });
    expect(a.messages.length).toBe(b.messages.length);
    expect(a.messages.slice(0, 50).map((m) => m.payload.toString())).toEqual(b.messages.slice(0, 50).map((m) => m.payload.toString()));
    expect(c.messages.slice(0, 50).map((m) => m.payload.toString())).not.toEqual(a.messages.slice(0, 50).map((m) => m.payload.toString()));
  });

  it('shows no use during an incident except the drip, and the uploads are in send order', () => {
    const pop = buildPopulation(opts);
    const incidents = pop.elders.flatMap((e) => e.incidents.map((i) => ({ e, i })));
    expect(incidents.length).toBe(8);
    for (let k = 1; k < pop.messages.length; k++) expect(pop.messages[k].t).toBeGreaterThanOrEqual(pop.messages[k - 1].t);
    for (const { e, i } of incidents) {
      expect(e.uses.some((t) => t >= i.start && t < i.end)).toBe(false);
      expect(i.lastUse).toBeLessThanOrEqual(i.start);
      let litres = 0;
      let covered = 0;
      for (const m of pop.messages.filter((x) => x.deviceId === e.deviceId)) {
        for (const it of (m.canonical.intervals ?? []) as Array<{ start: string; end: string; litres: number }>) {
          const s = Date.parse(it.start) - e.skewMs;
          if (s >= i.start + 3_600_000 && Date.parse(it.end) - e.skewMs <= i.end) (litres += it.litres), (covered += 1);
        }
      }
      // Duplicated batches count twice here; a drip of ≤ 3 L/h over ≤ 48 h is well under 400 L even so.
      if (!e.drip || e.drip.from > i.end) expect(litres).toBe(0);
      else expect(litres).toBeLessThan(400);
    }
  });
});
