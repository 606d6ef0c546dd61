// 漏水提醒: a meter's steady floor — water in every hour of a whole day, night included (a dripping toilet, a
// running cistern) — is worth a gentle notice to the household's contacts and property (issue #10). DOMAIN.md
// §1: 龙岗 calls use in every 30-minute slot of a day 疑似漏水. The floor is the least litres in any of the last
// 24 full hours the meter's data covers (src/rules/lib/waterModel.ts, the same estimate no_water_use judges use
// above, so a drip never hides a fall there). A floor that grows by `growLph` more raises the count of the
// same notice; a day with an hour without water ends it.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { careLabel } from './lib/place.js';
import { useFromReading, type Register } from './lib/water.js';
import { floorOf, newModel, observe, type WaterModel } from './lib/waterModel.js';

export interface SlowLeakConfig extends RuleConfigBase {
  /** A floor of at least this many litres an hour is a leak. */
  minLph: number;
  /** A floor this much above the one notified raises the notice again. */
  growLph: number;
  loneEldersOnly: boolean;
}

export interface SlowLeakState {
  m?: WaterModel;
  reg?: Register;
  /** The floor last notified, L/h. */
  notified?: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export const slowLeak: Rule<SlowLeakState, SlowLeakConfig> = {
  name: 'slow_leak',
  description: "water in every hour of a whole day (the meter's steady floor ≥ minLph): a drip or a running cistern; resolves when an hour shows none",
  subjectType: 'device',
  deviceKinds: ['water-meter'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 1440, minLph: 1, growLph: 1, loneEldersOnly: false },
  configSchema: {
    minLph: { type: 'number', exclusiveMinimum: 0 },
    growLph: { type: 'number', exclusiveMinimum: 0 },
    loneEldersOnly: { type: 'boolean' },
  },
  subjects: (r, { device }) => (device.householdId ? [r.deviceId] : []),
  evaluate(input, state, ctx) {
    const c = ctx.config;
    if (input.type !== 'reading') return [];
    if (c.loneEldersOnly && !ctx.household?.loneElder) return [];
    const s: SlowLeakState = state ?? {};
    const u = useFromReading(input.reading, s.reg);
    // Only the hour slots matter here: the hour-of-day learning is no_water_use's (utcOffsetMinutes is moot).
    const m = observe(s.m ?? newModel(), u.segments, { utcOffsetMinutes: 480, priorDays: 0 });
    const next: SlowLeakState = { ...s, m, reg: u.register };
    const actions: ReturnType<typeof slowLeak.evaluate> = [{ type: 'state', state: next }];
    const floor = floorOf(m);
    if (ctx.alert) {
      if (floor < c.minLph) {
        next.notified = undefined;
        actions.push({ type: 'resolve', reason: floor === 0 ? '滴漏已停（有一小时无用水）' : `持续小流量降至约 ${round1(floor)} 升/时` });
      } else if (floor >= (s.notified ?? 0) + c.growLph) {
        next.notified = floor;
        actions.push(open(floor, ctx, true));
      }
      return actions;
    }
    if (floor >= c.minLph && s.notified === undefined) {
      next.notified = floor;
      actions.push(open(floor, ctx, false));
    } else if (floor < c.minLph && s.notified !== undefined) next.notified = undefined; // a person closed it and the drip stopped
    return actions;
  },
};

function open(floor: number, ctx: Parameters<typeof slowLeak.evaluate>[2], grown: boolean) {
  const label = ctx.household ? careLabel(ctx.household) : ctx.where;
  const lph = round1(floor);
  return {
    type: 'open' as const,
    severity: 'minor' as const,
    title: `${label} 漏水提醒`,
    details: {
      floorLph: lph,
      litresPerDay: Math.round(floor * 24),
      explanation: `${grown ? '滴漏加重：' : ''}已连续 24 小时每小时都有用水，最少约 ${lph} 升/时（约 ${Math.round(floor * 24)} 升/天），可能是马桶或水龙头滴漏，请提醒住户检查`,
    },
  };
}
