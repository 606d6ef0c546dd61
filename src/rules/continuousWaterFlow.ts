// 持续用水: water running for ≥ 2 h — a tap left open, a fall in the shower — or the meter's own `leak` alarm
// (CONTRACT.md). DOMAIN.md §1: 龙岗 treats use in every 30-min slot of a day as 疑似漏水, 镇海 alerts on
// continuous high use. Judged on the meter's own timestamps (intervals, or register deltas), in order, and
// ANYWHERE in the data: an NB batch that holds a 3-hour run which has already ended raises the alert (marked
// ended) and resolves it at once, so the run is on record and the carers are told.
//
// What shows a run depends on how finely the meter reports (docs/rules.md "continuous_water_flow: what each
// meter can show"):
// - spans ≤ maxIntervalMinutes (30; 15-min intervals, frequent readings): use in every span for ≥ minHours, each span at
//   ≥ minSpanLph above the floor (water left running runs through every quarter; a morning comes in bursts);
// - spans up to maxCoarseMinutes (90; hourly intervals or readings): an hour proves nothing by itself (a
//   90-minute bath touches three hours), so it counts only with more evidence —
//   · the meter's live `flowLph` at both ends of the hour is > 0 and the hour's litres match that flow (≥ 75 % of
//     the mean of the two): water ran through the whole hour. A run of such hours from the first flowing
//     snapshot to the last, ≥ minHours, is a tap left open; a bath of less than 2 h cannot have flowing
//     snapshots 2 h apart;
//   · without flowLph at both ends: ≥ heavyLitresPerHour (150 L) in every hour for minHours + 1 h (3 h) —
//     a tap left open at ≥ 2.5 L/min; a bath (~100–200 L) or a laundry cycle cannot fill three such hours;
// - longer spans (daily batches, 12 h register deltas): nothing but the `leak` alarm.
// An uncovered gap, a span of another kind, or a longer span breaks a run; a zero span (or flowLph 0) means the
// flow stopped and resolves the alert.
//
// Use is judged above the meter's steady floor (CONTRACT.md): the least litres in any of the last 24 fully
// covered hours (as slow_leak and no_water_use see it, src/rules/lib/waterModel.ts), kept here in 24 hourly
// buckets. A dripping toilet makes every interval non-zero; it is not a tap left running (slow_leak tells of it).
// An interval counts as use when its litres stand clear of the floor: above floor × its length plus max(1 L/h,
// floor / 2) of jitter, at least 1 L (the register's step). Until 12 full hours are known the floor is 0 and any use counts.
import type { Action, Rule, RuleConfigBase } from './lib/types.js';
import { useFromReading, type Register } from './lib/water.js';
import { titleOf } from './lib/place.js';

export interface ContinuousFlowConfig extends RuleConfigBase {
  minHours: number;
  /** Use above this many litres in an interval counts as use. */
  minIntervalLitres: number;
  /**
   * Longer spans cannot tell continuous use from separate uses: a family using water in three hourly register
   * deltas in a row is a morning, not a leak. 30 min follows 龙岗's 30-minute slots (DOMAIN.md §1).
   */
  maxIntervalMinutes: number;
  /** Spans up to this long (hourly data) count only with flowLph at both ends, or as heavy use. */
  maxCoarseMinutes: number;
  /** Hourly data without flowLph: litres per hour that count as water left running. */
  heavyLitresPerHour: number;
  /**
   * A run must average at least this many litres per hour above the floor: a tap left open runs ≥ 0.5 L/min,
   * a shower 6–9 L/min; a busy couple of hours with a little use in every quarter hour (cooking, cleaning:
   * 10–30 L/h) is not water left running.
   */
  minRunLph: number;
  /**
   * Every fine span of a run must carry at least this pace above the floor (L/h): water left running runs
   * through every quarter hour, while a busy morning's shower, laundry and flushes come in bursts with
   * quarters of a litre or two between (0: any use above the floor's jitter).
   */
  minSpanLph: number;
}

type RunKind = 'fine' | 'flow' | 'volume';

export interface ContinuousFlowState {
  reg?: Register;
  /** Newest data time taken into account; older (late) spans are history and change nothing now. */
  lastEnd?: number;
  runStart?: number;
  runEnd?: number;
  runLitres?: number;
  /** How the current run was shown: fine spans, hours with flow at both ends, or heavy hours. */
  runKind?: RunKind;
  /** The current run has raised (or updated) the alert: when it ends it is not reported again as ended. */
  runTold?: boolean;
  /** The last reading's live flow, for the start of the next hourly span. */
  lastFlow?: { at: number; lph: number };
  /** Hourly buckets for the floor, newest last: [hour index (epoch hours), litres, covered seconds]. */
  hb?: Array<[number, number, number]>;
}

const FLOOR_HOURS = 24;
const FLOOR_MIN_HOURS = 12;
const FULL_S = 3300;

