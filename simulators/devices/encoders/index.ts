// Every encoder, one per device kind and vendor format, keyed like the decoders (`<kind>/<format>`).
// tests/unit/simulators-encoders.test.ts fails when a registered decoder has no encoder here.
import type { Encoder } from './types.js';
import { encoder as smokeCanonical } from './smoke-detector/canonical.js';
import { encoder as smokeGs524n } from './smoke-detector/milesight-gs524n.js';
import { encoder as smokeTuya } from './smoke-detector/tuya-smoke.js';
import { encoder as meterCanonical } from './water-meter/canonical.js';
import { encoder as meterNbBatch } from './water-meter/nb-batch.js';
import { encoder as parkingCanonical } from './parking-sensor/canonical.js';
import { encoder as parkingNwave } from './parking-sensor/nwave.js';
import { encoder as gateCanonical } from './smart-gate/canonical.js';
import { encoder as gateVzenith } from './smart-gate/vzenith.js';
import { encoder as cameraCanonical } from './ai-camera/canonical.js';
import { encoder as cameraHikvision } from './ai-camera/hikvision-isapi.js';

export type { Encoder, EncodeContext } from './types.js';
export { EncodeError } from './types.js';

export const encoders: readonly Encoder[] = Object.freeze([
  smokeCanonical,
  smokeGs524n,
  smokeTuya,
  meterCanonical,
  meterNbBatch,
  parkingCanonical,
  parkingNwave,
  gateCanonical,
  gateVzenith,
  cameraCanonical,
  cameraHikvision,
]);

const byKey = new Map(encoders.map((e) => [`${e.kind}/${e.format}`, e]));

export function findEncoder(kind: string, format: string): Encoder | undefined {
  return byKey.get(`${kind}/${format}`);
}
