// The embedded broker on a thread of its own (settings.mqtt.thread, default off): a second core for ingest.
// The broker thread (src/transport/brokerWorker.ts) holds the sockets, parses MQTT, authenticates and applies
// the ACL; this side turns each frame it sends (src/transport/frames.ts: a turn's messages in one transferred
// buffer) into Ingest.submit calls in arrival order — so each device's order is kept — and sends back, once
// per turn, the QoS 1 messages whose inbox commit is done (PUBACK only then, as with the broker in-thread).
// Urgent kinds (smoke) leave the broker thread at once and take ingest's fast lane here.
//
// Not served in this mode: MQTT over WebSocket on the API's port (`/mqtt`; the broker's own wsPort is), and
// the external-broker hooks' throttle does not share the broker's bans. Metrics the broker counts
// (auth failures and throttles, blocked sources) are forwarded; shaobing_connected_devices is counted here.
import { Worker } from 'node:worker_threads';
import type { Server as HttpServer } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Directory, DeviceInfo } from '../config/inventory.js';
import type { DevicesRepo } from '../store/store.js';
import type { Metrics } from '../metrics.js';
import type { DeviceInbound, DeviceTransport, DeviceChannel } from './transport.js';
import { findDevice } from '../broker/access.js';
import { deviceLookupSource } from '../store/deviceLookup.js';
import { MqttAuthGuard } from '../broker/authGuard.js';
import { readFrame, Rec } from './frames.js';
import type { BrokerWorkerData, FromBroker, ToBroker } from './brokerWorker.js';

export interface BrokerThreadDeps {
  directory: Directory;
  repo: DevicesRepo;
  ingest: DeviceInbound;
  log: Logger;
  metrics: Metrics;
  /** What the broker thread is started with (its own directory is built from `communities`). */
  worker: Omit<BrokerWorkerData, 'devices'> & { dataDir: string; dbFile?: string };
}

export class BrokerThread implements DeviceTransport {
  readonly name = 'mqtt (embedded aedes, own thread)';
  /** For the external-broker hooks (not shared with the broker thread's own). */
  readonly guard: MqttAuthGuard;
  private worker?: Worker;
  private running = false;
  private portsSeen: { mqtt: number; mqtts: number | null; ws: number | null } = { mqtt: 0, mqtts: null, ws: null };
  private acks: number[] = [];
  private failed: Array<[number, string]> = [];
  private ackScheduled = false;
  private blocked: Record<string, number> = {};
  private stopping?: Promise<void>;

  constructor(private readonly deps: BrokerThreadDeps) {
    this.guard = new MqttAuthGuard(deps.metrics);
  }

  async start(): Promise<void> {
    const { worker: w, metrics, log } = this.deps;
    const data: BrokerWorkerData = {
      communities: w.communities,
      devices: deviceLookupSource(w.dataDir, w.dbFile),
      settings: w.settings,
      tls: w.tls,
      adminToken: w.adminToken,
      log: w.log,
      urgentKinds: w.urgentKinds,
    };
    const here = import.meta.url;
    // Built code runs the worker's .js; under tsx or vitest (TypeScript sources) the worker registers tsx first.
    const worker = here.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(new URL('./brokerWorker.ts', here).href)}); })`, { eval: true, workerData: data })
      : new Worker(new URL('./brokerWorker.js', here), { workerData: data });
    this.worker = worker;
    metrics.blockedSources.set('mqtt', () => this.blocked.mqtt ?? 0);
    metrics.blockedSources.set('mqtt_flap', () => this.blocked.mqtt_flap ?? 0);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromBroker) => {
        if (m.t === 'frame') this.onFrame(m.frame);
        else if (m.t === 'ready') {
          this.portsSeen = m.ports;
          this.running = true;
          resolve();
        } else if (m.t === 'metric') metrics[m.name].inc(m.labels as never);
        else if (m.t === 'blocked') this.blocked = m.sources;
        else if (m.t === 'failed') {
          this.running = false;
          reject(new Error(`broker thread: ${m.message}`));
        }
      });
      worker.once('error', (err) => {
        this.running = false;
        log.error({ err }, 'broker thread failed');
        reject(err);
      });
      worker.once('exit', (code) => {
        this.running = false;
        if (!this.stopping) log.error({ code }, 'broker thread exited');
        reject(new Error(`broker thread exited (${code})`));
      });
    });
  }

  /** One turn of the broker thread: every message to ingest, in order. */
  private onFrame(frame: ArrayBuffer): void {
    const { directory, repo, ingest, metrics, log } = this.deps;
    readFrame(frame, (r) => {
      let device: DeviceInfo | undefined;
      try {
        device = findDevice({ directory, repo }, r.deviceId);
      } catch (err) {
        log.error({ err, deviceId: r.deviceId }, 'device lookup failed');
      }
      if (r.type === Rec.Publish) {
        if (!device) {
          // Authenticated there, unknown here: not expected (both read the same inventories and store).
          log.error({ deviceId: r.deviceId }, 'broker thread sent a message of a device not found here; not acknowledged');
          if (r.seq) this.ack(r.seq, new Error('device not found'));
          return;
        }
        const seq = r.seq;
        ingest.submit(device, r.topic, r.payload, r.qos, seq ? (err) => this.ack(seq, err) : noop);
      } else if (device) {
        if (r.type === Rec.Connected) metrics.connectedDevices.inc();
        else metrics.connectedDevices.dec();
        ingest.markConnected(device.id, r.type === Rec.Connected);
      }
    });
  }

  private ack(seq: number, err?: Error): void {
    if (err) this.failed.push([seq, err.message]);
    else this.acks.push(seq);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    // Ingest acknowledges a turn's QoS 1 messages together after their inbox commit: one message back for all.
    queueMicrotask(() => this.sendAcks());
  }

  private sendAcks(): void {
    this.ackScheduled = false;
    if (!this.worker || (!this.acks.length && !this.failed.length)) return;
    const ok = Uint32Array.from(this.acks);
    const m: ToBroker = { t: 'acks', ok, failed: this.failed };
    this.acks = [];
    this.failed = [];
    this.worker.postMessage(m, [ok.buffer]);
  }

  publish(device: DeviceInfo, channel: DeviceChannel, body: string): void {
    this.worker?.postMessage({ t: 'publish', deviceId: device.id, channel, body } satisfies ToBroker);
  }

  /** MQTT over WebSocket on the API's port is not served in this mode (the broker's own wsPort is). */
  attachTo(_server: HttpServer): void {
    this.deps.log.info('mqtt.thread: MQTT over WebSocket is served on mqtt.wsPort only, not on the API port');
  }

  setSecureContext(context: SecureContextOptions): void {
    this.worker?.postMessage({ t: 'tls', context } satisfies ToBroker);
  }

  get ports(): { mqtt: number; mqtts: number | null; ws: number | null } {
    return this.portsSeen;
  }

  get up(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopping ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('exit', done);
      worker.on('message', (m: FromBroker) => {
        if (m.t === 'stopped' || m.t === 'failed') void worker.terminate();
      });
      this.sendAcks();
      worker.postMessage({ t: 'stop' } satisfies ToBroker);
    });
    await this.stopping;
    this.running = false;
  }
}

function noop(): void {}
