// 地磁车位 simulator: a car arrives, a car leaves, a heartbeat every few hours (devices/parking-sensor/README.md).
import { SimulatedDevice, type DeviceIdentity, type Helper } from './device.js';
import type { CanonicalPayload } from '../../src/ingest/types.js';
import { devEuiFor } from './encoders/parking-sensor/nwave.js';

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
/** Nwave's codec compresses the previous state's duration; 660 minutes is its overflow value (nps405.js). */
const OVERFLOW_MINUTES = 660;

export class ParkingSensorSim extends SimulatedDevice {
  occupied = false;
  /** Event time of the last change, epoch ms (undefined: not known yet). */
  since?: number;
  temperatureC = 18;

  /** LoRaWAN sensors are named by their DevEUI in the network server's JSON. */
  private readonly envelope: Record<string, unknown>;

  constructor(info: DeviceIdentity) {
    super(info);
    this.envelope = info.format === 'nwave' ? { devEui: devEuiFor(info.id) } : {};
  }

  private state(t: number, occupied: boolean): CanonicalPayload {
    const minutes = this.since === undefined ? undefined : Math.max(0, Math.floor((t - this.since) / 60_000));
    this.occupied = occupied;
    this.since = t;
    return {
      type: 'state',
      ...this.envelope,
      occupied,
      ts: this.ts(t),
      rssi: this.rssi,
      ...(minutes === undefined ? {} : minutes >= OVERFLOW_MINUTES ? { previousStateMinutes: OVERFLOW_MINUTES, previousStateOverflow: true } : { previousStateMinutes: minutes }),
    };
  }

  readonly helpers: Record<string, Helper> = {
    park: (t) => this.state(t, true),
    leave: (t) => this.state(t, false),
    /** `hwHealthStatus` ≠ 0 is the sensor reporting a hardware fault (Nwave NPS405). */
    heartbeat: (t, a) => ({
      type: 'heartbeat',
      ...this.envelope,
      occupied: this.occupied,
      ts: this.ts(t),
      batteryPct: this.batteryPct,
      rssi: this.rssi,
      temperatureC: this.temperatureC,
      ...(a.hwHealthStatus !== undefined ? { hwHealthStatus: num(a.hwHealthStatus, 0) } : {}),
    }),
    /** A reboot (Nwave port 3 startup). */
    startup: (t) => ({ type: 'heartbeat', event: 'startup', ...this.envelope, occupied: this.occupied, ts: this.ts(t), firmwareVersion: '2.4.9', resetCause: 'power_on' }),
  };
}
