// 道闸车牌识别 simulator: plates in and out, the camera's heartbeat (devices/smart-gate/README.md).
import { SimulatedDevice, type DeviceIdentity, type Helper } from './device.js';
import type { CanonicalPayload } from '../../src/ingest/types.js';
import { imagePathFor, serialFor } from './encoders/smart-gate/vzenith.js';

/** New-energy plates have six characters after the province and city letters (GA 36-2018): green plates. */
export function plateColorOf(plate: string): 'green' | 'blue' {
  return [...plate].length === 8 ? 'green' : 'blue';
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export class SmartGateSim extends SimulatedDevice {
  constructor(info: DeviceIdentity) {
    super(info);
  }

  plate(t: number, plate: string, direction: 'in' | 'out', extra: Record<string, unknown> = {}): CanonicalPayload {
    return {
      type: 'plate',
      plate,
      direction,
      plateColor: plateColorOf(plate),
      confidence: 96,
      lane: this.info.lane?.name ?? (direction === 'in' ? '入口' : '出口'),
      imageUrl: imagePathFor(0, serialFor(this.info.id), this.stamped(t)), // channel 0: reserved (Vzenith)
      ts: this.stamped(t),
      ...extra,
    };
  }

  readonly helpers: Record<string, Helper> = {
    enter: (t, a) => this.plate(t, String(a.plate), 'in', a.confidence !== undefined ? { confidence: num(a.confidence, 96) } : {}),
    exit: (t, a) => this.plate(t, String(a.plate), 'out', a.confidence !== undefined ? { confidence: num(a.confidence, 96) } : {}),
    heartbeat: (t) => ({ type: 'heartbeat', ts: this.stamped(t) }),
  };
}
