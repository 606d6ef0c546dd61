// History buckets computed from raw samples. Pure functions shared by both sinks (SQLite computes everything
// here; InfluxDB aggregates water and battery in Flux and uses these for occupancy), tested by calling them.
import type { HistoryBucket } from './sink.js';

export function bucketCount(from: number, to: number, every: number): number {
  return Math.ceil((to - from) / every);
}

export function emptyBuckets(from: number, to: number, every: number): HistoryBucket[] {
  return Array.from({ length: bucketCount(from, to, every) }, (_, i) => ({ start: from + i * every, value: null }));
}

function indexOf(t: number, from: number, every: number, n: number): number {
  if (t < from) return -1;
  const i = Math.floor((t - from) / every);
  return i < n ? i : -1;
}

/** Litres to the millilitre: sums of decimal m³ differences carry binary noise (0.1 + 0.2). */
const litres = (x: number) => Math.round(x * 1000) / 1000;

export interface WaterInterval {
  end: number;
  litres: number;
}

function time(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

/** The intervals of a water-meter reading (CONTRACT.md: `[{ start, end, litres }]`, times RFC 3339 or epoch ms). */
export function intervalsOf(payload: Record<string, unknown>): WaterInterval[] {
  const list = payload.intervals;
  if (!Array.isArray(list)) return [];
  const out: WaterInterval[] = [];
  for (const iv of list as Array<Record<string, unknown>>) {
    const end = time(iv?.end);
    if (Number.isFinite(end) && typeof iv.litres === 'number' && Number.isFinite(iv.litres)) out.push({ end, litres: iv.litres });
  }
  return out;
}

/**
 * Water use per bucket from the meter's own intervals. An interval's litres belong to the bucket holding its
 * last instant (end − 1 ms): the quarter 05:45–06:00 counts in the hour 05:00–06:00. An interval sent again
 * in a later batch (same end) counts once, the later value winning — as InfluxDB treats a point written again
 * with the same series and time. Buckets no interval ends in are null (not covered), not 0.
 */
export function waterFromIntervals(intervals: readonly WaterInterval[], from: number, to: number, every: number): HistoryBucket[] {
  const buckets = emptyBuckets(from, to, every);
  const byEnd = new Map<number, number>();
  for (const iv of intervals) byEnd.set(iv.end, iv.litres);
  for (const [end, l] of byEnd) {
    const i = indexOf(end - 1, from, every, buckets.length);
    if (i >= 0) buckets[i].value = litres((buckets[i].value ?? 0) + l);
  }
  return buckets;
}

/**
 * Water use per bucket from rises of the cumulative register (m³ → litres), for meters that send no
 * intervals. `samples` are in time order and should start with the last reading before `from`. Each rise is
 * counted in the bucket of the later reading; a register that goes down is a reset, never negative use
 * (CONTRACT.md).
 */
export function waterFromRegister(samples: ReadonlyArray<{ ts: number; totalM3: number }>, from: number, to: number, every: number): HistoryBucket[] {
  const buckets = emptyBuckets(from, to, every);
  for (let k = 1; k < samples.length; k++) {
    const i = indexOf(samples[k].ts, from, every, buckets.length);
    if (i < 0) continue;
    const rise = Math.max(0, samples[k].totalM3 - samples[k - 1].totalM3);
    buckets[i].value = litres((buckets[i].value ?? 0) + rise * 1000);
  }
  return buckets;
}

/**
 * Fraction of each bucket a parking space was occupied, from its state reports. `initial` is the state last
 * reported before `from` (null if none); `reports` are inside [from, to) in time order. A state holds until
 * the next report and is not assumed past `now`; a bucket is judged on the part of it whose state is known,
 * and is null when none is. `changes` lists the reports that changed the state.
 */
export function occupancy(
  initial: boolean | null,
  reports: ReadonlyArray<{ at: number; occupied: boolean }>,
  from: number,
  to: number,
  every: number,
  now: number,
): { buckets: HistoryBucket[]; changes: Array<{ at: number; occupied: boolean }> } {
  const buckets = emptyBuckets(from, to, every);
  const changes: Array<{ at: number; occupied: boolean }> = [];
  const segments: Array<{ start: number; end: number; occupied: boolean }> = [];
  const horizon = Math.min(to, now);
  let state = initial;
  let since = from;
  for (const r of reports) {
    if (r.at < from || r.at >= to) continue;
    if (state !== null && r.at > since) segments.push({ start: since, end: Math.min(r.at, horizon), occupied: state });
    if (r.occupied !== state) changes.push({ at: r.at, occupied: r.occupied });
    state = r.occupied;
    since = r.at;
  }
  if (state !== null && horizon > since) segments.push({ start: since, end: horizon, occupied: state });
  for (const b of buckets) {
    const end = b.start + every;
    let known = 0;
    let occupied = 0;
    for (const s of segments) {
      const overlap = Math.min(end, s.end) - Math.max(b.start, s.start);
      if (overlap <= 0) continue;
      known += overlap;
      if (s.occupied) occupied += overlap;
    }
    b.value = known > 0 ? Math.round((occupied / known) * 10000) / 10000 : null;
  }
  return { buckets, changes };
}

/** The last value reported in each bucket (battery level at the end of the bucket); null when none was. */
export function lastPerBucket(samples: ReadonlyArray<{ ts: number; value: number }>, from: number, to: number, every: number): HistoryBucket[] {
  const buckets = emptyBuckets(from, to, every);
  const latest = new Array<number>(buckets.length).fill(-Infinity);
  for (const s of samples) {
    const i = indexOf(s.ts, from, every, buckets.length);
    if (i >= 0 && s.ts >= latest[i]) {
      latest[i] = s.ts;
      buckets[i].value = s.value;
    }
  }
  return buckets;
}
