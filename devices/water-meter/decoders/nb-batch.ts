// NB-IoT water meter uploading a batch of interval readings once or twice a day (DOMAIN.md §1).
// The field names follow the public NB meter uplink DTO (github.com/150719873/zhdt …/DeviceUplinkForm.java and
// its warning DTO): `measureValue` in 0.01 m³, `flowRate` in L/h, and "0"/"1" anomaly flags such as
// `magneticAttack` (磁暴攻击), `disconnectionAbnormal` (断线异常), `openException`/`closeException`/
// `abnormalCurrent` (valve), `anhydrousAbnormal` (无水异常), `pressureException` (压力异常). The batch shape
// (cumulativeM3, 15-min `intervals`, batteryV, rsrp/sinr/ecl) is DOMAIN.md §1's illustrative [I] payload:
//   {"deviceType":"water_meter","imei":"86…","ts":"2025-03-01T06:00:12+08:00","cumulativeM3":123.457,
//    "intervals":[{"end":"2025-03-01T06:00:00+08:00","litres":7}],"valve":"open","batteryV":3.52,"rsrp":-98}
import { voltsToPercent } from '../../shared/battery.js';
import { badTimestamp, defineDecoder, fail, ok } from '../../shared/decoder.js';
import { isSet, toNumber } from '../../shared/encoding.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { shiftTs, toCanonicalTs } from '../../shared/time.js';

const DEFAULT_INTERVAL_MINUTES = 15;
// 3.6 V Li-SOCl2 cell (ER-type, usual in NB meters): ~3.6 V fresh, ~3.0 V is the end of useful life.
const BATTERY_EMPTY_V = 3.0;
const BATTERY_FULL_V = 3.6;

/** Vendor anomaly flags → CONTRACT.md alarm codes, first match wins. */
const ALARM_FLAGS: [flag: string, code: string][] = [
  ['leakAbnormal', 'leak'],
  ['reverseFlow', 'reverse_flow'],
  ['magneticAttack', 'tamper'],
  ['disconnectionAbnormal', 'tamper'],
  ['openException', 'valve_fault'],
  ['closeException', 'valve_fault'],
  ['abnormalCurrent', 'valve_fault'],
];
/** Flags with no CONTRACT.md alarm code; kept on the payload as `anomalies` so nobody loses them. */
const OTHER_FLAGS: [flag: string, name: string][] = [
  ['anhydrousAbnormal', 'no_water'],
  ['pressureException', 'pressure'],
];

function intervalsOf(body: JsonObject): { start: unknown; end: unknown; litres: unknown }[] | string | undefined {
  if (body.intervals === undefined) return undefined;
  if (!Array.isArray(body.intervals)) return "'intervals' must be a list";
  const minutes = toNumber(body.intervalMinutes) ?? DEFAULT_INTERVAL_MINUTES;
  const out = [];
  for (const item of body.intervals) {
    if (!isObject(item)) return "'intervals' entries must be objects";
    const end = toCanonicalTs(item.end);
    if (end === undefined) return `interval end '${String(item.end)}' is not a time`;
    const start = item.start === undefined ? shiftTs(end, -minutes) : (toCanonicalTs(item.start) ?? item.start);
    out.push({ start, end, litres: toNumber(item.litres) ?? item.litres });
  }
  return out;
}

function alarmCodeOf(body: JsonObject): unknown {
  if (body.alarm !== undefined && body.alarm !== null && body.alarm !== '') return body.alarm; // schema checks the enum
  return ALARM_FLAGS.find(([flag]) => isSet(body[flag]))?.[1];
}

function totalM3Of(body: JsonObject): number | undefined {
  const cumulative = toNumber(body.cumulativeM3);
  if (cumulative !== undefined) return cumulative;
  const hundredths = toNumber(body.measureValue); // DeviceUplinkForm: "123" means 1.23 m³
  return hundredths === undefined ? undefined : Math.round(hundredths) / 100;
}

export const decoder = defineDecoder({
  format: 'nb-batch',
  description: 'NB-IoT water meter daily batch: cumulative register, 15-min intervals, valve, battery, signal (DOMAIN.md §1)',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const body = parsed.value;
    if (body.deviceType !== undefined && body.deviceType !== 'water_meter') {
      return fail(`deviceType '${String(body.deviceType)}' is not a water meter`);
    }
    const ts = toCanonicalTs(body.ts);
    if (body.ts !== undefined && ts === undefined) return badTimestamp(body.ts);
    const intervals = intervalsOf(body);
    if (typeof intervals === 'string') return fail(intervals);
    const totalM3 = totalM3Of(body);
    const code = alarmCodeOf(body);
    const batteryV = toNumber(body.batteryV);
    const anomalies = OTHER_FLAGS.filter(([flag]) => isSet(body[flag])).map(([, name]) => name);
    const isReading = totalM3 !== undefined || intervals !== undefined;
    return ok({
      // An alarm wins the type (CONTRACT.md has one type per message); the batch's readings ride along as extras.
      type: code !== undefined ? 'alarm' : isReading ? 'reading' : 'heartbeat',
      code,
      ts,
      totalM3,
      intervals,
      flowLph: toNumber(body.flowLph) ?? toNumber(body.flowRate),
      valve: body.valve,
      batteryPct: batteryV === undefined ? toNumber(body.batteryPct) : voltsToPercent(batteryV, BATTERY_EMPTY_V, BATTERY_FULL_V),
      batteryV,
      rssi: toNumber(body.rsrp) ?? toNumber(body.rssi), // NB-IoT reports RSRP (dBm); it is the signal we have
      sinr: toNumber(body.sinr),
      ecl: toNumber(body.ecl),
      imei: body.imei,
      anomalies: anomalies.length > 0 ? anomalies : undefined,
    });
  },
});
