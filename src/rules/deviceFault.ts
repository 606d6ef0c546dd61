// 设备故障: the device reports a fault — a smoke detector's `fault` (GS524N "failover", Tuya check_failure —
// DOMAIN.md §2), a water meter's `valve_fault` or `reverse_flow` alarm (a meter fitted backwards or a
// backflow: either way the register cannot be trusted — DOMAIN.md §1), or a parking sensor's non-zero
// hw_health_status (Nwave NPS405 heartbeat — DOMAIN.md §3). A later routine report without the fault resolves
// it; otherwise a person does.
import type { Rule, RuleConfigBase } from './lib/types.js';
import type { Reading } from '../ingest/reading.js';
import { healthSeverity, isRoutine, isoTime, watching } from './lib/health.js';
import { titleOf } from './lib/place.js';

const FAULT_CODES = new Set(['valve_fault', 'reverse_flow']);

function faultOf(r: Reading): string | undefined {
  const p = r.payload;
  if (r.type === 'fault') return String(p.event ?? 'fault');
  if (r.type === 'alarm' && typeof p.code === 'string' && FAULT_CODES.has(p.code)) return p.code;
  if (typeof p.hwHealthStatus === 'number' && p.hwHealthStatus !== 0) return `hw_health_status ${p.hwHealthStatus}`;
  if (p.fault === true) return 'fault';
  return undefined;
}

export const deviceFault: Rule<undefined, RuleConfigBase> = {
  name: 'device_fault',
  description: 'the device reports a fault (payload type or code); resolved by a person or a later good report',
  subjectType: 'device',
  // Every registered kind whose definition lists 'fault' (the engine derives it from the kinds it is given).
  health: 'fault',
  deviceKinds: watching('fault'),
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5 },
  configSchema: {},
  subjects: (r) => [r.deviceId],
  evaluate(input, _state, ctx) {
    if (input.type !== 'reading') return [];
    const r = input.reading;
    const fault = faultOf(r);
    if (fault) {
      if (ctx.alert) return [];
      return [
        {
          type: 'open',
          severity: healthSeverity(ctx),
          title: titleOf(ctx.where, `${ctx.kind?.label ?? '设备'}故障`),
          details: { fault, eventAt: isoTime(r.ts) },
        },
      ];
    }
    return ctx.alert && isRoutine(r, ctx.kind) ? [{ type: 'resolve', reason: `设备已恢复正常上报（${r.type}）` }] : [];
  },
};
