// 智能摄像机 simulator: the events an AI camera recognises, each with a snapshot, and its heartbeat
// (devices/ai-camera/README.md). A Hikvision camera has no event for a thrown object or rubbish that the service
// maps, so those helpers exist only for the canonical format.
import { SimulatedDevice, type DeviceIdentity, type Helper } from './device.js';
import type { CanonicalPayload } from '../../src/ingest/types.js';

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

export class AiCameraSim extends SimulatedDevice {
  constructor(info: DeviceIdentity) {
    super(info);
    const all: Record<string, Helper> = {
      ebikeInLift: (t, a) => this.event(t, 'ebike_in_lift', a),
      ebikeIndoor: (t, a) => this.event(t, 'ebike_indoor', a),
      fire: (t, a) => this.event(t, 'fire_smoke', a),
      objectThrown: (t, a) => this.event(t, 'object_thrown', a),
      garbageOverflow: (t, a) => this.event(t, 'garbage_overflow', a),
      heartbeat: (t) => ({ type: 'heartbeat', ts: this.ts(t) }),
    };
    if (info.format === 'hikvision-isapi') {
      delete all.objectThrown;
      delete all.garbageOverflow;
    }
    this.helpers = all;
  }

  readonly helpers: Record<string, Helper>;

  /** An event with its snapshot (`snapshotBytes`, default 2 KB; 0 for none) and the model's confidence. */
  event(t: number, type: string, a: Record<string, unknown>): CanonicalPayload {
    const bytes = num(a.snapshotBytes, 2048);
    return {
      type,
      ts: this.ts(t),
      ...(this.info.format === 'canonical' ? { confidence: num(a.confidence, 90) } : {}),
      ...(typeof a.region === 'string' ? { region: a.region } : {}),
      ...(bytes > 0 ? { snapshotBytes: bytes } : {}),
    };
  }
}
