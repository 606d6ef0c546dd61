// 烟感 — standalone smoke detectors (NB-IoT / LoRaWAN). See README.md.
import { createRequire } from 'node:module';
import type { DeviceKindDef } from '../../src/ingest/types.js';
import { decoder as canonical } from './decoders/canonical.js';
import { decoder as milesightGs524n } from './decoders/milesight-gs524n.js';
import { decoder as tuyaSmoke } from './decoders/tuya-smoke.js';

export const kind: DeviceKindDef = {
  kind: 'smoke-detector',
  label: '烟感',
  // A daily heartbeat; offline after two missed (~48 h, close to Huawei IoTDA's 49 h), DOMAIN.md §2.
  heartbeatSeconds: 24 * 3600,
  health: ['offline', 'battery', 'tamper', 'fault'],
  routineTypes: ['heartbeat'],
  placement: [],
  historyFields: ['battery'],
  // A smoke alarm must not wait behind bulk readings (src/ingest/pipeline.ts flushUrgent).
  urgent: true,
  schema: createRequire(import.meta.url)('./schema.json') as Record<string, unknown>,
  decoders: [canonical, milesightGs524n, tuyaSmoke],
};
