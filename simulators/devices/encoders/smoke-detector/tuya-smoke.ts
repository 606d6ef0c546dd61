// Tuya smoke detector standard status points (https://developer.tuya.com/cn/docs/iot/s?id=K9gf48r5i2iiy):
// mirrors devices/smoke-detector/decoders/tuya-smoke.ts. The flat point map by default; Tuya's status list
// `{devId, status:[{code, value, t}], t}` when the payload carries `devId` or `{ form: 'list' }` is asked for;
// `{ legacy: true }` sends a smoke alarm as the legacy point smoke_sensor_state "1".
import { compact, EncodeError, json, tsMs, type Encoder } from '../types.js';

type Point = [code: string, value: unknown];

/** The one status point that makes the decoder choose each canonical type (its typeOf, in reverse). */
const POINT: Record<string, Point> = {
  alarm: ['smoke_sensor_status', 'alarm'],
  tamper: ['temper_alarm', true],
  fault: ['checking_result', 'check_failure'],
  test: ['self_checking', true],
  silenced: ['muffling', true],
  low_battery: ['battery_state', 'low'],
  heartbeat: ['smoke_sensor_status', 'normal'],
  // The only Tuya point for "the alarm has ended" is the legacy smoke_sensor_state "2" (alarm reset).
  alarm_cleared: ['smoke_sensor_state', '2'],
};

/** Points the decoder names in `event`, by type and event. */
const EVENT_POINT: Record<string, Point> = {
  'fault/check_failure': ['checking_result', 'check_failure'],
  'fault/check_others': ['checking_result', 'others'],
  'fault/end_of_life': ['lifecycle', true],
  'fault/fault': ['fault', true],
  'test/test_alarm': ['test_alarm', true],
  'heartbeat/preheat': ['preheat', true],
};

function pointFor(type: string, event: unknown, legacy: boolean): Point | undefined {
  if (type === 'alarm' && legacy) return ['smoke_sensor_state', '1'];
  if (typeof event === 'string') {
    const bitmap = type === 'fault' ? /^fault_bitmap_(\d+)$/.exec(event) : null;
    if (bitmap) return ['fault', Number(bitmap[1])];
    if (EVENT_POINT[`${type}/${event}`]) return EVENT_POINT[`${type}/${event}`];
  }
  return POINT[type];
}

export const encoder: Encoder = {
  kind: 'smoke-detector',
  format: 'tuya-smoke',
  carriesTime: true,
  // Tuya's points have no signal or temperature; smoke goes as the raw 0–1000 smoke_sensor_value (smokeValue);
  // `event` survives only for the events the decoder derives from a point.
  lostFields: (p) => ['rssi', 'temperatureC', 'smokePct', ...(typeof p.event === 'string' && pointFor(p.type, p.event, false) !== POINT[p.type] ? [] : ['event'])],
  encode(p, ctx) {
    const point = pointFor(p.type, p.event, ctx.options?.legacy === true);
    if (!point) throw new EncodeError(`Tuya smoke has no status point for '${p.type}'`);
    const t = tsMs(p.ts);
    const smokeValue = typeof p.smokeValue === 'number' ? p.smokeValue : typeof p.smokePct === 'number' ? p.smokePct * 10 : undefined;
    // Health conditions the type does not show travel as flags; each has its own point.
    const lowBattery = point[0] === 'battery_state' || p.lowBattery === true;
    const points = compact({
      smoke_sensor_value: smokeValue,
      battery_percentage: p.batteryPct,
      battery_value: p.batteryValue,
      // A low battery_state would turn a heartbeat into low_battery; it is sent only when the device says so.
      battery_state: lowBattery ? 'low' : p.batteryState === 'low' ? undefined : p.batteryState,
      temper_alarm: p.tamper === true ? true : undefined,
      checking_result: p.fault === true ? 'check_failure' : undefined,
      // Last, so a flag above cannot overwrite the point that carries the type.
      [point[0]]: point[1],
    });
    if (p.devId !== undefined || ctx.options?.form === 'list') {
      const devId = typeof p.devId === 'string' ? p.devId : `tuya${ctx.deviceId.replace(/[^a-z0-9]/gi, '')}`;
      return json(compact({ devId, status: Object.entries(points).map(([code, value]) => compact({ code, value, t })), t }));
    }
    return json(compact({ ...points, t }));
  },
};
