// 道闸车牌识别 — barrier gates with licence-plate recognition cameras. See README.md.
import { createRequire } from 'node:module';
import type { DeviceKindDef } from '../../src/ingest/types.js';
import { decoder as canonical } from './decoders/canonical.js';
import { decoder as vzenith } from './decoders/vzenith.js';

export const kind: DeviceKindDef = {
  kind: 'smart-gate',
  label: '道闸车牌识别',
  // Cameras heartbeat every 5–30 s (DOMAIN.md §4); 150 s × 2 = offline after 5 min (CONTRACT.md device_offline).
  heartbeatSeconds: 150,
  health: ['offline', 'battery', 'tamper', 'fault'],
  routineTypes: ['plate', 'heartbeat'],
  placement: [{ field: 'gateId', problem: 'a gate camera needs its gate' }],
  historyFields: ['battery'],
  schema: createRequire(import.meta.url)('./schema.json') as Record<string, unknown>,
  decoders: [canonical, vzenith],
};
