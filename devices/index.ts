// Every device kind shaobing knows. Adding a kind = a folder with schema.json, decoders/, examples/ and an
// index.ts, plus one line here; devices.test.ts fails if a folder is left out.
import type { DeviceKindDef } from '../src/ingest/types.js';
import { kind as parkingSensor } from './parking-sensor/index.js';
import { kind as smartGate } from './smart-gate/index.js';
import { kind as smokeDetector } from './smoke-detector/index.js';
import { kind as waterMeter } from './water-meter/index.js';

export const deviceKinds: readonly DeviceKindDef[] = Object.freeze([smokeDetector, waterMeter, parkingSensor, smartGate]);

export function findKind(kind: string): DeviceKindDef | undefined {
  return deviceKinds.find((def) => def.kind === kind);
}
