// A simulated device: the canonical payloads of its kind (kept in the kind's small state: battery, register,
// occupancy), encoded into its vendor format's bytes, published as a real MQTT client with the device's own
// credentials — clientId = username = device id, password = its secret, topic iot/{communityId}/{deviceId}/up
// (CONTRACT.md "MQTT (devices)").
//
// Producing a message (`message()`) is pure and synchronous, so the community simulator can generate a day
// without a network; `connect()` + `send()` put the same bytes on the wire.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { CanonicalPayload } from '../../src/ingest/types.js';
import { findEncoder, type Encoder } from './encoders/index.js';
import { isoCst } from '../lib/time.js';

export interface DeviceIdentity {
  id: string;
  kind: string;
  format: string;
  communityId: string;
  householdId?: string;
  spaceId?: string;
  gateId?: string;
  buildingId?: string;
  area?: string;
  heartbeatSeconds?: number;
  /** A gate camera's configured lane (src/config/inventory.ts laneOfCamera). */
  lane?: { name?: string; direction: 'in' | 'out' };
}

/** One uplink, ready to publish: when (event time), where, the canonical meaning and the vendor bytes. */
export interface SimMessage {
  /** Event time, epoch ms. */
  t: number;
  deviceId: string;
  topic: string;
  canonical: CanonicalPayload;
  payload: Buffer;
  /** false when the bytes carry no time (the service stamps them on receipt). */
  carriesTime: boolean;
}

export type HelperArgs = Record<string, unknown>;
/** A named payload builder for scenario files: `helper: alarm` on a smoke detector, `helper: park` on a sensor. */
export type Helper = (t: number, args: HelperArgs) => CanonicalPayload;

export function uplinkTopic(d: { communityId: string; id: string }): string {
  return `iot/${d.communityId}/${d.id}/up`;
}

/**
 * One device's MQTT connection: its own credentials, its own uplink topic. The simulators build on it; the
 * replayer uses it as is, since recorded bytes need no encoder.
 */
export class DeviceClient {
  readonly topic: string;
  private client?: MqttClient;

  constructor(readonly info: { id: string; communityId: string; kind?: string }) {
    this.topic = uplinkTopic(info);
  }

  /** Connect with the device's own credentials; resolves on CONNACK, rejects on refusal. */
  connect(url: string, secret: string, extra: IClientOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(url, {
        clientId: this.info.id,
        username: this.info.id,
        password: secret,
        protocolVersion: 4, // MQTT 3.1.1: the embedded broker speaks 3.1.1 (README "Limits")
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ...extra,
      });
      const fail = (err: Error) => {
        client.end(true);
        reject(new Error(`${this.info.id}: MQTT connect failed: ${err.message}`));
      };
      client.once('error', fail);
      client.once('connect', () => {
        client.off('error', fail);
        client.on('error', () => {}); // later errors show up as failed publishes
        this.client = client;
        resolve();
      });
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Publish bytes on the device's uplink; with QoS 1 resolves on PUBACK (shaobing: durably stored). */
  publish(payload: Buffer, qos: 0 | 1 = 1): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error(`${this.info.id}: not connected`));
    return new Promise((resolve, reject) => client.publish(this.topic, payload, { qos }, (err) => (err ? reject(err) : resolve())));
  }

  /** Subscribe to this device's errors topic (rejections are answered there). */
  onErrors(fn: (body: string) => void): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error(`${this.info.id}: not connected`));
    const topic = `iot/${this.info.communityId}/${this.info.id}/errors`;
    client.on('message', (t, payload) => {
      if (t === topic) fn(payload.toString('utf8'));
    });
    return new Promise((resolve, reject) => client.subscribe(topic, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
  }

  /** Drop the connection (a gateway outage, a dead battery): no DISCONNECT packet is sent when `abrupt`. */
  async disconnect(abrupt = false): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => client.end(abrupt, {}, () => resolve()));
  }
}

export abstract class SimulatedDevice extends DeviceClient {
  readonly encoder: Encoder;
  /** Per-device message counter (Vzenith plateid, heartbeat countid). */
  seq = 0;
  batteryPct = 100;
  rssi = -90;
  /** Format options passed to the encoder (e.g. `{ hexText: true }`). */
  encodeOptions: Record<string, unknown> = {};
  /**
   * Virtual time → the time written into messages. Identity on the event clock; the wall-clock demo maps a
   * faster virtual day onto real time so no message is stamped in the future.
   */
  stamp: (t: number) => number = (t) => t;

  constructor(override readonly info: DeviceIdentity) {
    super(info);
    const encoder = findEncoder(info.kind, info.format);
    if (!encoder) throw new Error(`no encoder for ${info.kind} format '${info.format}'`);
    this.encoder = encoder;
  }

  /** The named payload builders this kind offers to scenario files. */
  abstract readonly helpers: Record<string, Helper>;

  /** Canonical event time as Chinese devices write it. */
  protected ts(t: number): string {
    return isoCst(this.stamped(t));
  }

  /** `stamp(t)` in whole milliseconds (canonical epoch-ms times are integers). */
  protected stamped(t: number): number {
    return Math.round(this.stamp(t));
  }

  /** Encode a canonical payload into this device's bytes. */
  message(t: number, canonical: CanonicalPayload): SimMessage {
    this.seq++;
    const payload = this.encoder.encode(canonical, { deviceId: this.info.id, seq: this.seq, options: this.encodeOptions, lane: this.info.lane });
    return { t, deviceId: this.info.id, topic: this.topic, canonical, payload, carriesTime: this.encoder.carriesTime };
  }

  /**
   * Run a named helper: the scenario runner's `helper: <name>`. Every helper also takes `batteryPct` and
   * `rssi`, which change the device's battery or signal from then on (a battery swap, a weak spot).
   */
  helper(name: string, t: number, args: HelperArgs = {}): SimMessage {
    const h = this.helpers[name];
    if (!h) throw new Error(`${this.info.kind} has no helper '${name}' (known: ${Object.keys(this.helpers).join(', ')})`);
    if (typeof args.batteryPct === 'number') this.batteryPct = args.batteryPct;
    if (typeof args.rssi === 'number') this.rssi = args.rssi;
    return this.message(t, h(t, args));
  }

  /** Build and publish one message. */
  async send(t: number, canonical: CanonicalPayload, qos: 0 | 1 = 1): Promise<SimMessage> {
    const m = this.message(t, canonical);
    await this.publish(m.payload, qos);
    return m;
  }
}
