// 电量低: the device says its battery is low — a smoke detector's `low_battery` event (GS524N codes 4 and 15,
// Tuya battery_state low — DOMAIN.md §2), a decoder's batteryHealth low/critical (Nwave NPS405: below 3.0 V,
// DOMAIN.md §3), or batteryPct at or below thresholdPct. A later report with a healthy battery resolves it;
// otherwise a person does, once the battery is changed.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { healthSeverity, watching } from './lib/health.js';
import { titleOf } from './lib/place.js';

export interface LowBatteryConfig extends RuleConfigBase {
  thresholdPct: number;
}

export const lowBattery: Rule<undefined, LowBatteryConfig> = {
  name: 'low_battery',
  description: 'the device reports a low battery; resolved by a person or a later good report',
  subjectType: 'device',
  // Every registered kind whose definition lists 'battery' (the engine derives it from the kinds it is given).
  health: 'battery',
  deviceKinds: watching('battery'),
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5, thresholdPct: 20 },
  configSchema: { thresholdPct: { type: 'number', minimum: 0, maximum: 100 } },
  subjects: (r) => {
    const p = r.payload;
    const says = r.type === 'low_battery' || typeof p.batteryPct === 'number' || typeof p.lowBattery === 'boolean' || typeof p.batteryHealth === 'string';
    return says ? [r.deviceId] : [];
  },
  evaluate(input, _state, ctx) {
    if (input.type !== 'reading') return [];
    const r = input.reading;
    const p = r.payload;
    const pct = typeof p.batteryPct === 'number' ? p.batteryPct : undefined;
    const low =
      r.type === 'low_battery' ||
      p.lowBattery === true ||
      p.batteryHealth === 'low' ||
      p.batteryHealth === 'critical' ||
      (pct !== undefined && pct <= ctx.config.thresholdPct);
    if (low) {
      if (ctx.alert) return [];
      return [
        {
          type: 'open',
          severity: healthSeverity(ctx),
          title: titleOf(ctx.where, `${ctx.kind?.label ?? '设备'}电量低`),
          details: { batteryPct: pct, batteryV: p.batteryV, batteryHealth: p.batteryHealth, thresholdPct: ctx.config.thresholdPct },
        },
      ];
    }
    const good = pct !== undefined || p.batteryHealth === 'normal';
    return good && ctx.alert ? [{ type: 'resolve', reason: `电量已恢复${pct !== undefined ? `（${pct}%）` : ''}` }] : [];
  },
};
