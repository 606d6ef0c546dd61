// Tuya smoke detector, standard status points (DOMAIN.md §2; https://developer.tuya.com/cn/docs/iot/s?id=K9gf48r5i2iiy):
// smoke_sensor_status alarm|normal, smoke_sensor_value 0–1000 (scale 1), battery_percentage, battery_state
// low|middle|high, temper_alarm, muffling (silence), self_checking, checking_result.
// Accepted bodies: the flat point map {"smoke_sensor_status":"alarm",…,"t":ms} and Tuya's status list
// {"devId":…,"status":[{"code":"smoke_sensor_status","value":"alarm","t":ms}],"t":ms}.
import { defineDecoder, fail, ok } from '../../shared/decoder.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { toCanonicalTs } from '../../shared/time.js';

const POINTS = ['smoke_sensor_status', 'smoke_sensor_value', 'battery_percentage', 'battery_state', 'temper_alarm',
  'muffling', 'self_checking', 'checking_result'] as const;

/** The status list form flattened into the point map; the newest point time becomes `t`. */
function points(body: JsonObject): JsonObject | string {
  if (!('status' in body)) return body;
  if (!Array.isArray(body.status)) return "Tuya 'status' must be a list of {code, value}";
  const out: JsonObject = {};
  let newest: number | undefined;
  for (const item of body.status) {
    if (!isObject(item) || typeof item.code !== 'string') return "Tuya 'status' entries need a string 'code'";
    out[item.code] = item.value;
    if (typeof item.t === 'number') newest = Math.max(newest ?? 0, item.t);
  }
  out.t = body.t ?? newest;
  return out;
}

/**
 * One canonical type per report. Order matters when a report carries several points: a smoke alarm is never
 * hidden behind another state (muffling during an alarm is still an alarm).
 */
function typeOf(p: JsonObject): string {
  if (p.smoke_sensor_status === 'alarm') return 'alarm';
  if (p.temper_alarm === true) return 'tamper';
  if (p.checking_result === 'check_failure') return 'fault';
  if (p.self_checking === true || p.checking_result === 'checking' || p.checking_result === 'check_success') return 'test';
  if (p.muffling === true) return 'silenced';
  if (p.battery_state === 'low') return 'low_battery';
  // smoke_sensor_status "normal" alone may be the end of an alarm or a routine report; we cannot tell which
  // without state, so it is a heartbeat (the alert clears only by a person anyway, CONTRACT.md alert kinds).
  return 'heartbeat';
}

export const decoder = defineDecoder({
  format: 'tuya-smoke',
  description: 'Tuya smoke detector standard status points, flat map or status list (developer.tuya.com K9gf48r5i2iiy)',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const p = points(parsed.value);
    if (typeof p === 'string') return fail(p);
    if (!POINTS.some((code) => code in p)) return fail('no Tuya smoke status points in payload');
    if ('smoke_sensor_status' in p && p.smoke_sensor_status !== 'alarm' && p.smoke_sensor_status !== 'normal') {
      return fail(`unknown smoke_sensor_status '${String(p.smoke_sensor_status)}'`);
    }
    return ok({
      type: typeOf(p),
      ts: toCanonicalTs(p.t),
      batteryPct: p.battery_percentage as number | undefined,
      batteryState: p.battery_state,
      // smoke_sensor_value is a raw 0–1000 reading, not a percentage, so it is kept as is, not as smokePct.
      smokeValue: p.smoke_sensor_value,
      devId: parsed.value.devId,
    });
  },
});
