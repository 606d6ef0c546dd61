// Water use as covered time spans, shared by no_water_use and continuous_water_flow.
//
// CONTRACT.md: "Consumption is the rise of totalM3 between readings, or the sum of intervals when given. A
// register that goes down (meter swapped or rolled over) is a reset, never negative use." DOMAIN.md §1: battery
// NB meters upload once or twice a day with the intervals in the batch, so use is judged on the meter's own
// interval timestamps, never on arrival time, and a span no data covers is unknown, not zero ("no data is not
// the same as no use", DESIGN.md).
import type { Reading } from '../../ingest/reading.js';

/** [start, end, litres], epoch ms, start < end. */
export type Segment = [start: number, end: number, litres: number];

/** The last register reading, for deltas between readings. */
export interface Register {
  ts: number;
  totalM3: number;
}

export interface UseUpdate {
  segments: Segment[];
  register?: Register;
  /** The register went down: a new meter or a rollover; nothing is known about use since the last reading. */
  reset: boolean;
}

export function toMs(t: unknown): number | undefined {
  if (typeof t === 'number') return Number.isFinite(t) ? t : undefined;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const litresOf = (m3: number) => Math.round(m3 * 1e6) / 1e3; // 1 L resolution plus float noise removed

/**
 * The covered spans a reading adds, given the previous register. Intervals win when given (their register only
 * moves the baseline); otherwise the register delta since the previous reading covers [previous, this].
 * A reading older than the baseline (out of order, a late retry) leaves the register alone.
 */
export function useFromReading(r: Reading, previous: Register | undefined): UseUpdate {
  const p = r.payload;
  const total = typeof p.totalM3 === 'number' && Number.isFinite(p.totalM3) ? p.totalM3 : undefined;
  const newer = total !== undefined && (!previous || r.ts > previous.ts);
  const register = newer ? { ts: r.ts, totalM3: total } : previous;
  if (Array.isArray(p.intervals) && p.intervals.length > 0) {
    const segments: Segment[] = [];
    for (const it of p.intervals as Array<{ start?: unknown; end?: unknown; litres?: unknown }>) {
      const start = toMs(it.start);
      const end = toMs(it.end);
      if (start === undefined || end === undefined || end <= start || typeof it.litres !== 'number' || it.litres < 0) continue;
      segments.push([start, end, it.litres]);
    }
    segments.sort((a, b) => a[0] - b[0]);
    const reset = newer && previous !== undefined && total! < previous.totalM3;
    return { segments, register, reset };
  }
  if (!newer) return { segments: [], register, reset: false };
  if (!previous) return { segments: [], register, reset: false };
  const delta = total! - previous.totalM3;
  if (delta < 0) return { segments: [], register, reset: true };
  return { segments: [[previous.ts, r.ts, litresOf(delta)]], register, reset: false };
}

/**
 * Merge `add` into `into` (both sorted by start): new data wins where they overlap, the older span is trimmed
 * (its litres shared out by time), so a batch sent twice counts once.
 */
export function mergeSegments(into: Segment[], add: Segment[]): Segment[] {
  let out = into;
  for (const n of add) {
    const kept: Segment[] = [];
    for (const s of out) {
      if (s[1] <= n[0] || s[0] >= n[1]) {
        kept.push(s);
        continue;
      }
      const len = s[1] - s[0];
      if (s[0] < n[0]) kept.push([s[0], n[0], share(s[2], n[0] - s[0], len)]);
      if (s[1] > n[1]) kept.push([n[1], s[1], share(s[2], s[1] - n[1], len)]);
    }
    kept.push(n);
    kept.sort((a, b) => a[0] - b[0]);
    out = kept;
  }
  return compactZeros(out);
}

function share(litres: number, part: number, whole: number): number {
  return litres === 0 ? 0 : Math.round(((litres * part) / whole) * 1000) / 1000;
}

/** Adjacent zero-use spans carry no more information than one: join them, keeping state small. */
function compactZeros(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last[2] === 0 && s[2] === 0 && last[1] === s[0]) last[1] = s[1];
    else out.push([s[0], s[1], s[2]]);
  }
  return out;
}

/** Forget spans that ended more than `keepMs` before the newest data. */
export function pruneSegments(segs: Segment[], keepMs: number): Segment[] {
  const end = dataEnd(segs);
  if (end === undefined) return segs;
  return segs.filter((s) => s[1] >= end - keepMs);
}

export function dataEnd(segs: Segment[]): number | undefined {
  let end: number | undefined;
  for (const s of segs) if (end === undefined || s[1] > end) end = s[1];
  return end;
}

export interface Window {
  /** Covered time counted, ms (may exceed the window by the straddling span). */
  coveredMs: number;
  litres: number;
  from: number;
  to: number;
}

/**
 * The newest `windowMs` of covered time, walking back from the newest data and skipping spans no data covers.
 * A span straddling the window's start counts whole: that errs towards "there was use", i.e. no false alarm.
 * With `notBefore`, covered time before it is not counted (a span straddling it counts from it, with all its
 * litres).
 */
export function latestWindow(segs: Segment[], windowMs: number, notBefore?: number): Window | undefined {
  if (segs.length === 0) return undefined;
  let covered = 0;
  let litres = 0;
  let from = 0;
  const to = segs[segs.length - 1][1];
  for (let i = segs.length - 1; i >= 0 && covered < windowMs; i--) {
    const [s0, e, l] = segs[i];
    // Time before `notBefore` (a visit, the end of an absence: src/rules/lib/care.ts) is not silence.
    if (notBefore !== undefined && e <= notBefore) break;
    const s = notBefore !== undefined ? Math.max(s0, notBefore) : s0;
    covered += e - s;
    litres += l;
    from = s;
  }
  if (covered === 0) return undefined;
  return { coveredMs: covered, litres: Math.round(litres * 1000) / 1000, from, to };
}

/** Litres in spans that end after `t`. */
export function litresAfter(segs: Segment[], t: number): number {
  let sum = 0;
  for (const s of segs) if (s[1] > t) sum += s[2];
  return Math.round(sum * 1000) / 1000;
}

/**
 * Spans as a rule keeps them in its state: whole seconds after `base`, flattened. A day of hourly spans is a
 * third of the JSON of epoch-ms triples and as much quicker to write on every reading (the state is saved in
 * the ingest transaction each time).
 */
export interface PackedSegments {
  base: number;
  s: number[];
}

export function packSegments(segs: Segment[]): PackedSegments | undefined {
  if (segs.length === 0) return undefined;
  const base = segs[0][0];
  const s: number[] = [];
  for (const [start, end, litres] of segs) s.push(Math.round((start - base) / 1000), Math.round((end - base) / 1000), litres);
  return { base, s };
}

export function unpackSegments(p: PackedSegments | undefined): Segment[] {
  if (!p) return [];
  const out: Segment[] = [];
  for (let i = 0; i + 2 < p.s.length; i += 3) out.push([p.base + p.s[i] * 1000, p.base + p.s[i + 1] * 1000, p.s[i + 2]]);
  return out;
}

