// The one canonical-JSON parser shared by every kind (CONTRACT.md "Canonical payloads (JSON object)").
import type { CanonicalPayload, Decoder } from '../../src/ingest/types.js';
import { defineDecoder, fail } from './decoder.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses UTF-8 JSON text that must be an object; anything else is a reason string. */
export function parseJsonObject(raw: Buffer): { ok: true; value: JsonObject } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { ok: false, message: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(value)) return { ok: false, message: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  return { ok: true, value };
}

/**
 * The `canonical` format: the payload already is the canonical JSON object. Fields are passed through
 * untouched (unknown extras are kept); the kind's schema, not the decoder, judges them.
 */
export function canonicalJsonDecoder(description: string): Decoder {
  return defineDecoder({
    format: 'canonical',
    description,
    decode(raw) {
      const parsed = parseJsonObject(raw);
      if (!parsed.ok) return fail(parsed.message);
      // A missing or odd `type` is still this format: the schema rejects it as invalid_payload, not decode_failed.
      return { ok: true, payload: parsed.value as CanonicalPayload };
    },
  });
}
