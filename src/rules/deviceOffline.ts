// 设备离线: silent for longer than the device's cadence allows (src/state/cadence.ts — the same notion as the
// status 正常/迟报/离线 in GET /api/devices, the console and the digest):
// - heartbeat devices (smoke, parking, gates): the kind's heartbeat × `factor` (CONTRACT.md: smoke 24 h × 2,
//   parking 6 h × 2, gates 150 s × 2), or the device's own heartbeatSeconds from the inventory. DOMAIN.md §2:
//   two missed heartbeats, close to Huawei IoTDA's 49 h.
// - water meters upload on their own schedule: `missedUploads` (3) of the meter's OWN observed upload interval
//   (median of its recent gaps; the declared one until three are known) plus a quarter interval, never under
//   `floorMinutes` (180). One late upload of an hourly meter is 迟报, not an alert (issue #10: a fixed 2 h gave
//   2.9 false alerts per elder-month).
// Resolves on the next message.
//
// Cheap for a million devices: a message does not move the deadline (unless it brings it sooner: a meter
// whose observed cadence is shorter than its declared one, a few times while it is learnt). The deadline set at the first message
// fires once per period; it then looks at when the device was last heard and either moves itself to when it
// would now be offline (the device spoke meanwhile) or opens the alert. So the scheduler does one thing per
// device per period, not one per message.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { healthSeverity, isoTime, watching } from './lib/health.js';
import { cadenceOf, cadenceRefOf, type CadenceSettings } from '../state/cadence.js';
import { titleOf } from './lib/place.js';

export interface DeviceOfflineConfig extends RuleConfigBase, CadenceSettings {}

export const deviceOffline: Rule<undefined, DeviceOfflineConfig> = {
  name: 'device_offline',
  description:
    'heartbeat devices: no message for heartbeatSeconds × factor; water meters: missedUploads of their own observed upload interval (floorMinutes at least); resolves on the next message',
  subjectType: 'device',
  // Every registered kind whose definition lists 'offline' (the engine derives it from the kinds it is given).
  health: 'offline',
  deviceKinds: watching('offline'),
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5, factor: 2, missedUploads: 3, floorMinutes: 180 },
  configSchema: {
    factor: { type: 'number', minimum: 1, maximum: 100 },
    missedUploads: { type: 'number', minimum: 1, maximum: 100 },
    floorMinutes: { type: 'number', minimum: 0, maximum: 14 * 1440 },
  },
  subjects: (r) => [r.deviceId],
  evaluate(input, _state, ctx) {
    const ref = cadenceRefOf(ctx.device, ctx.kind);
    if (!ref || input.type === 'visitor' || input.type === 'visit') return [];
    const st = ctx.deviceState;
    const period = cadenceOf(st?.cadence, ref, ctx.config).offlineAfterMs;
    // Receive time, or the device's event time when that is later (event clock: the message's own time).
    const heard = Math.max(st?.lastSeenAt ?? -Infinity, st?.lastEventAt ?? -Infinity, input.type === 'reading' ? input.reading.ts : -Infinity);
    if (!Number.isFinite(heard)) return [];

    if (input.type === 'reading') {
      const out: ReturnType<typeof deviceOffline.evaluate> = [];
      if (ctx.alert) out.push({ type: 'resolve', reason: `设备恢复上报（${isoTime(heard)}）` });
      // Set once; moved by a message only when it comes sooner (a meter's cadence learnt shorter than declared).
      if (ctx.deadline === undefined || ctx.deadline > heard + period) out.push({ type: 'deadline', due: heard + period });
      return out;
    }
    if (heard + period > ctx.now) {
      // Heard from meanwhile: move on; and if it was offline (a rejected payload still proves it alive), clear.
      const out: ReturnType<typeof deviceOffline.evaluate> = [{ type: 'deadline', due: heard + period }];
      if (ctx.alert) out.unshift({ type: 'resolve', reason: `设备恢复上报（${isoTime(heard)}）` });
      return out;
    }
    if (ctx.alert) return [];
    return [
      {
        type: 'open',
        severity: healthSeverity(ctx),
        title: titleOf(ctx.where, `${ctx.kind?.label ?? '设备'}离线`),
        details: { lastSeenAt: isoTime(heard), offlineAfterMinutes: Math.round(period / 60_000), kind: ctx.device?.kind },
      },
    ];
  },
};
