// How often a device is heard from, and so whether it is 正常 (ok), 迟报 (late) or 离线 (offline). One notion
// for the API (GET /api/devices), the console, the big screen, the digest and the device_offline rule.
//
// Two kinds of devices:
// - periodic uploaders (water meters: NB-IoT meters connect, upload every 1–24 h and leave): the expected
//   interval is the device's OWN observed one — the median of its last gaps between uploads, by its event time
//   and by arrival (the larger of the two, so a meter that sends a backlog at once or whose clock drifts is not
//   judged on the faster) — and, until three gaps are known, the inventory's heartbeatSeconds or the kind's.
//   Late a quarter interval after an upload was due; offline after `missedUploads` (3) missed uploads, never
//   before `floorMinutes` (180): one late upload of an hourly meter is 迟报, not 离线.
// - heartbeat devices (smoke detectors, parking sensors, gates): their messages are mostly events, so the
//   declared heartbeat (inventory, else kind) is the expectation; late after one missed heartbeat, offline
//   after `factor` (2) of them (CONTRACT.md device_offline).
//
// "Heard" is the later of the last arrival and the last event time (a rejected payload proves a device alive).
// Whether it holds an MQTT connection right now is a different thing (`connected` in the API): a meter that
// reported an hour ago and hung up is 正常.
//
// The samples live in DeviceState (persisted with it in the ingest transaction), so a restart keeps them.
// Everything here is a pure function of those samples, the device's reference and the time.

export type DeviceStatus = 'ok' | 'late' | 'offline';

/** Chinese names of the statuses for people (console, digest). */
export const STATUS_LABEL: Record<DeviceStatus, string> = { ok: '正常', late: '迟报', offline: '离线' };

/** Per-device samples, kept in DeviceState.cadence. */
export interface CadenceSamples {
  /** Event time of the last upload (the first message of a burst), epoch ms. */
  uploadEventAt: number | null;
  /** Arrival time of the last upload, epoch ms. */
  uploadArrivedAt: number | null;
  /** Recent gaps between uploads by event time, ms, oldest first (at most WINDOW). */
  eventGaps: number[];
  /** Recent gaps between uploads by arrival, ms. */
  arrivalGaps: number[];
  /** Recent arrival − event time of uploads, ms (≥ 0): how late a device's data usually arrives. */
  lags: number[];
}

/** What is declared about a device: its heartbeat (inventory override, else kind) and whether it uploads periodically. */
export interface CadenceRef {
  heartbeatSeconds: number;
  periodic: boolean;
}

/** The device_offline rule's settings that shape the thresholds (docs/rules.md). */
export interface CadenceSettings {
  /** Heartbeat devices: offline after this many heartbeat periods of silence. */
  factor: number;
  /** Periodic uploaders: offline after this many missed uploads… */
  missedUploads: number;
  /** …but never sooner than this after the last one. */
  floorMinutes: number;
}

export const DEFAULT_CADENCE_SETTINGS: Readonly<CadenceSettings> = Object.freeze({ factor: 2, missedUploads: 3, floorMinutes: 180 });

/** Messages within this time of an upload's first one are the same upload (a meter's reading + heartbeat). */
export const BURST_MS = 120_000;
/** Gaps kept per device; the median of an odd count is one of them. */
export const WINDOW = 9;
/** Gaps needed before the observed interval replaces the declared one. */
export const MIN_SAMPLES = 3;

export function emptySamples(): CadenceSamples {
  return { uploadEventAt: null, uploadArrivedAt: null, eventGaps: [], arrivalGaps: [], lags: [] };
}

const pushed = (xs: readonly number[], x: number) => (xs.length >= WINDOW ? [...xs.slice(xs.length - WINDOW + 1), x] : [...xs, x]);

/** The samples after one accepted message (event time `eventAt`, arrival `arrivedAt`). A new object when anything
 *  changed — the caller's is left as it was (DeviceStates.snapshot is shallow) — else `prev` itself: most
 *  messages belong to an upload already counted (a meter's reading and heartbeat), and cadenceOf's memo is
 *  kept by object. */
