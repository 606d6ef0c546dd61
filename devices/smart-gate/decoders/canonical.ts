// The canonical JSON (CONTRACT.md, Canonical payloads). A plate without `direction` from a camera that watches a
// configured lane takes the lane's direction and name (inventory parkingLots[].gates[].lanes[]); a direction the
// payload gives always wins. Without either the schema refuses it (`direction` is required).
import type { Decoder } from '../../../src/ingest/types.js';
import { canonicalJsonDecoder } from '../../shared/json.js';

const json = canonicalJsonDecoder('道闸车牌识别 canonical JSON (CONTRACT.md, Canonical payloads); direction from the camera\'s lane when absent');

export const decoder: Decoder = {
  format: json.format,
  description: json.description,
  decode(raw, ctx) {
    const res = json.decode(raw, ctx);
    if (!res.ok || res.payload.type !== 'plate' || res.payload.direction !== undefined || !ctx.lane) return res;
    return { ok: true, payload: { ...res.payload, direction: ctx.lane.direction, lane: res.payload.lane ?? ctx.lane.name } };
  },
};
