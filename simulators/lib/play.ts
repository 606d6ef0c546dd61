// Puts simulated traffic on the wire: every device connects with its own credentials, messages go out in
// virtual-time order at `speed` × real time (or as fast as the service takes them), and API events (visitor
// registrations) are made over HTTP in their place in the stream. At a finite speed no gap between two events
// is ever shortened: when the service holds the stream up, the rest of it runs later rather than in a burst.
//
// At full speed on the event clock the service's time is driven by the message times, so order matters across
// devices too: a message is sent only once every in-flight message more than `reorderToleranceMs` of virtual
// time older has been acknowledged (QoS 1 PUBACK: shaobing has stored and processed it), with at most
// `maxInFlight` outstanding. Messages of one device always arrive in order (one MQTT connection each).
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceClient, SimMessage } from '../devices/device.js';
import type { ApiClient } from './api.js';

export type SimEvent =
  | ({ type: 'mqtt'; qos?: 0 | 1 } & SimMessage)
  | { type: 'api'; t: number; method: 'POST'; path: string; body: Record<string, unknown>; what: string };

export interface PlayOptions {
  mqttUrl: string;
  /** Device id → secret. */
  secrets: Record<string, string>;
  /** Virtual seconds per real second; Infinity = as fast as the service acknowledges. */
  speed: number;
  /** For API events; without it they are skipped and counted. */
  api?: ApiClient;
  maxInFlight?: number;
  reorderToleranceMs?: number;
  /** Called about once a second of real time. */
  onProgress?(p: PlayProgress): void;
  /** Connect this many devices at a time. */
  connectConcurrency?: number;
  signal?: AbortSignal;
}

export interface PlayProgress {
  /** Virtual time of the last event sent. */
  t: number;
  messages: number;
  apiCalls: number;
  wallMs: number;
}

export interface PlayStats extends PlayProgress {
  apiSkipped: number;
  apiFailed: number;
  byKind: Record<string, number>;
  connectMs: number;
}

/** Connect every device (with its own secret), a few at a time. */
export async function connectAll(devices: Iterable<DeviceClient>, url: string, secrets: Record<string, string>, concurrency = 16): Promise<void> {
  const list = [...devices];
  const missing = list.filter((d) => secrets[d.info.id] === undefined).map((d) => d.info.id);
  if (missing.length) throw new Error(`no secret for ${missing.length} device(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const d = list[next++];
      await d.connect(url, secrets[d.info.id]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
}

export async function disconnectAll(devices: Iterable<DeviceClient>): Promise<void> {
  await Promise.all([...devices].map((d) => d.disconnect()));
}

/** Play `events` (already in time order) through connected `devices`. */
export async function play(events: Iterable<SimEvent>, devices: ReadonlyMap<string, DeviceClient>, opts: PlayOptions): Promise<PlayStats> {
  const maxInFlight = opts.maxInFlight ?? 256;
  const tolerance = opts.reorderToleranceMs ?? 60_000;
  const wall0 = performance.now();
  let v0: number | undefined;
  const stats: PlayStats = { t: 0, messages: 0, apiCalls: 0, apiSkipped: 0, apiFailed: 0, wallMs: 0, byKind: {}, connectMs: 0 };
  const inFlight: Array<{ t: number; p: Promise<void> }> = [];
  let failure: Error | undefined;
  let lastProgress = wall0;
  let lastSent = -Infinity;
  let lastT = 0;

  const drainTo = async (pred: (oldest: { t: number }) => boolean) => {
    while (inFlight.length && pred(inFlight[0])) await inFlight.shift()!.p;
    if (failure) throw failure;
  };

  for (const e of events) {
    if (opts.signal?.aborted) break;
    v0 ??= e.t;
    if (Number.isFinite(opts.speed)) {
      // On schedule, or — when the service has held us up — at least the original gap after the previous one:
      // a late stream drifts later instead of bursting, so the service always sees the recorded spacing.
      const due = Math.max(wall0 + (e.t - v0) / opts.speed, lastSent + (e.t - lastT) / opts.speed);
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal: opts.signal }).catch(() => undefined);
    }
    lastSent = performance.now();
    lastT = e.t;
    if (e.type === 'api') {
      await drainTo(() => true); // everything before it first: the registration belongs at its place in time
      if (!opts.api) stats.apiSkipped++;
      else {
        try {
          await opts.api.request(e.method, e.path, e.body);
          stats.apiCalls++;
        } catch {
          stats.apiFailed++;
        }
      }
    } else {
      const device = devices.get(e.deviceId);
      if (!device) throw new Error(`event for unknown device ${e.deviceId}`);
      await drainTo((oldest) => inFlight.length >= maxInFlight || oldest.t < e.t - tolerance);
      const p = device.publish(e.payload, e.qos ?? 1).catch((err: Error) => {
        failure ??= new Error(`${e.deviceId}: publish failed: ${err.message}`);
      });
      inFlight.push({ t: e.t, p });
      stats.messages++;
      const kind = device.info.kind ?? 'unknown';
      stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    }
    stats.t = e.t;
    const now = performance.now();
    if (opts.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      opts.onProgress({ t: stats.t, messages: stats.messages, apiCalls: stats.apiCalls, wallMs: now - wall0 });
    }
  }
  await drainTo(() => true);
  stats.wallMs = performance.now() - wall0;
  return stats;
}
