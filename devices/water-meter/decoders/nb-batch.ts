// NB-IoT water meter uploading a batch of interval readings once or twice a day (DOMAIN.md §1).
// The field names follow the public NB meter platform github.com/150719873/zhdt (water-core DeviceUplinkForm.java
// and DeviceUplinkDto.java, third-core MeterInfoForm.java and MeterNb.java, receiver-api DevPlatHandler.java):
//   measureMethod 计量方式 "00" unchanged, "01" relative (相对计量: measureValue is an amount, not the register),
//     "02" absolute (绝对计量); measureValue 计量值 in 0.01 m³ ("123" = 1.23 m³)
//   waterConsumption 用水量 in m³: despite its name the meter's register (水表行数: meter-server CombineMsgHandler
//     stores it as the uplink's `water`), as is `water`
//   valveStatus: "1" open, "0" closed, as DevPlatHandler and the platform's tapstatus/valve_status columns read it
//     (MeterInfoForm's comment says the reverse; the code that handles the value wins); tapstatus 1 open, 0 closed
//   abnormalPower 电量异常 "0"/"1" (low battery); signalPower, snr, ecl (MeterNb); flowRate in L/h; and "0"/"1"
//   anomaly flags such as `magneticAttack` (磁暴攻击), `disconnectionAbnormal` (断线异常), `openException`/
//   `closeException`/`abnormalCurrent` (valve), `anhydrousAbnormal` (无水异常), `pressureException` (压力异常).
// The batch shape (cumulativeM3, 15-min `intervals`, batteryV, rsrp/sinr/ecl) is DOMAIN.md §1's illustrative [I]
// payload:
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

/** measureMethod "01" (相对计量): measureValue is an amount of water, never the register. */
function isRelative(body: JsonObject): boolean {
  return body.measureMethod === '01' || body.measureMethod === '1' || body.measureMethod === 1;
}

/** measureValue in m³ (DeviceUplinkForm: "123" means 1.23 m³). */
function measureM3(body: JsonObject): number | undefined {
  const hundredths = toNumber(body.measureValue);
  return hundredths === undefined ? undefined : Math.round(hundredths) / 100;
}

/** The register: cumulativeM3, else waterConsumption or water (m³), else an absolute measureValue. */
function totalM3Of(body: JsonObject): number | undefined {
  const register = toNumber(body.cumulativeM3) ?? toNumber(body.waterConsumption) ?? toNumber(body.water);
  if (register !== undefined) return register;
  // A relative measureValue taken as the register would look like a meter swap (a register that fell).
  return isRelative(body) ? undefined : measureM3(body);
}

/** valve, else valveStatus "1"/"0", else tapstatus 1/0 (1 = open in both). */
function valveOf(body: JsonObject): unknown {
  if (body.valve !== undefined) return body.valve; // the schema checks open|closed
  const status = body.valveStatus ?? body.tapstatus;
  if (status === undefined || status === null || status === '') return undefined;
  if (status === '1' || status === 1) return 'open';
  if (status === '0' || status === 0) return 'closed';
  return `valveStatus ${String(status)}`; // neither: the schema refuses it rather than guess
}

/** A low-battery flag from abnormalPower (电量异常): "1" low, "0" fine, absent unknown. */
function lowBatteryOf(body: JsonObject): boolean | undefined {
  if (body.abnormalPower === undefined || body.abnormalPower === null || body.abnormalPower === '') return undefined;
  return isSet(body.abnormalPower);
}

/** Signal in dBm: rsrp, else rssi, else signalPower when it reads as dBm (its unit is not written down). */
function rssiOf(body: JsonObject): number | undefined {
  const direct = toNumber(body.rsrp) ?? toNumber(body.rssi);
  if (direct !== undefined) return direct;
  const power = toNumber(body.signalPower);
  return power !== undefined && power <= 0 && power >= -150 ? power : undefined;
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
    const relative = isRelative(body);
    // Intervals without a register stay a reading, which the schema refuses (a reading needs its register).
    // A relative amount alone says water was used, but not over which span, so that check-in is a heartbeat
    // carrying `deltaM3`: use stays unknown rather than being read as a reset or as a quiet day.
    const isReading = totalM3 !== undefined || intervals !== undefined;
    return ok({
      // An alarm wins the type (CONTRACT.md has one type per message); the batch's readings ride along as extras.
      type: code !== undefined ? 'alarm' : isReading ? 'reading' : 'heartbeat',
      code,
      ts,
      totalM3,
      intervals,
      flowLph: toNumber(body.flowLph) ?? toNumber(body.flowRate),
      deltaM3: relative ? measureM3(body) : undefined,
      metering: relative ? 'relative' : undefined,
      valve: valveOf(body),
      batteryPct: batteryV === undefined ? toNumber(body.batteryPct) : voltsToPercent(batteryV, BATTERY_EMPTY_V, BATTERY_FULL_V),
      batteryV,
      lowBattery: lowBatteryOf(body),
      rssi: rssiOf(body), // NB-IoT reports RSRP (dBm); it is the signal we have
      signalPower: toNumber(body.signalPower),
      sinr: toNumber(body.sinr),
      snr: toNumber(body.snr) ?? toNumber(body.lsnr),
      ecl: toNumber(body.ecl),
      imei: body.imei,
      anomalies: anomalies.length > 0 ? anomalies : undefined,
    });
  },
});
