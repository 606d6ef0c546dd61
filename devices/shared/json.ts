// The one canonical-JSON parser shared by every kind (CONTRACT.md "Canonical payloads (JSON object)").
import { isUtf8 } from 'node:buffer';
import type { CanonicalPayload, Decoder } from '../../src/ingest/types.js';
import { defineDecoder, fail } from './decoder.js';

/**
 * Deepest nesting of objects and arrays a payload may have. The deepest real body we know is a Vzenith plate
 * result inside the vzicloud envelope (7 levels); JSON.parse, JSON.stringify and every recursive walk after
 * them would overflow the stack somewhere past a few thousand levels, which a 24 KB payload can reach.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests objects/arrays deeper than `max`, found in one pass over the bytes before anything
 * recursive sees them (brackets inside strings do not count).
 */
export function jsonDeeperThan(raw: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses UTF-8 JSON text that must be an object; anything else is a reason string. */
export function parseJsonObject(raw: Buffer): { ok: true; value: JsonObject; text: string } | { ok: false; message: string } {
  // Refused, not read with U+FFFD in place of the bad bytes: what is kept must be what the device said.
  if (!isUtf8(raw)) return { ok: false, message: 'not valid UTF-8 text' };
  if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) return { ok: false, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  const text = raw.toString('utf8');
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(value)) return { ok: false, message: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  return { ok: true, value, text };
}

/** A reading's payload as JSON text: the text it was parsed from when the canonical decoder made it (carried
 *  as DecodeResult.text → Reading.payloadText, not kept in a WeakMap per message), else JSON.stringify. */
export function payloadJson(r: { payload: unknown; payloadText?: string }): string {
  return r.payloadText ?? JSON.stringify(r.payload);
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
      return { ok: true, payload: parsed.value as CanonicalPayload, text: parsed.text };
    },
  });
}