/** The steady floor, L/h: the least litres in any of the last 24 fully covered hours (0 until 12 are known). */
export function floorLph(hb: ReadonlyArray<[number, number, number]> | undefined): number {
  // Counted and folded as it goes, no array (asked several times per reading).
  let full = 0;
  let min = Infinity;
  for (let i = (hb?.length ?? 0) - 1; i >= 0 && full < FLOOR_HOURS; i--)
    if (hb![i][2] >= FULL_S) {
      full++;
      min = Math.min(min, hb![i][1]);
    }
  return full < FLOOR_MIN_HOURS ? 0 : min;
}

/**
 * Add a span's litres to the hourly buckets (shared out by time), keeping the newest FLOOR_HOURS + 2. A new
 * array; the old one and its buckets are not changed (copy on write: a bucket is copied when it is written).
 */
function addToBuckets(hb: Array<[number, number, number]>, start: number, end: number, litres: number): Array<[number, number, number]> {
  const out = hb.slice();
  for (let h = Math.floor(start / 3_600_000); h * 3_600_000 < end; h++) {
    const a = Math.max(start, h * 3_600_000);
    const b = Math.min(end, (h + 1) * 3_600_000);
    if (b <= a) continue;
    const part = (litres * (b - a)) / (end - start);
    let at = out.length - 1;
    while (at >= 0 && out[at][0] !== h) at--;
    let bucket = at >= 0 ? (out[at] = [out[at][0], out[at][1], out[at][2]]) : undefined;
    if (!bucket) {
      if (out.length && h < out[0][0]) continue; // older than what is kept
      bucket = [h, 0, 0];
      out.push(bucket);
      out.sort((x, y) => x[0] - y[0]);
    }
    bucket[1] = Math.round((bucket[1] + part) * 1000) / 1000;
    bucket[2] = Math.min(3600, bucket[2] + (b - a) / 1000);
  }
  return out.slice(-(FLOOR_HOURS + 2));
}

const H = 3_600_000;
const MIN = 60_000;
/** Interval boundaries of one meter meet exactly; a minute of slack absorbs rounding by decoders. */
const CONTIGUOUS_MS = 60_000;
/** An hour's litres must be this share of the flow seen at its ends to count as one continuous flow. */
const FLOW_MATCH = 0.75;
const iso = (t: number) => new Date(t).toISOString();
const round1 = (x: number) => Math.round(x * 10) / 10;

