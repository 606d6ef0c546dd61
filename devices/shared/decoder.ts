// Small parts every decoder is built from (STYLE.md habit 3: kinds are data assembled from shared parts).
import type { CanonicalPayload, DecodeContext, DecodeResult, Decoder } from '../../src/ingest/types.js';

export function ok(payload: CanonicalPayload): DecodeResult {
  return { ok: true, payload: compact(payload) };
}

export function fail(message: string): DecodeResult {
  return { ok: false, error: 'decode_failed', message };
}

/** Decoders never throw (src/ingest/types.ts): anything a vendor body makes us trip over is `decode_failed`. */
export function defineDecoder(def: Decoder): Decoder {
  return {
    format: def.format,
    description: def.description,
    decode(raw: Buffer, ctx: DecodeContext): DecodeResult {
      try {
        return def.decode(raw, ctx);
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
    },
  };
}

/** Drops `undefined` fields so payloads stay plain JSON (and compare equal to their `.expected.json`). */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** A vendor time field that is present but is not a time (RejectCode `bad_timestamp`). */
export function badTimestamp(value: unknown): DecodeResult {
  return { ok: false, error: 'bad_timestamp', message: `'${String(value)}' is not a time` };
}
