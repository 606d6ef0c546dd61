// The seams between a device's bytes and the rest of shaobing. A kind is data (devices/<kind>/index.ts):
// a canonical JSON Schema, the decoders of its vendor formats, its heartbeat period, its placement, the health
// watches that apply to it and what can be charted. Every list of kinds elsewhere is derived from these.
import type { DeviceKindName } from '../config/schema.js';
import type { HistoryField } from '../telemetry/sink.js';

/** The canonical payload of CONTRACT.md: `type` plus kind-specific fields; unknown extras are kept. */
export interface CanonicalPayload {
  type: string;
  /** Event time: RFC 3339 string or epoch milliseconds; absent → receive time. */
  ts?: string | number;
  batteryPct?: number;
  rssi?: number;
  [field: string]: unknown;
}

/** Stable codes for a rejected payload (published on the device's `errors` topic). */
export type RejectCode =
  | 'decode_failed' // bytes are not the device's format (bad JSON, bad checksum, short frame)
  | 'invalid_payload' // decoded, but fails the kind's schema
  | 'unknown_format' // the device's configured format has no decoder
  | 'bad_timestamp'; // a time that is not a time, outside 2000–2100, or far ahead of the server clock

export interface DecodeContext {
  deviceId: string;
  /** Receive time, epoch ms (from the clock), for formats that carry no time of their own. */
  receivedAt: number;
  /** A gate camera's configured lane (src/config/inventory.ts laneOfCamera): the way cars go through it. */
  lane?: { name?: string; direction: 'in' | 'out' };
  /** The device's configured common area (inventory `area`, e.g. 3号楼 1号电梯): where a camera looks. */
  area?: string;
}

export type DecodeResult =
  /** `picture`: an image the message carried beside its data (a camera's snapshot: the JPEG part of a multipart
   *  push, a base64 field), taken out of the payload. It is never stored with the reading; the snapshot handler
   *  (src/residents/snapshots.ts) checks, re-encodes and keeps it in the photo store after the batch commits.
   *  `text`: the JSON text `payload` was parsed from, when the payload is exactly that text (the canonical
   *  decoder): the history row stores it as is (Reading.payloadText). */
  | { ok: true; payload: CanonicalPayload; picture?: Buffer; text?: string }
  | { ok: false; error: RejectCode; message: string };

/** A decoder is pure: bytes in, canonical payload (or a coded reason) out. It never throws. */
export interface Decoder {
  /** The value of a device's `format` setting that picks this decoder, e.g. `canonical`, `milesight-gs524n`. */
  format: string;
  /** One line for the README and the API: vendor, model, where the format is documented. */
  description: string;
  decode(raw: Buffer, ctx: DecodeContext): DecodeResult;
}

/** Device-health rules (src/rules/): device_offline, low_battery, device_tamper, device_fault. */
export type HealthWatch = 'offline' | 'battery' | 'tamper' | 'fault';
export const HEALTH_WATCHES: readonly HealthWatch[] = ['offline', 'battery', 'tamper', 'fault'];

/** Where an installed device of a kind must be placed: an inventory field that must be set. */
export interface Placement {
  field: 'spaceId' | 'gateId' | 'householdId' | 'buildingId';
  /** Why, for the error listing: "a parking sensor needs its space". */
  problem: string;
}

export interface DeviceKindDef {
  kind: DeviceKindName;
  /** Chinese name shown to people (alert titles, the console), e.g. 烟感. */
  label: string;
  /** The health rules that watch this kind; a kind left out of `offline` would never be missed. */
  health: readonly HealthWatch[];
  /** Message types (of its schema) that say the device works: a later one resolves a health alert. */
  routineTypes: readonly string[];
  /** Inventory fields its devices must have (checked at config load and at provisioning). */
  placement: readonly Placement[];
  /** What the telemetry API charts for it, the first being the default (`battery` needs `batteryPct`). */
  historyFields: readonly HistoryField[];
  /** Expected period between messages (src/state/cadence.ts): a heartbeat device is offline after twice this
   *  (CONTRACT.md device_offline); a periodic uploader is judged on it until its own interval is observed. */
  heartbeatSeconds: number;
  /** It uploads on a schedule of its own (NB water meters: every 1–24 h) rather than on events with a heartbeat:
   *  its status follows its observed upload interval (src/state/cadence.ts). */
  periodic?: boolean;
  /** Its messages may carry a life-safety alarm: processed at once, ahead of bulk readings (the fast lane). */
  urgent?: boolean;
  /** Largest message of this kind taken in, bytes, when above `mqtt.maxPayloadBytes` (a camera's push with its
   *  snapshot: ~100–500 KB); the smaller settings limit applies to every other kind. */
  maxPayloadBytes?: number;
  /** The canonical payload's JSON Schema (devices/<kind>/schema.json). */
  schema: Record<string, unknown>;
  /** `canonical` first; one entry per vendor format. */
  decoders: Decoder[];
}

/** What an inventory entry or a provisioning request lacks for its kind's placement: `field: why` each. */
export function placementProblems(kind: Pick<DeviceKindDef, 'placement'> | undefined, device: Partial<Record<Placement['field'], string>>): string[] {
  return (kind?.placement ?? []).filter((p) => !device[p.field]).map((p) => `${p.field}: ${p.problem}`);
}
