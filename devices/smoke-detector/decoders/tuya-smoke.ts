// Tuya smoke detector (category ywbj), standard status set (DOMAIN.md §2; https://developer.tuya.com/cn/docs/iot/s?id=K9gf48r5i2iiy,
// English: https://developer.tuya.com/en/docs/iot/s?id=K9gf48r5i2iiy):
//   smoke_sensor_status alarm|normal; smoke_sensor_state "1"|"2" (legacy versions only: 1 = smoke alarm,
//   2 = alarm reset — Home Assistant's Tuya integration, homeassistant/components/tuya/binary_sensor.py, category
//   "ywbj", reads smoke_sensor_state "1" as smoke); smoke_sensor_value 0–1000 (scale 1); battery_percentage;
//   battery_value 0–30000 (no unit given); battery_state low|middle|high; temper_alarm; preheat; lifecycle
//   (service life; we read true as "past it", the page names the point only); checking_result
//   checking|check_success|check_failure|others; and Tuya's generic `fault` bitmap (0 = no fault), which MCU-SDK
//   smoke detectors report (Tuya MCU SDK DP type "fault").
// Instruction points a device also reports back: alarm_volume, self_checking, alarm_time, alarm_ringtone,
// alarm_switch, muffling (silence), test_alarm (sound test).
// Accepted bodies: the flat point map {"smoke_sensor_status":"alarm",…,"t":ms} and Tuya's status list
// {"devId":…,"status":[{"code":"smoke_sensor_status","value":"alarm","t":ms}],"t":ms}.
//
// Alarms are never lost to a heartbeat: a report with a point we do not know whose code reads like an alarm
// (alarm, smoke, fire, fault, tamper, gas, co, sos…) and whose value is not plainly "off" is rejected with the
// point named (decode_failed: kept, counted, logged and answered on the device's errors topic) rather than
// passed as a heartbeat. We reject rather than open a smoke alarm because such a point is as likely a
// setting or another sensor's state as a fire; the rejection makes somebody look at it.
import { defineDecoder, fail, ok } from '../../shared/decoder.js';
import { toNumber } from '../../shared/encoding.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { toCanonicalTs } from '../../shared/time.js';

/** Status points (the device reports them). */
const STATUS_POINTS = ['smoke_sensor_status', 'smoke_sensor_state', 'smoke_sensor_value', 'battery_percentage', 'battery_value',
  'battery_state', 'temper_alarm', 'preheat', 'lifecycle', 'checking_result', 'fault'] as const;
/** Instruction points (settings and commands), which devices echo back in their reports. */
const INSTRUCTION_POINTS = ['alarm_volume', 'self_checking', 'alarm_time', 'alarm_ringtone', 'alarm_switch', 'muffling', 'test_alarm'] as const;
const KNOWN = new Set<string>([...STATUS_POINTS, ...INSTRUCTION_POINTS]);
/** Body fields that are not status points: the report's time and the status-list envelope. */
const ENVELOPE = new Set(['t', 'devId', 'productKey', 'status', 'dataId', 'bizCode', 'uuid', 'ts']);

const ALARM_LIKE_CODE = /alarm|smoke|fire|fault|tamper|temper|gas|(^|_)co(_|$)|sos|danger|warn|leak/i;
const OFF_VALUES = new Set<unknown>([false, 0, '0', '', 'normal', 'none', 'off', 'false', 'close', 'closed', null]);

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

/** Enum points arrive as strings ("1"); some bridges send the number. */
const enumOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** What the report says, by condition; `typeOf` picks one canonical type, the flags keep the rest. */
function conditions(p: JsonObject) {
  const checking = p.checking_result;
  const legacy = enumOf(p.smoke_sensor_state);
  return {
    alarm: p.smoke_sensor_status === 'alarm' || legacy === '1',
    cleared: legacy === '2',
    tamper: p.temper_alarm === true,
    // A self-check that failed, one Tuya reports as "others" (neither pass nor fail: nobody knows the
    // detector works), and a detector past its service life all need a person to look at it.
    fault:
      checking === 'check_failure'
        ? 'check_failure'
        : checking === 'others'
          ? 'check_others'
          : p.lifecycle === true
            ? 'end_of_life'
            : p.fault === true
              ? 'fault'
              : (toNumber(p.fault) ?? 0) !== 0
                ? `fault_bitmap_${toNumber(p.fault)}`
                : undefined,
    test:
      p.self_checking === true || checking === 'checking' || checking === 'check_success'
        ? 'self_check'
        : p.test_alarm === true
          ? 'test_alarm'
          : undefined,
    silenced: p.muffling === true,
    lowBattery: p.battery_state === 'low',
    preheat: p.preheat === true,
  };
}

