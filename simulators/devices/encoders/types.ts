// An encoder is a decoder run backwards: a canonical payload (CONTRACT.md) in, the bytes a real device of
// that vendor format would send out. Each file mirrors devices/<kind>/decoders/<format>.ts, cites the same
// vendor document, and is checked by a round trip through that decoder (tests/unit/simulators-encoders.test.ts).
import type { CanonicalPayload } from '../../../src/ingest/types.js';

export type { CanonicalPayload };

export interface EncodeContext {
  deviceId: string;
  /** A per-device message counter (vendors number their records: Vzenith `plateid`, Nwave frame counts). */
  seq: number;
  /** Format-specific choices, e.g. `{ hexText: true }` for GS524N or `{ wrapping: 'envelope' }` for Vzenith. */
  options?: Record<string, unknown>;
  /** The gate camera's configured lane, which the service will read the direction from (Vzenith). */
  lane?: { name?: string; direction: 'in' | 'out' };
}

export interface Encoder {
  kind: string;
  format: string;
  /**
   * Whether the bytes carry the event time. GS524N frames do not: the service stamps them on receipt, so on the
   * event clock a replay must move the clock to the message's time before sending it.
   */
  carriesTime: boolean;
  encode(payload: CanonicalPayload, ctx: EncodeContext): Buffer;
  /**
   * Canonical fields of `payload` this vendor format has no place for (they do not survive the round trip),
   * e.g. `rssi` in a GS524N frame. Documented here so the round-trip test checks everything else.
   */
  lostFields?(payload: CanonicalPayload): string[];
  /** Canonical types the format cannot tell apart and sends as another, e.g. Tuya `alarm_cleared` → `heartbeat`. */
  typeAs?: Readonly<Record<string, string>>;
}

export class EncodeError extends Error {
  readonly code = 'SIM_ENCODE';
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Drop undefined fields so the JSON on the wire has only what the device would send. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** Epoch ms of a canonical `ts` (RFC 3339 string or epoch ms), or undefined. */
export function tsMs(ts: unknown): number | undefined {
  if (typeof ts === 'number') return ts;
  if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Volts for a percentage on the decoder's straight line (devices/shared/battery.ts), to the millivolt. */
export function percentToVolts(pct: number, emptyV: number, fullV: number): number {
  return Math.round((emptyV + (pct / 100) * (fullV - emptyV)) * 1000) / 1000;
}
