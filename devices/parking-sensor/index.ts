// 地磁车位 — geomagnetic parking-space sensors. See README.md.
import { createRequire } from 'node:module';
import type { DeviceKindDef } from '../../src/ingest/types.js';
import { decoder as canonical } from './decoders/canonical.js';
import { decoder as nwave } from './decoders/nwave.js';

export const kind: DeviceKindDef = {
  kind: 'parking-sensor',
  label: '地磁车位',
  // Sensors send on change plus a heartbeat every few hours (DOMAIN.md §3): 6 h, offline after 12 h.
  heartbeatSeconds: 6 * 3600,
  health: ['offline', 'battery', 'tamper', 'fault'],
  routineTypes: ['state', 'heartbeat'],
  placement: [{ field: 'spaceId', problem: 'a parking sensor needs its space' }],
  historyFields: ['occupancy', 'battery'],
  schema: createRequire(import.meta.url)('./schema.json') as Record<string, unknown>,
  decoders: [canonical, nwave],
};
