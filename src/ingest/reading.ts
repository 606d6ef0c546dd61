import type { DeviceKindName } from '../config/schema.js';
import type { CanonicalPayload, RejectCode } from './types.js';

/** A decoded, validated message from one device: what every later stage works on. */
export interface Reading {
  deviceId: string;
  kind: DeviceKindName;
  communityId: string;
  gridId: string;
  type: string;
  /** Event time (the payload's `ts`, else receive time), epoch ms. */
  ts: number;
  /** When the broker received it, epoch ms (from the clock). */
  receivedAt: number;
  payload: CanonicalPayload;
  /** The JSON text `payload` was parsed from, when it is exactly that (the canonical decoder): the history row
   *  stores it as is, no second JSON.stringify per message. Nothing changes a payload after decoding. */
  payloadText?: string;
  /** An image the message carried (DecodeResult.picture); in memory only, never written with the reading. */
  picture?: Buffer;
}

export interface Rejection {
  id?: number;
  deviceId: string | null;
  communityId: string | null;
  topic: string;
  /** `processing_failed`: decoded and valid, but processing it threw; kept with the error (issue 11). */
  code: RejectCode | 'payload_too_large' | 'unknown_device' | 'processing_failed';
  message: string;
  receivedAt: number;
  payloadBytes: number;
}

/** Devices may be up to this far ahead of our clock (unsynchronised RTCs); beyond it the time is refused. */
export const MAX_FUTURE_MS = 10 * 60_000;

/** `ts` as epoch ms: RFC 3339 string or epoch ms number; undefined → receive time; NaN → invalid. */
export function eventTime(ts: string | number | undefined, receivedAt: number): number {
  if (ts === undefined) return receivedAt;
  return typeof ts === 'number' ? ts : Date.parse(ts);
}
