// Per-device live state in memory, persisted in the transaction that processes the messages that changed it.
import type { DeviceStateRepo } from '../store/store.js';
import type { Reading } from '../ingest/reading.js';
import { emptySamples, observe, type CadenceSamples } from './cadence.js';

export interface DeviceState {
  deviceId: string;
  /** Holds an MQTT connection right now (not persisted: everyone starts disconnected). Whether the device is
   *  reporting as expected is its cadence status (src/state/cadence.ts), not this: NB meters hang up. */
  connected: boolean;
  /** Receive time of the last accepted message, epoch ms. */
  lastSeenAt: number | null;
  /** Event time of the last accepted message, epoch ms. */
  lastEventAt: number | null;
  batteryPct: number | null;
  rssi: number | null;
  lastType: string | null;
  /** The last canonical payload. */
  last: Record<string, unknown> | null;
  /** Water meters: the register (m³) of the last reading, for consumption between readings. */
  meterTotalM3: number | null;
  accepted: number;
  rejected: number;
  /** Upload gaps and lags for the device's cadence (src/state/cadence.ts). */
  cadence: CadenceSamples;
}

function empty(deviceId: string): DeviceState {
  return {
    deviceId,
    connected: false,
    lastSeenAt: null,
    lastEventAt: null,
    batteryPct: null,
    rssi: null,
    lastType: null,
    last: null,
    meterTotalM3: null,
    accepted: 0,
    rejected: 0,
    cadence: emptySamples(),
  };
}

export class DeviceStates {
  private readonly states = new Map<string, DeviceState>();
  private readonly dirty = new Set<string>();

  constructor(private readonly repo: DeviceStateRepo) {}

  /** Load persisted state; everyone starts offline until they connect again. */
  load(): void {
    for (const row of this.repo.all()) {
      const { online: _old, ...saved } = row.state as Partial<DeviceState> & { online?: boolean };
      this.states.set(row.deviceId, { ...empty(row.deviceId), ...saved, connected: false });
    }
  }

  /** After a rolled-back batch: read every state back from the store, keeping who is connected. */
  reload(): void {
    const connected = new Map([...this.states.values()].map((s) => [s.deviceId, s.connected]));
    this.states.clear();
    this.dirty.clear();
    this.load();
    for (const [id, on] of connected) {
      const s = this.states.get(id);
      if (s) s.connected = on;
    }
  }

  get(deviceId: string): DeviceState | undefined {
    return this.states.get(deviceId);
  }

  all(): IterableIterator<DeviceState> {
    return this.states.values();
  }

  private touch(deviceId: string): DeviceState {
    let s = this.states.get(deviceId);
    if (!s) {
      s = empty(deviceId);
      this.states.set(deviceId, s);
    }
    this.dirty.add(deviceId);
    return s;
  }

  applyReading(r: Reading): DeviceState {
    const s = this.touch(r.deviceId);
    s.lastSeenAt = r.receivedAt;
    // Arrival no earlier than the event: on the event clock receivedAt is the time before this message moved it.
    s.cadence = observe(s.cadence, r.ts, Math.max(r.receivedAt, r.ts)); // a new object: snapshot() is shallow
    if (s.lastEventAt === null || r.ts >= s.lastEventAt) {
      // An older event (a late batch) never overwrites what is newer.
      s.lastEventAt = r.ts;
      s.lastType = r.type;
      s.last = r.payload;
      if (typeof r.payload.batteryPct === 'number') s.batteryPct = r.payload.batteryPct;
      if (typeof r.payload.rssi === 'number') s.rssi = r.payload.rssi;
      if (typeof r.payload.totalM3 === 'number') s.meterTotalM3 = r.payload.totalM3;
    }
    s.accepted++;
    return s;
  }

  applyRejection(deviceId: string, receivedAt: number): DeviceState {
    const s = this.touch(deviceId);
    // A device that sends garbage is still alive (heard from), but its reading is not taken.
    s.lastSeenAt = receivedAt;
    s.rejected++;
    return s;
  }

  setConnected(deviceId: string, connected: boolean): DeviceState {
    const s = this.touch(deviceId);
    s.connected = connected;
    return s;
  }

  /** A copy of one device's state, to put back if what comes next rolls back (shallow: a reading replaces
   *  fields, it never changes a field's value in place). */
  snapshot(deviceId: string): DeviceState | undefined {
    const s = this.states.get(deviceId);
    return s && { ...s };
  }

  /** After a savepoint that changed only this device rolled back: memory as it was at `snapshot` time.
   *  Call with everything else flushed, so that "as it was" is also what the store holds. */
  restore(deviceId: string, snap: DeviceState | undefined): void {
    const cur = this.states.get(deviceId);
    if (!snap) this.states.delete(deviceId);
    else if (cur) Object.assign(cur, snap);
    else this.states.set(deviceId, snap);
    this.dirty.delete(deviceId);
  }

  /** Write every changed state; call inside the batch transaction. Returns the states written. */
  flush(now: number): DeviceState[] {
    const out: DeviceState[] = [];
    for (const id of this.dirty) {
      const s = this.states.get(id)!;
      this.repo.put(id, s, now);
      out.push(s);
    }
    this.dirty.clear();
    return out;
  }
}
