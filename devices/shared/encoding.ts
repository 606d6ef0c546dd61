// Byte-level helpers: hex text, strict base64 text, lenient numbers from vendors that send "123" for 123.

/** Bytes of a hex text payload ("221E64001C40", spaces allowed), or undefined if `raw` is not hex text. */
export function hexTextToBytes(raw: Buffer): Buffer | undefined {
  const text = raw.toString('latin1').replace(/\s+/g, '');
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

/** Bytes of strict base64 (RFC 4648 §4 alphabet, padded), e.g. a LoRaWAN `frm_payload`, or undefined. */
export function base64ToBytes(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

/**
 * UTF-8 text from strict base64 (RFC 4648 §4 alphabet, padded), or undefined when `value` is not base64 or
 * does not decode to clean UTF-8 text — e.g. "6LWjR1o3UzEz" → "赣GZ7S13", but "沪A12345" → undefined.
 */
export function base64ToText(value: string): string | undefined {
  const bytes = base64ToBytes(value);
  if (!bytes) return undefined;
  const text = bytes.toString('utf8');
  // A lossy decode (U+FFFD) or control characters mean this was not base64 of text after all.
  if (!Buffer.from(text, 'utf8').equals(bytes) || /[\u0000-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

/** A finite number from a number or numeric string (some NB platforms send every field as a string). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A vendor's "1"/1/true flag. */
export function isSet(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
