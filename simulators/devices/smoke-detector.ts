// 烟感 simulator: alarms, self-tests, the daily heartbeat, battery and faults (devices/smoke-detector/README.md).
import { SimulatedDevice, type DeviceIdentity, type Helper } from './device.js';
import type { CanonicalPayload } from '../../src/ingest/types.js';

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export class SmokeDetectorSim extends SimulatedDevice {
  temperatureC = 22;

  constructor(info: DeviceIdentity) {
    super(info);
  }

  private base(t: number, type: string, extra: Record<string, unknown> = {}): CanonicalPayload {
    return { type, ts: this.ts(t), batteryPct: this.batteryPct, rssi: this.rssi, temperatureC: this.temperatureC, smokePct: 0, ...extra };
  }

  readonly helpers: Record<string, Helper> = {
    /** Smoke: a real alarm (kitchen fire, gas left on). */
    alarm: (t, a) => this.base(t, 'alarm', { smokePct: num(a.smokePct, 35), temperatureC: num(a.temperatureC, 45) }),
    alarmCleared: (t) => this.base(t, 'alarm_cleared'),
    silenced: (t) => this.base(t, 'silenced'),
    /** The monthly self-test (button pressed): loud, but never an alert. */
    selfTest: (t) => this.base(t, 'test'),
    heartbeat: (t) => this.base(t, 'heartbeat'),
    /** Put back on its mounting plate (GS524N "installed"), e.g. after a battery change. */
    installed: (t) => this.base(t, 'heartbeat', { event: 'installed' }),
    lowBattery: (t, a) => {
      if (a.batteryPct === undefined) this.batteryPct = 8;
      return this.base(t, 'low_battery');
    },
    fault: (t) => this.base(t, 'fault'),
    /** Taken off its mounting plate. */
    tamper: (t) => this.base(t, 'tamper'),
  };
}