export function observe(prev: CadenceSamples | undefined, eventAt: number, arrivedAt: number): CadenceSamples {
  if (
    prev &&
    prev.uploadEventAt !== null &&
    eventAt - prev.uploadEventAt < BURST_MS &&
    prev.uploadArrivedAt !== null &&
    arrivedAt - prev.uploadArrivedAt < BURST_MS &&
    prev.eventGaps &&
    prev.arrivalGaps &&
    prev.lags
  )
    return prev;
  const s: CadenceSamples = { ...emptySamples(), ...prev };
  let newUpload = false;
  if (s.uploadEventAt === null) {
    s.uploadEventAt = eventAt;
    newUpload = true;
  } else if (eventAt - s.uploadEventAt >= BURST_MS) {
    s.eventGaps = pushed(s.eventGaps, eventAt - s.uploadEventAt);
    s.uploadEventAt = eventAt;
    newUpload = true;
  } // older, or within the burst: a backlog or the same upload
  if (s.uploadArrivedAt === null) s.uploadArrivedAt = arrivedAt;
  else if (arrivedAt - s.uploadArrivedAt >= BURST_MS) {
    s.arrivalGaps = pushed(s.arrivalGaps, arrivedAt - s.uploadArrivedAt);
    s.uploadArrivedAt = arrivedAt;
  }
  if (newUpload) s.lags = pushed(s.lags, Math.max(0, arrivedAt - eventAt));
  return s;
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The observed upload interval, ms, or null while fewer than MIN_SAMPLES gaps are known. */
export function observedIntervalMs(s: CadenceSamples | undefined): number | null {
  if (!s) return null;
  const byEvent = s.eventGaps.length >= MIN_SAMPLES ? median(s.eventGaps) : null;
  const byArrival = s.arrivalGaps.length >= MIN_SAMPLES ? median(s.arrivalGaps) : null;
  if (byEvent === null) return byArrival;
  if (byArrival === null) return byEvent;
  return Math.max(byEvent, byArrival);
}

/** What the thresholds are for one device now. */
export interface Cadence {
  /** The interval the device is judged on, ms. */
  intervalMs: number;
  /** true when it is the device's own observed interval, false when declared. */
  observed: boolean;
  /** After the next upload was due, this much more before it is late, ms. */
  graceMs: number;
  /** Silence after which the device is offline, ms. */
  offlineAfterMs: number;
  /** Usual delay between an upload's event time and its arrival, ms (0 when unknown). */
  lagMs: number;
}

/** cadenceOf per samples object (observe returns a new one whenever they change), for the last ref and settings. */
const cadenceMemo = new WeakMap<CadenceSamples, { heartbeatSeconds: number; periodic: boolean; settings: CadenceSettings; cadence: Cadence }>();

export function cadenceOf(s: CadenceSamples | undefined, ref: CadenceRef, settings: CadenceSettings = DEFAULT_CADENCE_SETTINGS): Cadence {
  const hit = s && cadenceMemo.get(s);
  // The rules ask for the same device's cadence several times per reading; samples are never changed in place.
  if (hit && hit.settings === settings && hit.heartbeatSeconds === ref.heartbeatSeconds && hit.periodic === ref.periodic) return hit.cadence;
  const declared = ref.heartbeatSeconds * 1000;
  const seen = ref.periodic ? observedIntervalMs(s) : null;
  const intervalMs = seen ?? declared;
  const graceMs = Math.max(intervalMs / 4, 5 * 60_000);
  const offlineAfterMs = ref.periodic
    ? Math.max(settings.missedUploads * intervalMs + graceMs, settings.floorMinutes * 60_000)
    : settings.factor * intervalMs;
  const cadence: Cadence = Object.freeze({ intervalMs, observed: seen !== null, graceMs: Math.min(graceMs, offlineAfterMs), offlineAfterMs, lagMs: (s && median(s.lags)) ?? 0 });
  if (s) cadenceMemo.set(s, { heartbeatSeconds: ref.heartbeatSeconds, periodic: ref.periodic, settings, cadence });
  return cadence;
}

/** What GET /api/devices shows. */
export interface StatusView {
  status: DeviceStatus;
  /** When the next upload is expected (last heard + interval), epoch ms; null before the first message. */
  nextDueAt: number | null;
  /** When it becomes late, epoch ms. */
  lateAt: number | null;
  /** When it becomes offline, epoch ms. */
  offlineAt: number | null;
  cadence: Cadence;
}

/**
 * The status at `now` of a device last heard at `heardAt` (null: never; it is then offline).
 * `heardAt` = max(lastSeenAt, lastEventAt) — use heardAtOf(state).
 */
export function statusAt(heardAt: number | null, s: CadenceSamples | undefined, ref: CadenceRef, now: number, settings?: CadenceSettings): StatusView {
  const cadence = cadenceOf(s, ref, settings);
  if (heardAt === null) return { status: 'offline', nextDueAt: null, lateAt: null, offlineAt: null, cadence };
  const nextDueAt = heardAt + cadence.intervalMs;
  const offlineAt = heardAt + cadence.offlineAfterMs;
  const lateAt = Math.min(nextDueAt + cadence.graceMs, offlineAt);
  const status: DeviceStatus = now >= offlineAt ? 'offline' : now >= lateAt ? 'late' : 'ok';
  return { status, nextDueAt, lateAt, offlineAt, cadence };
}

/** The time a device was last heard from: the later of its last arrival and its last event time. */
export function heardAtOf(st: { lastSeenAt: number | null; lastEventAt: number | null } | undefined): number | null {
  if (!st) return null;
  const t = Math.max(st.lastSeenAt ?? -Infinity, st.lastEventAt ?? -Infinity);
  return Number.isFinite(t) ? t : null;
}

/**
 * For rules that need data for an event time (missed_check, no_water_use): by when (arrival time, epoch ms)
 * an upload whose data covers event time `eventAt` is due, late included — if it has not arrived by then, the
 * device is late for that window. The next uploads are expected every interval after the last upload's
 * event time; the first at or after `eventAt` covers it; add the usual arrival lag and the grace.
 * Returns `eventAt` itself when an upload at or after it is already in (nothing to wait for), and null when the
 * device has never uploaded (nothing to go by).
 */
export function coveredBy(s: CadenceSamples | undefined, ref: CadenceRef, eventAt: number, settings?: CadenceSettings): number | null {
  if (!s || s.uploadEventAt === null) return null;
  if (s.uploadEventAt >= eventAt) return eventAt;
  const c = cadenceOf(s, ref, settings);
  const n = Math.ceil((eventAt - s.uploadEventAt) / c.intervalMs);
  return s.uploadEventAt + n * c.intervalMs + c.lagMs + c.graceMs;
}

/** A device's reference: the inventory's heartbeatSeconds wins over the kind's; periodic from the kind. */
export function cadenceRefOf(device: { heartbeatSeconds?: number } | undefined, kind: { heartbeatSeconds: number; periodic?: boolean } | undefined): CadenceRef | undefined {
  const heartbeatSeconds = device?.heartbeatSeconds ?? kind?.heartbeatSeconds;
  return heartbeatSeconds ? { heartbeatSeconds, periodic: kind?.periodic ?? false } : undefined;
}