export const continuousWaterFlow: Rule<ContinuousFlowState, ContinuousFlowConfig> = {
  name: 'continuous_water_flow',
  description: 'water running for ≥ minHours anywhere in the data (every fine interval, or hourly data with flow at both ends or heavy use), or a leak alarm; resolves when the flow stops',
  subjectType: 'device',
  deviceKinds: ['water-meter'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, minHours: 2, minIntervalLitres: 0, maxIntervalMinutes: 30, maxCoarseMinutes: 90, heavyLitresPerHour: 150, minRunLph: 30, minSpanLph: 15 },
  configSchema: {
    minHours: { type: 'number', exclusiveMinimum: 0, maximum: 72 },
    minIntervalLitres: { type: 'number', minimum: 0 },
    maxIntervalMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440 },
    maxCoarseMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440 },
    heavyLitresPerHour: { type: 'number', exclusiveMinimum: 0 },
    minRunLph: { type: 'number', minimum: 0 },
    minSpanLph: { type: 'number', minimum: 0 },
  },
  subjects: (r) => [r.deviceId],
  evaluate(input, state, ctx) {
    if (input.type !== 'reading') return [];
    const c = ctx.config;
    const r = input.reading;
    const s: ContinuousFlowState = { ...(state ?? {}) };
    const actions: Action<ContinuousFlowState>[] = [];
    const severity = ctx.household?.loneElder ? 'major' : 'minor';

    if (r.type === 'alarm' && r.payload.code === 'leak') {
      actions.push({
        type: 'open',
        severity: 'major',
        title: titleOf(ctx.where, '水表漏水报警'),
        details: { source: 'leak_alarm', eventAt: iso(r.ts), flowLph: r.payload.flowLph },
      });
    }

    const u = useFromReading(r, s.reg);
    s.reg = u.register;
    const flowNow = typeof r.payload.flowLph === 'number' ? r.payload.flowLph : undefined;
    const needMs = (kind: RunKind) => (kind === 'volume' ? c.minHours * H + H : c.minHours * H);
    /** Long enough, and enough water above the floor, to be water left running. */
    const isRun = (from: number, to: number, litres: number, kind: RunKind) =>
      to - from >= needMs(kind) && (litres - (floorLph(s.hb) * (to - from)) / H) / ((to - from) / H) >= c.minRunLph;
    const floor = floorLph(s.hb);
    /**
     * Litres of a span above the floor, and the jitter a drip may show on top of it: max(1 L/h, floor / 2) of
     * the span, and never less than one litre — a 1 L register shows a 2 L/h drip as 0 or 1 L in a 15-minute
     * interval, so a lone litre there is the drip's step, not use (without this, drip intervals bridged the
     * separate uses of a busy morning into a "run").
     */
    const above = (litres: number, len: number) => litres - (floor * len) / H;
    const jitter = (len: number) => (floor > 0 ? Math.max(1, (Math.max(1, floor / 2) * len) / H) : 0);
    let stopped = false;
    /** The longest run that ended inside this data. */
    let finished: { from: number; to: number; litres: number; kind: RunKind } | undefined;
    const endRun = () => {
      if (s.runStart !== undefined && s.runKind && !s.runTold && isRun(s.runStart, s.runEnd!, s.runLitres ?? 0, s.runKind))
        if (!finished || s.runEnd! - s.runStart > finished.to - finished.from) finished = { from: s.runStart, to: s.runEnd!, litres: s.runLitres ?? 0, kind: s.runKind };
      s.runStart = s.runEnd = s.runLitres = s.runKind = s.runTold = undefined;
    };
    for (const [start, end, litres] of u.segments) {
      if (s.lastEnd !== undefined && end <= s.lastEnd) continue;
      s.lastEnd = end;
      const len = end - start;
      if (len <= c.maxCoarseMinutes * MIN) s.hb = addToBuckets(s.hb ?? [], start, end, litres);
      let kind: RunKind | undefined;
      let used: boolean;
      if (len <= c.maxIntervalMinutes * MIN) {
        kind = 'fine';
        used = above(litres, len) > Math.max(c.minIntervalLitres + jitter(len), (c.minSpanLph * len) / H);
        if (!used) stopped = true;
      } else if (len <= c.maxCoarseMinutes * MIN) {
        const atStart = s.lastFlow && Math.abs(s.lastFlow.at - start) <= CONTIGUOUS_MS ? s.lastFlow.lph : undefined;
        const atEnd = flowNow !== undefined && Math.abs(r.ts - end) <= CONTIGUOUS_MS ? flowNow : undefined;
        if (atStart !== undefined && atEnd !== undefined) {
          kind = 'flow';
          used = atStart > floor && atEnd > floor && above(litres, len) >= FLOW_MATCH * ((atStart + atEnd) / 2 - floor) * (len / H);
        } else {
          kind = 'volume';
          used = above(litres, len) >= c.heavyLitresPerHour * (len / H);
        }
        if (litres === 0 || atEnd === 0) stopped = true;
      } else {
        endRun();
        if (litres === 0) stopped = true;
        continue;
      }
      if (!used) endRun();
      else if (s.runEnd !== undefined && start <= s.runEnd + CONTIGUOUS_MS && (s.runKind === kind || (s.runKind !== 'fine' && kind !== 'fine'))) {
        s.runEnd = end;
        s.runLitres = (s.runLitres ?? 0) + litres;
        // Hours judged by volume alone need the longer proof.
        if (kind === 'volume') s.runKind = 'volume';
      } else {
        endRun();
        s.runStart = start;
        s.runEnd = end;
        s.runLitres = litres;
        s.runKind = kind;
      }
    }
    if (flowNow !== undefined && (!s.lastFlow || r.ts >= s.lastFlow.at)) s.lastFlow = { at: r.ts, lph: flowNow };
    // A live flow rate of zero is the meter saying the water stopped, even without a new interval.
    if (flowNow === 0 && (s.lastEnd === undefined || r.ts >= s.lastEnd)) {
      stopped = true;
      endRun();
    }
    const alertOpen = ctx.alert !== undefined || actions.some((a) => a.type === 'open');
    if (stopped && ctx.alert) {
      actions.push({ type: 'state', state: s }, { type: 'resolve', reason: '用水已停止' });
      return actions;
    }
    const details = (from: number, to: number, litres: number, kind: RunKind) => ({
      source: 'intervals',
      judgedBy: kind === 'fine' ? 'intervals' : kind === 'flow' ? 'hourly_flow' : 'hourly_volume',
      runFrom: iso(from),
      runTo: iso(to),
      hours: round1((to - from) / H),
      litres: round1(litres),
    });
    if (s.runStart !== undefined && s.runKind && isRun(s.runStart, s.runEnd!, s.runLitres ?? 0, s.runKind)) {
      const d = details(s.runStart, s.runEnd!, s.runLitres!, s.runKind);
      if (!alertOpen) actions.push({ type: 'open', severity, title: titleOf(ctx.where, `持续用水超过${c.minHours}小时`), details: d });
      else if (ctx.alert?.details.source === 'intervals') actions.push({ type: 'update', details: d });
      s.runTold = true;
    } else if (finished && !alertOpen) {
      // A run the data shows already over (an NB batch uploaded after the tap was turned off): on record, and
      // the carers told, then resolved — the water is not running now.
      const d = { ...details(finished.from, finished.to, finished.litres, finished.kind), ended: true };
      actions.push({ type: 'open', severity, title: titleOf(ctx.where, `持续用水${d.hours}小时（已停止）`), details: d });
      actions.push({ type: 'resolve', reason: '用水已停止（批量数据中已结束）' });
    }
    actions.unshift({ type: 'state', state: s });
    return actions;
  },
};
