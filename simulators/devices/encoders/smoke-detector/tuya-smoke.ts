// Tuya smoke detector standard status points (https://developer.tuya.com/cn/docs/iot/s?id=K9gf48r5i2iiy):
// mirrors devices/smoke-detector/decoders/tuya-smoke.ts. The flat point map by default; Tuya's status list
// `{devId, status:[{code, value, t}], t}` when the payload carries `devId` or `{ form: 'list' }` is asked for.
import { compact, EncodeError, json, tsMs, type Encoder } from '../types.js';

/** The one status point that makes the decoder choose each canonical type (its typeOf, in reverse). */
const POINT: Record<string, [code: string, value: unknown]> = {
  alarm: ['smoke_sensor_status', 'alarm'],
  tamper: ['temper_alarm', true],
  fault: ['checking_result', 'check_failure'],
  test: ['self_checking', true],
  silenced: ['muffling', true],
  low_battery: ['battery_state', 'low'],
  heartbeat: ['smoke_sensor_status', 'normal'],
  // Tuya has no "cleared" point: the detector goes back to normal.
  alarm_cleared: ['smoke_sensor_status', 'normal'],
};

export const encoder: Encoder = {
  kind: 'smoke-detector',
  format: 'tuya-smoke',
  carriesTime: true,
  // Tuya's points have no signal, temperature or event name; smoke goes as the raw 0–1000 smoke_sensor_value
  // (smokeValue).
  lostFields: () => ['rssi', 'temperatureC', 'smokePct', 'event'],
  typeAs: { alarm_cleared: 'heartbeat' },
  encode(p, ctx) {
    const point = POINT[p.type];
    if (!point) throw new EncodeError(`Tuya smoke has no status point for '${p.type}'`);
    const t = tsMs(p.ts);
    const smokeValue = typeof p.smokeValue === 'number' ? p.smokeValue : typeof p.smokePct === 'number' ? p.smokePct * 10 : undefined;
    const points = compact({
      [point[0]]: point[1],
      smoke_sensor_value: smokeValue,
      battery_percentage: p.batteryPct,
      // A low battery_state would turn any report into low_battery; it is only sent with that type.
      battery_state: point[0] === 'battery_state' ? point[1] : p.batteryState === 'low' ? undefined : p.batteryState,
    });
    if (p.devId !== undefined || ctx.options?.form === 'list') {
      const devId = typeof p.devId === 'string' ? p.devId : `tuya${ctx.deviceId.replace(/[^a-z0-9]/gi, '')}`;
      return json(compact({ devId, status: Object.entries(points).map(([code, value]) => compact({ code, value, t })), t }));
    }
    return json(compact({ ...points, t }));
  },
};
