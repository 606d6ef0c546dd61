// 设备离线: no message for the kind's heartbeat period × 2 (CONTRACT.md: smoke 24 h × 2, meters per report
// period, parking 6 h × 2, gates 150 s × 2), or the device's own heartbeatSeconds from the inventory.
// DOMAIN.md §2: two missed heartbeats, close to Huawei IoTDA's 49 h. Resolves on the next message.
//
// Cheap for a million devices: a message does not move the deadline. The deadline set at the first message
// fires once per period; it then looks at when the device was last heard and either moves itself to
// lastHeard + period (the device spoke meanwhile) or opens the alert. So the scheduler does one thing per
// device per period, not one per message.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { healthSeverity, isoTime } from './lib/health.js';

export interface DeviceOfflineConfig extends RuleConfigBase {
  /** Missed heartbeat periods before a device is offline. */
  factor: number;
}

export const deviceOffline: Rule<undefined, DeviceOfflineConfig> = {
  name: 'device_offline',
  description: 'no message for heartbeatSeconds × factor (per kind, or the device override); resolves on the next message',
  subjectType: 'device',
  deviceKinds: ['smoke-detector', 'water-meter', 'parking-sensor', 'smart-gate'],
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5, factor: 2 },
  configSchema: { factor: { type: 'number', minimum: 1, maximum: 100 } },
  subjects: (r) => [r.deviceId],
  evaluate(input, _state, ctx) {
    const period = (ctx.device?.heartbeatSeconds ?? ctx.kind?.heartbeatSeconds ?? 0) * 1000 * ctx.config.factor;
    if (!period || input.type === 'visitor' || input.type === 'visit') return [];
    const st = ctx.deviceState;
    // Receive time, or the device's event time when that is later (event clock: the message's own time).
    const heard = Math.max(st?.lastSeenAt ?? -Infinity, st?.lastEventAt ?? -Infinity, input.type === 'reading' ? input.reading.ts : -Infinity);
    if (!Number.isFinite(heard)) return [];

    if (input.type === 'reading') {
      const out: ReturnType<typeof deviceOffline.evaluate> = [];
      if (ctx.alert) out.push({ type: 'resolve', reason: `设备恢复上报（${isoTime(heard)}）` });
      if (ctx.deadline === undefined) out.push({ type: 'deadline', due: heard + period });
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
        title: `${ctx.where} ${ctx.kind?.label ?? '设备'}离线`,
        details: { lastSeenAt: isoTime(heard), offlineAfterMinutes: Math.round(period / 60_000), kind: ctx.device?.kind },
      },
    ];
  },
};
