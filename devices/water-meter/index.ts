// 智能水表 — NB-IoT / LoRa smart water meters, used for lone-elder "no water use" checks. See README.md.
import { createRequire } from 'node:module';
import type { DeviceKindDef } from '../../src/ingest/types.js';
import { decoder as canonical } from './decoders/canonical.js';
import { decoder as nbBatch } from './decoders/nb-batch.js';

export const kind: DeviceKindDef = {
  kind: 'water-meter',
  label: '智能水表',
  // Battery NB meters upload once or twice a day with the intervals in the batch (DOMAIN.md §1): 12 h until the
  // meter's own interval is observed (three uploads), then that (src/state/cadence.ts) — a once-a-day or an
  // hourly meter is judged on its own cadence; the inventory's heartbeatSeconds is the starting guess.
  heartbeatSeconds: 12 * 3600,
  periodic: true,
  health: ['offline', 'battery', 'tamper', 'fault'],
  routineTypes: ['reading', 'heartbeat'],
  placement: [],
  historyFields: ['water', 'battery'],
  schema: createRequire(import.meta.url)('./schema.json') as Record<string, unknown>,
  decoders: [canonical, nbBatch],
};
