// NB-IoT water meter batch upload (DOMAIN.md §1; field vocabulary from github.com/150719873/zhdt
// DeviceUplinkForm.java, MeterInfoForm.java, MeterNb.java): mirrors devices/water-meter/decoders/nb-batch.ts.
//   {"deviceType":"water_meter","imei":…,"ts":…,"cumulativeM3":…,"intervals":[{"end":…,"litres":…}],
//    "valve":"open","batteryV":3.52,"rsrp":-98,"sinr":6,"ecl":1}
// Interval starts are left out when they are `end − intervalMinutes` (the decoder puts them back), as real
// batches do; `intervalMinutes` is sent only when it is not the default 15.
import { shiftTs } from '../../../../devices/shared/time.js';
import { compact, json, percentToVolts, tsMs, type Encoder } from '../types.js';

const DEFAULT_INTERVAL_MINUTES = 15;
// The decoder's 3.6 V Li-SOCl2 line: 3.0 V = 0 %, 3.6 V = 100 %.
const BATTERY_EMPTY_V = 3.0;
const BATTERY_FULL_V = 3.6;
const ANOMALY_FLAGS: Record<string, string> = { no_water: 'anhydrousAbnormal', pressure: 'pressureException' };

type Interval = { start?: string | number; end: string | number; litres: number };

function intervalsOut(intervals: unknown): { intervals?: unknown[]; intervalMinutes?: number } {
  if (!Array.isArray(intervals)) return {};
  const list = intervals as Interval[];
  const lengths = new Set(list.map((i) => ((tsMs(i.end) ?? 0) - (tsMs(i.start) ?? 0)) / 60_000));
  const minutes = lengths.size === 1 ? [...lengths][0] : DEFAULT_INTERVAL_MINUTES;
  return {
    intervals: list.map((i) =>
      compact({ start: i.start === undefined || shiftTs(i.end, -minutes) === i.start ? undefined : i.start, end: i.end, litres: i.litres }),
    ),
    intervalMinutes: minutes === DEFAULT_INTERVAL_MINUTES || !Number.isFinite(minutes) || minutes <= 0 ? undefined : minutes,
  };
}

export const encoder: Encoder = {
  kind: 'water-meter',
  format: 'nb-batch',
  carriesTime: true,
  encode(p, ctx) {
    const batteryV =
      typeof p.batteryV === 'number' ? p.batteryV : typeof p.batteryPct === 'number' ? percentToVolts(p.batteryPct, BATTERY_EMPTY_V, BATTERY_FULL_V) : undefined;
    const flags: Record<string, number> = {};
    if (Array.isArray(p.anomalies)) for (const a of p.anomalies) if (ANOMALY_FLAGS[a as string]) flags[ANOMALY_FLAGS[a as string]] = 1;
    const { intervals, intervalMinutes } = intervalsOut(p.intervals);
    return json(
      compact({
        deviceType: 'water_meter',
        imei: typeof p.imei === 'string' ? p.imei : imeiFor(ctx.deviceId),
        ts: p.ts,
        alarm: p.type === 'alarm' ? p.code : undefined,
        cumulativeM3: p.totalM3,
        // zhdt relative metering (相对计量): the amount goes in measureValue (0.01 m³), never as the register.
        measureMethod: p.metering === 'relative' ? '01' : undefined,
        measureValue: p.metering === 'relative' && typeof p.deltaM3 === 'number' ? String(Math.round(p.deltaM3 * 100)) : undefined,
        intervalMinutes,
        intervals,
        flowRate: p.flowLph,
        valve: p.valve,
        batteryV,
        abnormalPower: typeof p.lowBattery === 'boolean' ? (p.lowBattery ? '1' : '0') : undefined,
        rsrp: p.rssi,
        signalPower: p.signalPower,
        sinr: p.sinr,
        snr: p.snr,
        ecl: p.ecl,
        ...flags,
      }),
    );
  },
};

/** A stable 15-digit IMEI-looking number for a device id (86 = the TAC prefix range of Chinese modules). */
export function imeiFor(deviceId: string): string {
  let h = 2166136261;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 16777619) >>> 0;
  return `869975${String(h % 1_000_000_000).padStart(9, '0')}`;
}
