// 防拆报警: the device says it was removed or opened — a smoke detector's `tamper` (GS524N "removed", Tuya
// temper_alarm, the AEP tamper event — DOMAIN.md §2), a water meter's `tamper` alarm (magnetic attack or a cut
// line in the NB uplink DTO — DOMAIN.md §1), or a decoder's isCoverOpen. A later routine report resolves it
// (the GS524N sends "installed" when put back); otherwise a person does.
import type { Rule, RuleConfigBase } from './lib/types.js';
import type { Reading } from '../ingest/reading.js';
import { healthSeverity, isRoutine, isoTime, watching } from './lib/health.js';
import { titleOf } from './lib/place.js';

function tampered(r: Reading): boolean {
  const p = r.payload;
  return r.type === 'tamper' || (r.type === 'alarm' && p.code === 'tamper') || p.tamper === true || p.isCoverOpen === true;
}

export const deviceTamper: Rule<undefined, RuleConfigBase> = {
  name: 'device_tamper',
  description: 'the device reports tamper (removed, opened, magnetic attack); resolved by a person or a later good report',
  subjectType: 'device',
  // Every registered kind whose definition lists 'tamper' (the engine derives it from the kinds it is given).
  health: 'tamper',
  deviceKinds: watching('tamper'),
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5 },
  configSchema: {},
  subjects: (r) => [r.deviceId],
  evaluate(input, _state, ctx) {
    if (input.type !== 'reading') return [];
    const r = input.reading;
    if (tampered(r)) {
      if (ctx.alert) return [];
      return [
        {
          type: 'open',
          severity: healthSeverity(ctx),
          title: titleOf(ctx.where, `${ctx.kind?.label ?? '设备'}防拆报警`),
          details: { event: r.payload.event ?? r.payload.code ?? r.type, eventAt: isoTime(r.ts) },
        },
      ];
    }
    return ctx.alert && isRoutine(r, ctx.kind) && !r.payload.isCoverOpen ? [{ type: 'resolve', reason: `设备已恢复正常上报（${r.type}）` }] : [];
  },
};
