// 持续用水: use in every interval for ≥ 2 h — a tap left open, or a fall in the shower — or the meter's own
// `leak` alarm (CONTRACT.md). DOMAIN.md §1: 龙岗 treats use in every 30-min slot of a day as 疑似漏水, 镇海
// alerts on continuous high use. Judged on the meter's interval timestamps (or register deltas), in order:
// an uncovered gap or a span longer than maxIntervalMinutes breaks the run (it cannot show use in *every*
// interval); a zero interval means the flow stopped and resolves the alert. Hourly register readings are too
// coarse to tell a leak from a busy morning, so such meters raise this from their `leak` alarm only.
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
}

export interface ContinuousFlowState {
  reg?: Register;
  /** Newest data time taken into account; older (late) spans are history and change nothing now. */
  lastEnd?: number;
  runStart?: number;
  runEnd?: number;
  runLitres?: number;
}

const H = 3_600_000;
/** Interval boundaries of one meter meet exactly; a minute of slack absorbs rounding by decoders. */
const CONTIGUOUS_MS = 60_000;
const iso = (t: number) => new Date(t).toISOString();

export const continuousWaterFlow: Rule<ContinuousFlowState, ContinuousFlowConfig> = {
  name: 'continuous_water_flow',
  description: 'use in every interval for ≥ minHours, or a leak alarm; resolves when the flow stops',
  subjectType: 'device',
  deviceKinds: ['water-meter'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, minHours: 2, minIntervalLitres: 0, maxIntervalMinutes: 30 },
  configSchema: {
    minHours: { type: 'number', exclusiveMinimum: 0, maximum: 72 },
    minIntervalLitres: { type: 'number', minimum: 0 },
    maxIntervalMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440 },
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
    let stopped = false;
    for (const [start, end, litres] of u.segments) {
      if (s.lastEnd !== undefined && end <= s.lastEnd) continue;
      s.lastEnd = end;
      const used = litres > c.minIntervalLitres;
      if (end - start > c.maxIntervalMinutes * 60_000) {
        s.runStart = s.runEnd = s.runLitres = undefined;
        if (!used) stopped = true;
      } else if (!used) {
        s.runStart = s.runEnd = s.runLitres = undefined;
        stopped = true;
      } else if (s.runEnd !== undefined && start <= s.runEnd + CONTIGUOUS_MS) {
        s.runEnd = end;
        s.runLitres = (s.runLitres ?? 0) + litres;
      } else {
        s.runStart = start;
        s.runEnd = end;
        s.runLitres = litres;
      }
    }
    // A live flow rate of zero is the meter saying the water stopped, even without a new interval.
    if (r.payload.flowLph === 0 && (s.lastEnd === undefined || r.ts >= s.lastEnd)) stopped = true;
    actions.push({ type: 'state', state: s });

    const alertOpen = ctx.alert !== undefined || actions.some((a) => a.type === 'open');
    if (stopped && ctx.alert) {
      actions.push({ type: 'resolve', reason: '用水已停止' });
      return actions;
    }
    if (s.runStart !== undefined && s.runEnd! - s.runStart >= c.minHours * H) {
      const details = {
        source: 'intervals',
        runFrom: iso(s.runStart),
        runTo: iso(s.runEnd!),
        hours: Math.round(((s.runEnd! - s.runStart) / H) * 10) / 10,
        litres: Math.round(s.runLitres! * 10) / 10,
      };
      if (!alertOpen) actions.push({ type: 'open', severity, title: titleOf(ctx.where, `持续用水超过${c.minHours}小时`), details });
      else if (ctx.alert?.details.source === 'intervals') actions.push({ type: 'update', details });
    }
    return actions;
  },
};
