// The canonical camera event: JSON as in the schema, plus an optional `snapshot` — the picture as base64 JPEG
// (a `data:image/jpeg;base64,` prefix is allowed). The snapshot is taken out of the payload and travels beside it
// (DecodeResult.picture); a snapshot that is not base64 is noted (`snapshotError`) and the event kept: a fire
// is reported with a broken picture rather than not at all.
import type { CanonicalPayload } from '../../../src/ingest/types.js';
import { defineDecoder, fail } from '../../shared/decoder.js';
import { parseJsonObject } from '../../shared/json.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A base64 picture field → bytes, or why not. */
export function pictureOf(value: unknown): { picture: Buffer } | { error: string } {
  if (typeof value !== 'string') return { error: 'snapshot is not a base64 string' };
  const text = value.replace(/^data:image\/[a-z]+;base64,/i, '').replace(/\s+/g, '');
  if (!text.length || text.length % 4 !== 0 || !BASE64.test(text)) return { error: 'snapshot is not base64' };
  return { picture: Buffer.from(text, 'base64') };
}

export const decoder = defineDecoder({
  format: 'canonical',
  description: 'AI 摄像机 canonical JSON (devices/ai-camera/README.md); the snapshot as base64 JPEG in `snapshot`',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const { snapshot, ...rest } = parsed.value;
    const payload = rest as CanonicalPayload;
    if (snapshot === undefined || snapshot === null) return { ok: true, payload };
    const pic = pictureOf(snapshot);
    if ('error' in pic) return { ok: true, payload: { ...payload, snapshotError: pic.error } };
    return { ok: true, payload: { ...payload, snapshotBytes: pic.picture.length }, picture: pic.picture };
  },
});
