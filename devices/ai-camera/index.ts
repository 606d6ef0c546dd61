// AI 摄像机 — cameras (or the edge boxes analysing their streams) that recognise events sensors cannot: an
// e-bike wheeled into a lift or a corridor, smoke or fire in the e-bike shed, something thrown from a height,
// rubbish piling up. See README.md.
import { createRequire } from 'node:module';
import type { DeviceKindDef } from '../../src/ingest/types.js';
import { decoder as canonical } from './decoders/canonical.js';
import { decoder as hikvisionIsapi } from './decoders/hikvision-isapi.js';

export const kind: DeviceKindDef = {
  kind: 'ai-camera',
  label: '智能摄像机',
  // A heartbeat every 5 minutes (canonical) or the camera's inactive heartbeat notifications: offline after 10 min.
  heartbeatSeconds: 300,
  // Mains powered: no battery; a camera reports its faults through its own NVR, not here.
  health: ['offline'],
  routineTypes: ['heartbeat'],
  placement: [{ field: 'buildingId', problem: 'an AI camera needs the building it watches (its grid); say where in `area`' }],
  historyFields: ['battery'],
  // Fire and smoke must not wait behind bulk readings (src/ingest/pipeline.ts flushUrgent).
  urgent: true,
  // A push with its JPEG snapshot is 50–500 KB (a 1080p frame); 2 MiB leaves room for a second picture.
  maxPayloadBytes: 2 * 1024 * 1024,
  schema: createRequire(import.meta.url)('./schema.json') as Record<string, unknown>,
  decoders: [canonical, hikvisionIsapi],
};
