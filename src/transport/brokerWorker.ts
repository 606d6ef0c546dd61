// The broker thread (settings.mqtt.thread; src/transport/brokerThread.ts starts it): the embedded aedes broker
// — sockets, MQTT parsing, CONNECT authentication, the ACL, fair reads — runs here, on a core of its own, and
// the main thread keeps decode → validate → state → rules → store. Every authorised PUBLISH goes into the
// turn's frame (src/transport/frames.ts), sent at the end of the turn as one transferred buffer; a message from
// an urgent kind (smoke) sends the frame at once. A QoS 1 message's aedes callback (→ PUBACK) waits here until
// the main thread says its inbox commit is done.
//
// What it knows of the inventory: its own Directory from the same inventories, and the store's devices through
// a read-only lookup of its own (src/store/deviceLookup.ts) for devices provisioned while running (findDevice),
// as the main thread does.
import { parentPort, workerData } from 'node:worker_threads';
import type { SecureContextOptions } from 'node:tls';
import { Broker, type BrokerDeps } from '../broker/broker.js';
import { Directory, type DeviceInfo } from '../config/inventory.js';
import type { Inventory } from '../config/schema.js';
import { openDeviceLookup, type DeviceLookupSource } from '../store/deviceLookup.js';
import { createLogger } from '../log.js';
import { findDevice } from '../broker/access.js';
import type { DeviceInbound, DeviceChannel } from './transport.js';
import { FrameWriter } from './frames.js';
import type { Metrics } from '../metrics.js';

export interface BrokerWorkerData {
  communities: Inventory[];
  /** The store, opened read-only here for device lookups. */
  devices: DeviceLookupSource;
  settings: BrokerDeps['settings'];
  tls?: { context: SecureContextOptions; handshakeTimeoutMs: number; wsTls: boolean };
  adminToken?: string;
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  /** Kinds whose messages are sent to the main thread at once (DeviceKindDef.urgent). */
  urgentKinds: string[];
}

/** Main → broker thread. */
export type ToBroker =
  | { t: 'acks'; ok: Uint32Array; failed: Array<[number, string]> }
  | { t: 'publish'; deviceId: string; channel: DeviceChannel; body: string }
  | { t: 'tls'; context: SecureContextOptions }
  | { t: 'stop' };

/** Broker thread → main. */
export type FromBroker =
  | { t: 'ready'; ports: { mqtt: number; mqtts: number | null; ws: number | null } }
  | { t: 'frame'; frame: ArrayBuffer }
  | { t: 'metric'; name: 'authFailures' | 'authThrottled'; labels: Record<string, string> }
  | { t: 'blocked'; sources: Record<string, number> }
  | { t: 'up'; up: boolean }
  | { t: 'stopped' }
  | { t: 'failed'; message: string };

const port = parentPort!;
const data = workerData as BrokerWorkerData;
const post = (m: FromBroker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

const log = createLogger(data.log).child({ component: 'broker', thread: 'broker' });
const directory = new Directory(data.communities);
const repo = openDeviceLookup(data.devices);
const urgent = new Set(data.urgentKinds);

const writer = new FrameWriter();
let scheduled = false;
let seq = 0;
const waiting = new Map<number, (err?: Error) => void>();

function send(): void {
  scheduled = false;
  const frame = writer.take();
  if (frame) post({ t: 'frame', frame }, [frame]);
}

function later(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(send);
}

const inbound: DeviceInbound = {
  submit(device, topic, payload, qos, ack) {
    let id = 0;
    if (qos > 0) {
      seq = seq >= 0xfffffffe ? 1 : seq + 1;
      id = seq;
      waiting.set(id, ack);
    }
    writer.publish(id, qos, device.id, topic, payload);
    if (qos === 0) ack();
    if (urgent.has(device.kind)) send();
    else later();
  },
  markConnected(deviceId, connected) {
    writer.connection(deviceId, connected);
    later();
  },
};

// The broker counts into the main thread's registry: the few metrics it touches, forwarded (rare events).
const blocked = new Map<string, () => number>();
const counter = (name: 'authFailures' | 'authThrottled') => ({ inc: (labels: Record<string, string>) => post({ t: 'metric', name, labels }) });
const metrics = {
  authFailures: counter('authFailures'),
  authThrottled: counter('authThrottled'),
  connectedDevices: { inc() {}, dec() {} }, // counted on the main thread from the connection records
  blockedSources: { set: (k: string, fn: () => number) => blocked.set(k, fn) },
} as unknown as Metrics;

const broker = new Broker({ directory, repo, ingest: inbound, log, metrics, settings: data.settings, tls: data.tls, adminToken: data.adminToken });
const blockedTimer = setInterval(() => post({ t: 'blocked', sources: Object.fromEntries([...blocked].map(([k, fn]) => [k, fn()])) }), 5000);
blockedTimer.unref();

port.on('message', (m: ToBroker) => {
  if (m.t === 'acks') {
    for (const id of m.ok) {
      const ack = waiting.get(id);
      waiting.delete(id);
      ack?.();
    }
    for (const [id, message] of m.failed) {
      const ack = waiting.get(id);
      waiting.delete(id);
      ack?.(new Error(message));
    }
  } else if (m.t === 'publish') {
    let device: DeviceInfo | undefined;
    try {
      device = findDevice({ directory, repo }, m.deviceId);
    } catch (err) {
      log.warn({ err, deviceId: m.deviceId }, 'device lookup failed; message to the device dropped');
    }
    if (device) broker.publish(device, m.channel, m.body);
  } else if (m.t === 'tls') broker.setSecureContext(m.context);
  else if (m.t === 'stop') {
    clearInterval(blockedTimer);
    send();
    // Unacknowledged QoS 1 messages are not acknowledged: their devices send them again.
    for (const ack of waiting.values()) ack(new Error('shutting down'));
    waiting.clear();
    void broker.stop().then(
      () => {
        repo.close();
        post({ t: 'stopped' });
      },
      (err: Error) => post({ t: 'failed', message: err.message }),
    );
  }
});

broker.start().then(
  () => post({ t: 'ready', ports: broker.ports }),
  (err: Error) => post({ t: 'failed', message: err.message }),
);
