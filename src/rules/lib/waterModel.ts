// A household's normal water use, learned from its own meter (issue #10): for each local hour of the day, how
// likely any real use is and how many litres, an exponentially weighted mean over about the last four weeks;
// and the meter's steady floor (a dripping toilet, a running cistern), so that use is judged above it.
//
// Fixed size, O(1) per reading: the last 48 hours of covered time are kept as hour slots (litres, the spans of
// the hour the data covers — so a batch sent twice or a late batch overlapping earlier data counts once — and
// the end of the last use in the hour); a slot leaving the 48 h ring is folded into the 24 hour-of-day buckets.
// Learning thus lags two days, which lets late NB batches land first and costs nothing over a four-week memory.
//
// Why hour of the day and not of the week: an elder's days differ little by weekday, and 168 buckets need
// months of history before they say anything; 24 buckets have a sample a day each.
//
// "How improbable is the silence so far": with p_h the chance of any use in local hour h (shrunk towards a
// prior while the history is short, and capped so no single hour is ever certain), the silence since the last
// real use over covered time has probability Π (1 − p_h)^(covered fraction of the hour). Night hours, when
// this elder rarely uses water, have small p_h and so add little: the elder's own quiet hours weigh less by
// construction, not by a fixed clock. Hours no data covers add nothing (no data is not no use).
import type { Segment } from './water.js';

const H = 3_600_000;
const SLOTS = 48;
/** A full hour of data, allowing a few seconds of clock jitter. */
const FULL_S = 3540;
/** Recent full hours the floor is the minimum of. */
const FLOOR_HOURS = 24;
const FLOOR_MIN_HOURS = 24;
/** A slot with at least this much data is learned from. */
const LEARN_MIN_S = 2700;
/** The four-week memory: a running mean for the first 28 samples of a bucket, then EWMA with α = 1/28. */
const MEMORY = 28;
/** No hour is ever certain: each covered hour can make a silence at most ten times less likely. */
const P_MAX = 0.9;
const P_MIN = 0.005;

/**
 * A typical lone elder's hourly chance of any use, local time (issue #10's cold start). Used only through
 * shrinkage (`priorDays` of weight) — and replaced by the community's pooled profile when the engine has one.
 */
export const PRIOR_P = [
  0.08, 0.06, 0.05, 0.05, 0.08, 0.15, 0.35, 0.5, 0.5, 0.4, 0.35, 0.4, 0.4, 0.3, 0.25, 0.25, 0.3, 0.4, 0.45, 0.4, 0.35, 0.3, 0.2,
  0.12,
];
export const PRIOR_L = PRIOR_P.map((p) => p * 8);

/** One hour of data: [absolute hour (t / 1 h), litres, end of the last use in it (s into the hour, −1 none), ...covered spans (s into the hour, pairs)]. */
export type Slot = number[];

export interface WaterModel {
  /** Hour slots, oldest first, at most 48, hours ascending. */
  s: Slot[];
  /** Learned per local hour of day: chance of any use, litres above the floor, samples. */
  p: number[];
  v: number[];
  n: number[];
  /**
   * The longest silence this elder has had, in hours, by the local hour it began: decays with a four-week
   * half-life, with the hour (t / 1 h) it was last raised. Learned as slots fold, in time order.
   */
  x: number[];
  xt: number[];
  /** The end of the last use folded (ms), while the folded hours are contiguous. */
  lu?: number;
  /** Hours not to learn from (an alert's quiet stretch that turned out real or not: not the elder's normal). */
  skip?: [number, number];
  /**
   * How much this elder's days differ (a quiet day lowers the chance of use in every hour at once): the local
   * day being folded [day number, hours used, hours covered], and over the full days folded so far the
   * exponentially weighted mean of hours used and of its square, and the number of such days.
   */
  d?: [number, number, number];
  dm?: number;
  d2?: number;
  dn?: number;
}