/**
 * One canonical type per report. Order matters when a report carries several points: a smoke alarm is never
 * hidden behind another state (muffling during an alarm is still an alarm); health conditions a report's type
 * does not show travel as flags (`tamper`, `fault`, `lowBattery`), which the health rules read.
 */
function typeOf(c: ReturnType<typeof conditions>): { type: string; event?: string } {
  if (c.alarm) return { type: 'alarm' };
  if (c.tamper) return { type: 'tamper' };
  if (c.fault) return { type: 'fault', event: c.fault };
  if (c.test) return { type: 'test', event: c.test === 'test_alarm' ? 'test_alarm' : undefined };
  if (c.silenced) return { type: 'silenced' };
  if (c.cleared) return { type: 'alarm_cleared' };
  if (c.lowBattery) return { type: 'low_battery' };
  // smoke_sensor_status "normal" alone may be the end of an alarm or a routine report; we cannot tell which
  // without state, so it is a heartbeat (the alert clears only by a person anyway, CONTRACT.md alert kinds).
  return { type: 'heartbeat', event: c.preheat ? 'preheat' : undefined };
}

/** A point we do not know that reads like an active alarm, or undefined. */
function unknownAlarmPoint(p: JsonObject): string | undefined {
  for (const [code, value] of Object.entries(p)) {
    if (KNOWN.has(code) || ENVELOPE.has(code) || !ALARM_LIKE_CODE.test(code)) continue;
    if (OFF_VALUES.has(typeof value === 'string' ? value.toLowerCase() : value)) continue;
    return `${code}=${JSON.stringify(value)}`;
  }
  return undefined;
}

export const decoder = defineDecoder({
  format: 'tuya-smoke',
  description: 'Tuya smoke detector standard status points, flat map or status list (developer.tuya.com K9gf48r5i2iiy)',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const p = points(parsed.value);
    if (typeof p === 'string') return fail(p);
    if (![...KNOWN].some((code) => code in p)) return fail('no Tuya smoke status points in payload');
    if ('smoke_sensor_status' in p && p.smoke_sensor_status !== 'alarm' && p.smoke_sensor_status !== 'normal') {
      return fail(`unknown smoke_sensor_status '${String(p.smoke_sensor_status)}'`);
    }
    const legacy = enumOf(p.smoke_sensor_state);
    if ('smoke_sensor_state' in p && legacy !== '1' && legacy !== '2') {
      return fail(`unknown smoke_sensor_state '${String(p.smoke_sensor_state)}' (Tuya: "1" alarm, "2" alarm reset)`);
    }
    if ('fault' in p && typeof p.fault !== 'boolean' && toNumber(p.fault) === undefined) {
      return fail(`unknown fault value ${JSON.stringify(p.fault)} (Tuya: a bitmap, 0 = no fault)`);
    }
    const c = conditions(p);
    const { type, event } = typeOf(c);
    if (type !== 'alarm') {
      const suspect = unknownAlarmPoint(p);
      if (suspect) return fail(`unknown Tuya point ${suspect} looks like an alarm; refused rather than taken as a ${type}`);
    }
    return ok({
      type,
      event,
      ts: toCanonicalTs(p.t),
      batteryPct: p.battery_percentage as number | undefined,
      batteryState: p.battery_state,
      // battery_value's unit is not documented (0–30000), so it is kept as is and not turned into a percentage.
      batteryValue: toNumber(p.battery_value),
      // smoke_sensor_value is a raw 0–1000 reading, not a percentage, so it is kept as is, not as smokePct.
      smokeValue: p.smoke_sensor_value,
      tamper: c.tamper && type !== 'tamper' ? true : undefined,
      fault: c.fault && type !== 'fault' ? true : undefined,
      lowBattery: c.lowBattery && type !== 'low_battery' ? true : undefined,
      devId: parsed.value.devId,
    });
  },
});
