import { describe, it, expect } from 'vitest';
import { observe, observedIntervalMs, statusAt, coveredBy, cadenceOf, emptySamples, type CadenceSamples } from '../../src/state/cadence.js';

const T0 = Date.parse('2025-03-01T00:00:00+08:00');
const MIN = 60_000;
const HOUR = 3_600_000;
const meter = { heartbeatSeconds: 12 * 3600, periodic: true };
const smoke = { heartbeatSeconds: 24 * 3600, periodic: false };

const uploads = (times: Array<[event: number, arrival?: number]>): CadenceSamples =>
  times.reduce<CadenceSamples>((s, [e, a]) => observe(s, e, a ?? e), emptySamples());

describe('cadence', () => {
  it('learns a meter\'s own interval from three gaps; a burst of messages is one upload', () => {
    let s = uploads([[T0], [T0 + 30_000], [T0 + 6 * HOUR], [T0 + 6 * HOUR + 5_000]]);
    expect(observedIntervalMs(s)).toBeNull(); // one gap: the declared 12 h still holds
    expect(cadenceOf(s, meter)).toMatchObject({ intervalMs: 12 * HOUR, observed: false });
    s = observe(observe(s, T0 + 12 * HOUR, T0 + 12 * HOUR), T0 + 18 * HOUR, T0 + 18 * HOUR);
    expect(cadenceOf(s, meter)).toMatchObject({ intervalMs: 6 * HOUR, observed: true, graceMs: 90 * MIN, offlineAfterMs: 19.5 * HOUR });
  });

  it('a backlog sent at once keeps the interval by event time; the median ignores one odd gap', () => {
    const s = uploads([
      [T0, T0],
      [T0 + HOUR, T0 + HOUR],
      // five hours of silence, then the backlog arrives in one go
      [T0 + 2 * HOUR, T0 + 6 * HOUR],
      [T0 + 3 * HOUR, T0 + 6 * HOUR + 1_000],
      [T0 + 4 * HOUR, T0 + 6 * HOUR + 2_000],
      [T0 + 5 * HOUR, T0 + 6 * HOUR + 3_000],
      [T0 + 6 * HOUR, T0 + 6 * HOUR + 4_000],
      [T0 + 7 * HOUR, T0 + 7 * HOUR],
      [T0 + 8 * HOUR, T0 + 8 * HOUR],
      [T0 + 9 * HOUR, T0 + 9 * HOUR],
    ]);
    expect(observedIntervalMs(s)).toBe(HOUR);
  });

  it('an NB meter on a 6 h cadence is 正常 between reports, 迟报 after a quarter interval over, 离线 after three missed', () => {
    const s = uploads([[T0], [T0 + 6 * HOUR], [T0 + 12 * HOUR], [T0 + 18 * HOUR]]);
    const last = T0 + 18 * HOUR;
    expect(statusAt(last, s, meter, last + 5 * HOUR + 59 * MIN).status).toBe('ok');
    expect(statusAt(last, s, meter, last + 7 * HOUR).status).toBe('ok');
    expect(statusAt(last, s, meter, last + 7.5 * HOUR).status).toBe('late');
    expect(statusAt(last, s, meter, last + 19.5 * HOUR).status).toBe('offline');
    expect(statusAt(null, s, meter, last).status).toBe('offline'); // never heard
  });

  it('a heartbeat device is judged on its declared heartbeat whatever its events', () => {
    const s = uploads([[T0], [T0 + 10 * MIN], [T0 + 20 * MIN], [T0 + 30 * MIN]]); // alarms and tests
    const last = T0 + 30 * MIN;
    expect(cadenceOf(s, smoke)).toMatchObject({ intervalMs: 24 * HOUR, observed: false, offlineAfterMs: 48 * HOUR });
    expect(statusAt(last, s, smoke, last + 23 * HOUR).status).toBe('ok');
    expect(statusAt(last, s, smoke, last + 31 * HOUR).status).toBe('late');
    expect(statusAt(last, s, smoke, last + 48 * HOUR).status).toBe('offline');
  });

  it('coveredBy: when the upload holding an event time is due to have arrived', () => {
    // Hourly meter whose data arrives 10 min after its event time.
    const s = uploads([[T0, T0 + 10 * MIN], [T0 + HOUR, T0 + HOUR + 10 * MIN], [T0 + 2 * HOUR, T0 + 2 * HOUR + 10 * MIN], [T0 + 3 * HOUR, T0 + 3 * HOUR + 10 * MIN]]);
    expect(coveredBy(s, meter, T0 + 2 * HOUR)).toBe(T0 + 2 * HOUR); // already in
    // 10:30 → the 11:00 upload, arriving ~11:10, late after a quarter interval (15 min): 11:25
    expect(coveredBy(s, meter, T0 + 3.5 * HOUR)).toBe(T0 + 4 * HOUR + 10 * MIN + 15 * MIN);
    expect(coveredBy(emptySamples(), meter, T0)).toBeNull();
  });

  it('observe keeps the samples object while a message adds nothing (same upload), and cadenceOf follows every change', () => {
    const s = uploads([[T0], [T0 + HOUR], [T0 + 2 * HOUR], [T0 + 3 * HOUR]]);
    const before = cadenceOf(s, meter);
    // A heartbeat a minute after the reading: the same upload, nothing to learn, the same object.
    expect(observe(s, T0 + 3 * HOUR + MIN, T0 + 3 * HOUR + MIN)).toBe(s);
    expect(cadenceOf(s, meter)).toBe(before);
    // The next upload: a new object (the old one unchanged, snapshots stay true) and a cadence of its own.
    const next = observe(s, T0 + 5 * HOUR, T0 + 5 * HOUR);
    expect(next).not.toBe(s);
    expect(s.uploadEventAt).toBe(T0 + 3 * HOUR);
    expect(cadenceOf(next, meter)).toEqual(cadenceOf({ ...next, eventGaps: [...next.eventGaps] }, meter));
    // Another declared heartbeat or other settings are not served from the memo.
    expect(cadenceOf(s, smoke).intervalMs).toBe(24 * HOUR);
    expect(cadenceOf(s, meter, { factor: 2, missedUploads: 5, floorMinutes: 180 }).offlineAfterMs).not.toBe(before.offlineAfterMs);
    // Samples persisted before a field existed still get it.
    const old = { uploadEventAt: T0, uploadArrivedAt: T0 } as unknown as CadenceSamples;
    expect(observe(old, T0 + MIN, T0 + MIN).lags).toEqual([]);
  });
});