export interface ModelConfig {
  utcOffsetMinutes: number;
  /** Weight of the prior in days of history. */
  priorDays: number;
  /**
   * Allow for the elder's days differing (a quiet day lowers every hour's chance at once): the chance of a
   * silence is then E[exp(−gΛ)] over the elder's learned day-to-day level g, not exp(−Λ). Off unless true
   * (the rule's `dayVariation`, default false: on the care bench it bought fewer false alerts only at a
   * longer delay — BENCHMARKS.md "Care alerts").
   */
  dayVariation?: boolean;
}

export const newModel = (): WaterModel => ({
  s: [],
  p: new Array(24).fill(0),
  v: new Array(24).fill(0),
  n: new Array(24).fill(0),
  x: new Array(24).fill(0),
  xt: new Array(24).fill(0),
});
/** Silences learned: up to this long (longer is no elder's normal day; an incident must not teach it). */
const RECORD_MAX_H = 24;
const RECORD_HALF_LIFE_H = 28 * 24;

const localHour = (hour: number, c: ModelConfig) => (((hour + Math.round(c.utcOffsetMinutes / 60)) % 24) + 24) % 24;
const covered = (slot: Slot) => {
  let c = 0;
  for (let i = 3; i + 1 < slot.length; i += 2) c += slot[i + 1] - slot[i];
  return c;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Seconds of [a, b) not yet covered by the slot's spans, and the spans with [a, b) added (merged). */
function addSpan(slot: Slot, a: number, b: number): number {
  const spans: Array<[number, number]> = [];
  for (let i = 3; i + 1 < slot.length; i += 2) spans.push([slot[i], slot[i + 1]]);
  let overlap = 0;
  for (const [x, y] of spans) overlap += Math.max(0, Math.min(b, y) - Math.max(a, x));
  spans.push([a, b]);
  spans.sort((p, q) => p[0] - q[0]);
  const merged: Array<[number, number]> = [];
  for (const sp of spans) {
    const last = merged[merged.length - 1];
    if (last && sp[0] <= last[1] + 1) last[1] = Math.max(last[1], sp[1]);
    else merged.push([sp[0], sp[1]]);
  }
  // Bounded: out-of-order pieces of one hour rarely make more than a few spans; past 6, close the smallest gap.
  while (merged.length > 6) {
    let k = 0;
    for (let i = 1; i < merged.length - 1; i++) if (merged[i + 1][0] - merged[i][1] < merged[k + 1][0] - merged[k][1]) k = i;
    merged[k][1] = merged[k + 1][1];
    merged.splice(k + 1, 1);
  }
  slot.length = 3;
  for (const [x, y] of merged) slot.push(x, y);
  return Math.max(0, b - a - overlap);
}

/**
 * The steady floor, L/h: the least litres in any of the last 24 full hours (0 until 24 full hours are known) —
 * water in every hour of a whole day, night included, is a drip or a running cistern, not an elder (龙岗 calls
 * use in every 30-minute slot of a day 疑似漏水).
 */
export function floorOf(m: WaterModel): number {
  return floorOfSlots(m.s);
}

/** The steady floor of hour slots (oldest first): the least litres in any of the newest 24 full hours. */
export function floorOfSlots(slots: readonly Slot[]): number {
  // Counted and folded as it goes, no array: the rules ask for the floor several times per water reading.
  let full = 0;
  let min = Infinity;
  for (let i = slots.length - 1; i >= 0 && full < FLOOR_HOURS; i--)
    if (covered(slots[i]) >= FULL_S) {
      full++;
      min = Math.min(min, slots[i][1]);
    }
  return full < FLOOR_MIN_HOURS ? 0 : min;
}

/** Litres in a slot above the floor (for its covered share of the hour), and whether that is real use. */
export function aboveFloor(slot: Slot, floor: number): { litres: number; used: boolean } {
  const f = (floor * covered(slot)) / 3600;
  // A drip's litres come in whole-litre steps on a 1 L register: use must stand clear of the floor's jitter.
  const margin = floor > 0 ? Math.max(1, floor / 2) : 0;
  const litres = Math.max(0, slot[1] - f);
  return { litres: round3(litres), used: floor > 0 ? slot[1] > f + margin : slot[1] > 0 };
}

/** Put `share` litres over [t, hEnd) (within the slot's hour) into the slot. */
function putShare(slot: Slot, t: number, hEnd: number, share: number): void {
  const h0 = slot[0] * H;
  const a = Math.round((t - h0) / 1000);
  const b = Math.round((hEnd - h0) / 1000);
  const fresh = b > a ? addSpan(slot, a, b) / (b - a) : 0;
  // The uncovered part adds its share; where data overlaps what the hour already has (a batch sent twice, an
  // interval inside a register delta) the larger claim of use stands: the same data counts once, and
  // conflicting data errs towards "there was use".
  const before = slot[1];
  slot[1] = round3(Math.max(slot[1] + share * fresh, share));
  if (slot[1] > before && b > slot[2]) slot[2] = b;
}

/**
 * Put new covered spans into the model (a new object; the old one is not changed). O(segments).
 *
 * Copy on write (this runs for every water reading, for no_water_use and slow_leak): the new model shares with
 * the old one what the reading does not change — the hour slots it does not touch and, unless a slot leaves the
 * ring (once an hour), the learned hour-of-day arrays. Nothing else writes into a model's arrays.
 */
export function observe(prev: WaterModel, segs: readonly Segment[], c: ModelConfig): WaterModel {
  if (!segs.length) return prev;
  const m: WaterModel = {
    s: prev.s.slice(), // slots are copied as they are written (find)
    p: prev.p, // copied before a fold writes them (own)
    v: prev.v,
    n: prev.n,
    x: prev.x ?? new Array(24).fill(0),
    xt: prev.xt ?? new Array(24).fill(0),
    lu: prev.lu,
    skip: prev.skip,
    d: prev.d?.slice() as WaterModel['d'],
    dm: prev.dm,
    d2: prev.d2,
    dn: prev.dn,
  };
  for (const [start, end, litres] of segs) {
    for (let t = start; t < end; ) {
      const hour = Math.floor(t / H);
      const hEnd = Math.min(end, (hour + 1) * H);
      const share = (litres * (hEnd - t)) / (end - start);
      const slot = find(m, hour, c);
      if (slot) putShare(slot, t, hEnd, share);
      t = hEnd;
    }
  }
  return m;
}

/**
 * Hour slots alone, for a rule that needs the meter's drip floor but not its rhythm (missed_check): the
 * newest `keep` hours as the model keeps them (a batch sent twice counts once), nothing learned. A new array;
 * the old one is not changed. O(segments).
 */
export function observeSlots(prev: readonly Slot[], segs: readonly Segment[], keep = FLOOR_HOURS + 6): Slot[] {
  const slots = prev.slice(); // copy on write, as observe: a slot is copied when it is written
  for (const [start, end, litres] of segs) {
    for (let t = start; t < end; ) {
      const hour = Math.floor(t / H);
      const hEnd = Math.min(end, (hour + 1) * H);
      const share = (litres * (hEnd - t)) / (end - start);
      let i = slots.length - 1;
      while (i >= 0 && slots[i][0] > hour) i--;
      let slot: Slot | undefined = i >= 0 && slots[i][0] === hour ? (slots[i] = slots[i].slice()) : undefined;
      if (!slot && (!slots.length || slots[slots.length - 1][0] - hour < keep)) {
        slot = [hour, 0, -1];
        slots.splice(i + 1, 0, slot);
      }
      if (slot) putShare(slot, t, hEnd, share);
      t = hEnd;
    }
  }
  const newest = slots.length ? slots[slots.length - 1][0] : 0;
  while (slots.length && newest - slots[0][0] >= keep) slots.shift();
  return slots;
}

/** The slot of `hour`, made if new; undefined if it is older than the ring (data two days late is dropped). */
function find(m: WaterModel, hour: number, c: ModelConfig): Slot | undefined {
  for (let i = m.s.length - 1; i >= 0; i--) {
    const h = m.s[i][0];
    if (h === hour) return (m.s[i] = m.s[i].slice()); // the old model's slot stays as it was
    if (h < hour) {
      const slot: Slot = [hour, 0, -1];
      m.s.splice(i + 1, 0, slot);
      trim(m, c);
      return m.s.includes(slot) ? slot : undefined;
    }
  }
  const newest = m.s.length ? m.s[m.s.length - 1][0] : hour;
  if (newest - hour >= SLOTS) return undefined;
  const slot: Slot = [hour, 0, -1];
  m.s.unshift(slot);
  trim(m, c);
  return slot;
}

/** Fold slots that left the 48 h ring into the hour-of-day buckets. */
function trim(m: WaterModel, c: ModelConfig): void {
  const newest = m.s[m.s.length - 1][0];
  let floor: number | undefined;
  let owned = false;
  while (m.s.length && (m.s.length > SLOTS || newest - m.s[0][0] >= SLOTS)) {
    if (!owned) {
      // A fold writes the learned arrays: this model's own copies from here on (observe shares the old ones).
      m.p = m.p.slice();
      m.v = m.v.slice();
      m.n = m.n.slice();
      m.x = m.x.slice();
      m.xt = m.xt.slice();
      owned = true;
    }
    const old = m.s.shift()!;
    const t = old[0] * H;
    if (covered(old) < LEARN_MIN_S || (m.skip && t >= m.skip[0] && t < m.skip[1])) {
      m.lu = undefined; // a gap in the data or an episode: the silence around it is not known
      continue;
    }
    floor ??= floorOf(m);
    const b = localHour(old[0], c);
    const { litres, used } = aboveFloor(old, floor);
    foldDay(m, Math.floor((old[0] + Math.round(c.utcOffsetMinutes / 60)) / 24), used);
    if (used) {
      if (m.lu !== undefined && t - m.lu >= H && t - m.lu <= RECORD_MAX_H * H) {
        const len = (t - m.lu) / H;
        const sb = localHour(Math.floor(m.lu / H), c);
        if (len >= recordOf(m, sb, old[0])) {
          m.x[sb] = Math.round(len * 100) / 100;
          m.xt[sb] = old[0];
        }
      }
      m.lu = t + Math.max(0, old[2]) * 1000;
    }
    const n = Math.min(m.n[b] + 1, 10_000);
    const a = 1 / Math.min(n, MEMORY);
    m.p[b] = round3(m.p[b] + a * ((used ? 1 : 0) - m.p[b]));
    m.v[b] = round3(m.v[b] + a * (litres - m.v[b]));
    m.n[b] = n;
  }
}

/** A local day with at least this many learned hours counts towards how much the elder's days differ. */
const DAY_MIN_HOURS = 20;

/** Count a learned hour towards its local day; a finished day (enough hours) updates the day statistics. */
function foldDay(m: WaterModel, day: number, used: boolean): void {
  if (!m.d || m.d[0] !== day) {
    if (m.d && m.d[2] >= DAY_MIN_HOURS && day > m.d[0]) {
      // Scaled to a whole day, so a day with an hour or two of missing data is not counted as a quiet one.
      const x = (m.d[1] * 24) / m.d[2];
      const n = Math.min((m.dn ?? 0) + 1, 10_000);
      const a = 1 / Math.min(n, MEMORY);
      m.dm = round3((m.dm ?? 0) + a * (x - (m.dm ?? 0)));
      m.d2 = round3((m.d2 ?? 0) + a * (x * x - (m.d2 ?? 0)));
      m.dn = n;
    }
    if (!m.d || day > m.d[0]) m.d = [day, 0, 0];
    else return; // an hour of a day already closed (out of order): not counted twice
  }
  if (used) m.d[1]++;
  m.d[2]++;
}

/** Days folded before how much the elder's days differ is trusted (until then: every day alike). */
const DISPERSION_MIN_DAYS = 7;
/** The least shape: days differing more than a gamma of shape 1 (exponential) would are not believed. */
const K_MIN = 1;

/**
 * The shape k of the gamma the elder's day-to-day level is drawn from (mean 1; Infinity: every day alike).
 * By the delta method the variance of the hours used in a day is the within-day (Bernoulli) part Σ p(1 − p)
 * plus (1/k)·(Σ λ(1 − p))², with λ = −ln(1 − p) the hourly rate; k is what makes the observed variance.
 */
export function dispersion(m: WaterModel, c: ModelConfig): number {
  if ((m.dn ?? 0) < DISPERSION_MIN_DAYS || m.dm === undefined || m.d2 === undefined) return Infinity;
  let within = 0;
  let slope = 0;
  for (let b = 0; b < 24; b++) {
    const p = pHour(m, b, c);
    within += p * (1 - p);
    slope += -Math.log(1 - p) * (1 - p);
  }
  const excess = m.d2 - m.dm * m.dm - within;
  if (excess <= 0 || slope <= 0) return Infinity;
  return Math.max(K_MIN, (slope * slope) / excess);
}

/** The longest silence begun in local hour `b`, decayed to absolute hour `hour`. */
function recordOf(m: WaterModel, b: number, hour: number): number {
  const x = m.x?.[b] ?? 0;
  return x * Math.pow(0.5, Math.max(0, hour - (m.xt?.[b] ?? hour)) / RECORD_HALF_LIFE_H);
}

/** The longest silence this elder had that began within an hour of `t`'s local hour (hours). */
export function recordSilence(m: WaterModel, c: ModelConfig, t: number): number {
  const hour = Math.floor(t / H);
  const b = localHour(hour, c);
  return Math.max(recordOf(m, (b + 23) % 24, hour), recordOf(m, b, hour), recordOf(m, (b + 1) % 24, hour));
}

/** Days of history learned (mean samples per hour bucket). */
export const historyDays = (m: WaterModel) => m.n.reduce((a, b) => a + b, 0) / 24;

/** This elder's chance of any use in local hour `b`: shrunk towards the prior (or pool), within [0.005, 0.9]. */
export function pHour(m: WaterModel, b: number, c: ModelConfig, prior: readonly number[] = PRIOR_P): number {
  const p = (m.n[b] * m.p[b] + c.priorDays * prior[b]) / (m.n[b] + c.priorDays);
  return Math.min(P_MAX, Math.max(P_MIN, p));
}
export function litresHour(m: WaterModel, b: number, c: ModelConfig, prior: readonly number[] = PRIOR_L): number {
  return (m.n[b] * m.v[b] + c.priorDays * prior[b]) / (m.n[b] + c.priorDays);
}

export interface Silence {
  /** The end of the last real use (above the floor), or undefined if none in the last 48 h. */
  lastUse?: number;
  /** When the silence is counted from: the last use, or a later sign of life. */
  from: number;
  /** The newest data, epoch ms. */
  to: number;
  /** Covered time of the silence, ms. */
  coveredMs: number;
  /** log of the chance of this silence for this elder. */
  logP: number;
  /** The expected number of used hours over the covered silence (Σ λ_h), and the day-variation shape used. */
  rate: number;
  shape: number;
  /** Litres the elder usually uses over the covered silence, and litres above the floor seen. */
  expectedLitres: number;
  litres: number;
  floor: number;
}

/**
 * The silence at the newest data: since the last real use, or since `lifeAt` (another sign of life, e.g. a
 * visit) if later. Slots that only partly follow the start count for the part that does.
 */
export function silence(m: WaterModel, c: ModelConfig, lifeAt?: number): Silence | undefined {
  if (!m.s.length) return undefined;
  const floor = floorOf(m);
  let lastUse: number | undefined;
  for (let i = m.s.length - 1; i >= 0; i--) {
    if (aboveFloor(m.s[i], floor).used) {
      lastUse = m.s[i][0] * H + Math.max(0, m.s[i][2]) * 1000;
      break;
    }
  }
  const newest = m.s[m.s.length - 1];
  const to = newest[0] * H + (newest.length > 3 ? newest[newest.length - 1] : 0) * 1000;
  const from = Math.max(lastUse ?? m.s[0][0] * H, lifeAt ?? -Infinity);
  let coveredMs = 0;
  let rate = 0;
  let expected = 0;
  let litres = 0;
  for (const slot of m.s) {
    const h0 = slot[0] * H;
    if (h0 + H <= from) continue;
    // The covered seconds of this slot after `from`.
    let cov = 0;
    const cut = Math.max(0, (from - h0) / 1000);
    for (let i = 3; i + 1 < slot.length; i += 2) cov += Math.max(0, slot[i + 1] - Math.max(slot[i], cut));
    if (cov <= 0) continue;
    const b = localHour(slot[0], c);
    const frac = cov / 3600;
    coveredMs += cov * 1000;
    rate -= frac * Math.log(1 - pHour(m, b, c));
    expected += frac * litresHour(m, b, c);
    if (h0 >= from) litres += aboveFloor(slot, floor).litres;
  }
  // Every day alike: the hours are independent and the chance is exp(−Λ). Days that differ: the level g of
  // this day is gamma(k, 1/k), and E[exp(−gΛ)] = (1 + Λ/k)^(−k) — a long silence is less surprising from an
  // elder whose quiet days are common, and as surprising as before from one whose days are alike.
  const shape = c.dayVariation === true ? dispersion(m, c) : Infinity;
  const logP = Number.isFinite(shape) ? -shape * Math.log1p(rate / shape) : -rate;
  return { lastUse, from, to, coveredMs, logP, rate, shape, expectedLitres: Math.round(expected), litres: round3(litres), floor };
}

/**
 * When this elder has usually used water by, counting from `from` over the hours that follow (full hours
 * assumed): the first time the chance of still no use falls below 10 %. Undefined if not within 24 h.
 */
export function usuallyBy(m: WaterModel, c: ModelConfig, from: number): number | undefined {
  let logP = 0;
  let t = from;
  for (let k = 0; k < 24; k++) {
    const hour = Math.floor(t / H);
    const next = (hour + 1) * H;
    const lp = Math.log(1 - pHour(m, localHour(hour, c), c));
    const need = Math.log(0.1) - logP;
    const frac = (next - t) / H;
    if (lp * frac <= need) return t + (need / lp) * H;
    logP += lp * frac;
    t = next;
  }
  return undefined;
}

/** The usual day: per local hour, the chance of any use and the litres (for the API and the console). */
export function usualDay(m: WaterModel, c: ModelConfig): Array<{ hour: number; p: number; litres: number }> {
  return Array.from({ length: 24 }, (_, b) => ({ hour: b, p: round3(pHour(m, b, c)), litres: Math.round(litresHour(m, b, c) * 10) / 10 }));
}

/** Litres above the floor per hour of the ring (for "today" beside the usual day). */
export function recentHours(m: WaterModel): Array<{ at: number; litres: number; coveredMinutes: number; used: boolean }> {
  const floor = floorOf(m);
  return m.s.map((slot) => {
    const a = aboveFloor(slot, floor);
    return { at: slot[0] * H, litres: a.litres, coveredMinutes: Math.round(covered(slot) / 60), used: a.used };
  });
}
