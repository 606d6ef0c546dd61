// 智能水表 simulator: a cumulative register in whole litres, 15-minute interval use, readings (canonical meters
// hourly, NB meters a batch once or twice a day), leak and tamper alarms (devices/water-meter/README.md).
import { SimulatedDevice, type DeviceIdentity, type Helper } from './device.js';
import type { CanonicalPayload } from '../../src/ingest/types.js';
import { MINUTE, HOUR, parseDuration, isoCst } from '../lib/time.js';

export interface Interval {
  start: number;
  end: number;
  litres: number;
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export class WaterMeterSim extends SimulatedDevice {
  /** The register, in litres (1 L resolution, as Tuya's m³ with scale 3; DOMAIN.md §1). */
  totalLitres = 100_000;
  /** Intervals measured since the last upload. */
  pending: Interval[] = [];
  valve: 'open' | 'closed' = 'open';

  constructor(info: DeviceIdentity) {
    super(info);
  }

  get totalM3(): number {
    return this.totalLitres / 1000;
  }

  /** The meter measures `litres` in [start, end) (whole litres; the register moves with it). */
  record(start: number, end: number, litres: number): void {
    const l = Math.max(0, Math.round(litres));
    this.totalLitres += l;
    this.pending.push({ start, end, litres: l });
  }

  /** A reading that uploads every pending interval and empties the buffer. */
  reading(t: number, extra: Record<string, unknown> = {}): CanonicalPayload {
    const intervals = this.pending.map((i) => ({ start: isoCst(this.stamped(i.start)), end: isoCst(this.stamped(i.end)), litres: i.litres }));
    this.pending = [];
    return {
      type: 'reading',
      ts: this.ts(t),
      totalM3: this.totalM3,
      ...(intervals.length ? { intervals } : {}),
      valve: this.valve,
      batteryPct: this.batteryPct,
      rssi: this.rssi,
      ...extra,
    };
  }

  readonly helpers: Record<string, Helper> = {
    /**
     * Use over the time before `t`, then a reading. `litres`: one number per interval, or a total that comes in
     * uses of about 6 L spaced out over the span (a household does not use water in every interval; only a
     * total too big for that fills them all). `span` (default: one interval per listed number, or 1h),
     * `intervalMinutes` (default 15).
     */
    reading: (t, a) => {
      const minutes = num(a.intervalMinutes, 15);
      const step = minutes * MINUTE;
      const listed = Array.isArray(a.litres) ? (a.litres as unknown[]).map((l) => num(l, 0)) : undefined;
      const span = parseDuration(a.span) ?? (listed ? listed.length * step : HOUR);
      const count = Math.max(1, Math.round(span / step));
      const perInterval = listed ?? spread(Math.max(0, Math.round(num(a.litres, 0))), count);
      const alignedEnd = t - (t % step);
      for (let i = 0; i < count; i++) {
        const start = alignedEnd - (count - i) * step;
        this.record(start, start + step, perInterval[i] ?? 0);
      }
      return this.reading(t, a.flowLph !== undefined ? { flowLph: num(a.flowLph, 0) } : {});
    },
    /** A reading with no intervals: just the register (an old meter, or an NB check-in with its total). */
    register: (t, a) => {
      if (typeof a.addLitres === 'number') this.totalLitres += Math.round(a.addLitres);
      this.pending = [];
      return { type: 'reading', ts: this.ts(t), totalM3: this.totalM3, valve: this.valve, batteryPct: this.batteryPct, rssi: this.rssi };
    },
    heartbeat: (t) => ({ type: 'heartbeat', ts: this.ts(t), batteryPct: this.batteryPct, rssi: this.rssi }),
    /** A vendor alarm: `code` leak (default), reverse_flow, tamper or valve_fault. */
    alarm: (t, a) => ({
      type: 'alarm',
      code: typeof a.code === 'string' ? a.code : 'leak',
      ts: this.ts(t),
      totalM3: this.totalM3,
      ...(a.flowLph !== undefined ? { flowLph: num(a.flowLph, 0) } : {}),
      valve: this.valve,
      batteryPct: this.batteryPct,
      rssi: this.rssi,
    }),
    lowBattery: (t, a) => {
      if (a.batteryPct === undefined) this.batteryPct = 5;
      return { type: 'heartbeat', ts: this.ts(t), batteryPct: this.batteryPct, rssi: this.rssi };
    },
  };
}

/**
 * `total` litres over `count` intervals as uses of about 6 L placed evenly apart, at most in every other
 * interval — unless the total is too big for that, then in all of them. Deterministic.
 */
export function spread(total: number, count: number): number[] {
  const out = new Array<number>(count).fill(0);
  if (total <= 0) return out;
  const uses = Math.min(Math.max(1, Math.round(total / 6)), total > 6 * Math.ceil(count / 2) * 4 ? count : Math.ceil(count / 2));
  for (let u = 0; u < uses; u++) {
    const i = Math.min(count - 1, Math.floor(((u + 0.5) * count) / uses));
    out[i] += Math.floor(total / uses) + (u < total % uses ? 1 : 0);
  }
  return out;
}
