import { describe, it, expect } from 'vitest';
import { intervalsOf, lastPerBucket, occupancy, waterFromIntervals, waterFromRegister } from '../../src/telemetry/history.js';

const H = 3_600_000;
const T0 = Date.parse('2025-03-01T00:00:00+08:00');
const at = (h: number, m = 0) => T0 + h * H + m * 60_000;

describe('water use from meter intervals', () => {
  it('puts an interval in the bucket of its last instant, so a quarter ending on the hour counts in the hour before', () => {
    const b = waterFromIntervals(
      [
        { end: at(5, 45), litres: 3 },
        { end: at(6, 0), litres: 7 },
        { end: at(6, 15), litres: 2 },
      ],
      at(5),
      at(7),
      H,
    );
    expect(b).toEqual([
      { start: at(5), value: 10 },
      { start: at(6), value: 2 },
    ]);
  });

  it('counts an interval sent again in a later batch once, and leaves uncovered buckets null rather than 0', () => {
    const b = waterFromIntervals(
      [
        { end: at(1, 15), litres: 4 },
        { end: at(1, 15), litres: 4 },
        { end: at(3, 0), litres: 0 },
      ],
      at(1),
      at(4),
      H,
    );
    expect(b.map((x) => x.value)).toEqual([4, 0, null]);
  });

  it('reads intervals with RFC 3339 or epoch-ms ends and skips malformed ones', () => {
    expect(
      intervalsOf({
        intervals: [
          { start: '2025-03-01T05:45:00+08:00', end: '2025-03-01T06:00:00+08:00', litres: 7 },
          { start: at(6), end: at(6, 15), litres: 1.5 },
          { end: 'not a time', litres: 1 },
          { end: at(7) },
        ],
      }),
    ).toEqual([
      { end: at(6), litres: 7 },
      { end: at(6, 15), litres: 1.5 },
    ]);
  });
});

describe('water use from the register', () => {
  it('counts each rise at the later reading, in litres, and a fall as a reset (no negative use)', () => {
    const b = waterFromRegister(
      [
        { ts: at(0, 30) - 2 * H, totalM3: 100.1 }, // the reading before the range
        { ts: at(0, 30), totalM3: 100.3 },
        { ts: at(1, 10), totalM3: 100.3 },
        { ts: at(1, 50), totalM3: 100.45 },
        { ts: at(2, 5), totalM3: 0.02 }, // meter swapped
        { ts: at(2, 40), totalM3: 0.05 },
      ],
      at(0),
      at(4),
      H,
    );
    expect(b.map((x) => x.value)).toEqual([200, 150, 30, null]);
  });
});

describe('parking occupancy', () => {
  it('gives the fraction of each bucket occupied, carrying the state in from before the range', () => {
    const r = occupancy(
      true,
      [
        { at: at(0, 15), occupied: false },
        { at: at(0, 45), occupied: true },
        { at: at(1, 30), occupied: true }, // repeated report, not a change
        { at: at(2, 0), occupied: false },
      ],
      at(0),
      at(3),
      H,
      at(10),
    );
    expect(r.buckets.map((b) => b.value)).toEqual([0.5, 1, 0]);
    expect(r.changes).toEqual([
      { at: at(0, 15), occupied: false },
      { at: at(0, 45), occupied: true },
      { at: at(2, 0), occupied: false },
    ]);
  });

  it('judges a bucket only on the time whose state is known, and not past now', () => {
    const r = occupancy(null, [{ at: at(1, 30), occupied: true }], at(0), at(4), H, at(2, 30));
    expect(r.buckets.map((b) => b.value)).toEqual([null, 1, 1, null]);
    expect(r.changes).toEqual([{ at: at(1, 30), occupied: true }]);
  });
});

describe('battery', () => {
  it('takes the last level reported in each bucket', () => {
    const b = lastPerBucket(
      [
        { ts: at(0, 50), value: 80 },
        { ts: at(0, 10), value: 81 },
        { ts: at(2, 0), value: 79 },
      ],
      at(0),
      at(3),
      H,
    );
    expect(b.map((x) => x.value)).toEqual([80, null, 79]);
  });
});
