// Device traffic through an external MQTT broker (issue 16): shaobing connects to the broker (EMQX 5 in
// production, mosquitto 2 in the tests) as an MQTT 5 client, takes the uplinks of the communities it owns, and
// publishes devices' errors (and downlinks) back through it. The broker authenticates devices and enforces the
// topic ACL (EMQX: src/api/brokerHooks.ts; mosquitto: its password and ACL files).
//
// One persistent session per community, not a shared subscription. The session `shaobing-c-<community>` (clean
// start off, a long session expiry) subscribes to iot/<community>/+/up at QoS 1, and only the community's owner
// connects with it (the lease, src/cluster/ownership.ts; the broker's client-id takeover is a second guard).
// When the owner dies, the broker keeps the session: messages it had sent and not had acknowledged stay in it and
// are sent again (DUP) to whoever resumes the session — the next owner — and messages arriving meanwhile are
// queued there. With a shared subscription, what becomes of a dead member's in-flight messages is up to the
// broker (MQTT 5 §4.8.2 "MAY"/"SHOULD"): mosquitto 2.0 drops them (tried: a member killed with five unacknowledged
// messages, none reached the other member), so an acknowledged device message could be lost.
//
// A QoS 1 message is acknowledged to the broker only after it is in the inbox: mqtt.js's customHandleAcks hands
// it to ingest, and its PUBACK goes out from ingest's commit callback. If the commit fails, no PUBACK: the
// connection is dropped so that the broker sends the message again on the reconnect. mqtt.js reads a connection's
// next packet only once the previous one is acknowledged, so each community's session has one message in
// ingest at a time (throughput per community is bounded by the inbox commit latency). At most one message per
// community can be committed and not yet acknowledged when an instance dies; each uplink goes to ingest with its
// delivery (session, packet id, DUP), which the commit records, so the redelivery of that message to the
// session's next holder is acknowledged without being processed again (src/ingest/pipeline.ts "Exactly once").
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { DeviceInfo } from '../config/inventory.js';
import type { Delivery, DeviceInbound, DeviceTransport } from './transport.js';

export interface ExternalBrokerOptions {
  /** mqtt://host:1883 or mqtts://… */
  url: string;
  username: string;
  password: string;
  inbound: DeviceInbound;
  /** The device an uplink topic names (id → device; the directory, then the store). */
  deviceOf(deviceId: string): DeviceInfo | undefined;
  log: Logger;
  /** Session client ids are `<prefix><communityId>`; the publisher's `<prefix>pub-<instance>`. */
  clientIdPrefix?: string;
  /** How long the broker keeps a community's session while nobody holds it. */
  sessionExpirySeconds?: number;
  /** This instance's name, for the publisher's client id. */
  instanceId?: string;
  connectTimeoutMs?: number;
  reconnectMs?: number;
  /** Failpoint (crash tests): hold uplinks before ingest, unacknowledged. */
  hold?: () => boolean;
  /** Failpoint (crash tests): never send the PUBACK of a committed uplink (a crash between commit and PUBACK). */
  holdAck?: () => boolean;
}

export const uplinkFilter = (communityId: string) => `iot/${communityId}/+/up`;

/** A community's session held here: its connection, and the uplink in ingest (one at a time: see above). */
interface Session {
  client?: MqttClient;
  /** Being handed over: take nothing more, let the one in ingest be acknowledged, then disconnect. */
  draining: boolean;
  inIngest: number;
  drained?: () => void;
}

/** How long a handover waits for the uplink in ingest to be committed and acknowledged. */
const DRAIN_MS = 5000;

export class ExternalBroker implements DeviceTransport {
  readonly name = 'mqtt (external broker)';
  private publisher?: MqttClient;
  private readonly sessions = new Map<string, Session>();
  private readonly prefix: string;

  constructor(private readonly opts: ExternalBrokerOptions) {
    this.prefix = opts.clientIdPrefix ?? 'shaobing-c-';
  }

  private options(clientId: string, extra: Partial<IClientOptions> = {}): IClientOptions {
    return {
      protocolVersion: 5,
      clientId,
      username: this.opts.username,
      password: this.opts.password,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      reconnectPeriod: this.opts.reconnectMs ?? 1000,
      ...extra,
    };
  }

  private connect(clientId: string, extra: Partial<IClientOptions> = {}, created?: (c: MqttClient) => void): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(this.opts.url, this.options(clientId, extra));
      created?.(c);
      const failed = (err: Error) => {
        c.end(true);
        reject(err);
      };
      c.once('error', failed);
      c.once('connect', () => {
        c.off('error', failed);
        c.on('error', (err) => this.opts.log.warn({ err: err.message, clientId }, 'external broker connection error'));
        resolve(c);
      });
    });
  }

  /** Connect the publisher (errors and downlinks to devices). */
  async start(): Promise<void> {
    const id = this.opts.instanceId ?? `${process.pid}`;
    this.publisher = await this.connect(`${this.prefix}pub-${id}`, { clean: true });
  }

  get up(): boolean {
    return !!this.publisher?.connected;
  }

  /** Communities whose session this instance holds. */
  attached(): string[] {
    return [...this.sessions.keys()];
  }

  /** Take a community's traffic: resume (or start) its persistent session and subscribe to its uplinks. */
  async attach(communityId: string): Promise<void> {
    if (this.sessions.has(communityId)) return;
    const clientId = `${this.prefix}${communityId}`;
    // The session's delivery records as its last holder committed them, before any redelivery can arrive.
    await this.opts.inbound.resume?.(clientId);
    if (this.sessions.has(communityId)) return;
    // Handlers first: a resumed session's queued messages come right after the CONNACK.
    const session: Session = { draining: false, inIngest: 0 };
    const own = () => session.client!;
    const connecting = this.connect(clientId, {
      clean: false,
      properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? 7 * 86400 },
      customHandleAcks: (topic, payload, packet, done) =>
        this.take(communityId, session, own, topic, payload, packet.qos, (code) => done(code), { session: clientId, packetId: packet.messageId ?? 0, dup: !!packet.dup }),
    }, (c) => {
      session.client = c;
      // QoS 0 uplinks skip customHandleAcks: they come as plain messages.
      c.on('message', (topic, payload, packet) => {
        if (packet.qos === 0) this.take(communityId, session, own, topic, payload, 0, () => {});
      });
    });
    this.sessions.set(communityId, session);
    try {
      session.client = await connecting;
    } catch (err) {
      this.sessions.delete(communityId);
      throw err;
    }
    await session.client.subscribeAsync(uplinkFilter(communityId), { qos: 1 });
    this.opts.log.info({ communityId, clientId }, 'external broker: community attached');
  }

  /**
   * Give a community's traffic up (another instance resumes the session; nothing queued is lost). The uplink in
   * ingest, if any, is committed and acknowledged first: disconnecting before its PUBACK went out would have the
   * broker send it again to the next holder, which — until the stores are shared — would process it a second
   * time. Uplinks arriving meanwhile are not taken (no PUBACK): the broker sends them to the next holder.
   */
  async detach(communityId: string): Promise<void> {
    const session = this.sessions.get(communityId);
    if (!session) return;
    session.draining = true;
    if (session.inIngest > 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_MS);
        session.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    this.sessions.delete(communityId);
    await session.client?.endAsync();
    this.opts.log.info({ communityId }, 'external broker: community detached');
  }

  private take(communityId: string, session: Session, client: () => MqttClient, topic: string, payload: Buffer, qos: number, ack: (code: number) => void, delivery?: Delivery): void {
    const { log, inbound } = this.opts;
    // Being handed over: not taken, not acknowledged; the next holder of the session gets it.
    if (session.draining) return;
    const parts = topic.split('/');
    const device = parts.length === 4 && parts[0] === 'iot' && parts[1] === communityId && parts[3] === 'up' ? this.opts.deviceOf(parts[2]) : undefined;
    if (!device || device.communityId !== communityId) {
      // The broker let it through, but it is no device of this community's: acknowledged and dropped, so it cannot
      // block the session (the broker's password file and ACL should not have allowed it).
      log.warn({ communityId, topic }, 'external broker: uplink from an unknown device dropped');
      return ack(0);
    }
    if (this.opts.hold?.()) {
      log.warn({ communityId, topic }, 'failpoint externalBroker.hold: uplink held before the inbox, not acknowledged');
      return;
    }
    session.inIngest++;
    inbound.submit(device, topic, payload, qos, (err) => {
      if (--session.inIngest === 0) queueMicrotask(() => session.drained?.());
      if (!err) {
        if (this.opts.holdAck?.()) return void log.warn({ communityId, topic }, 'failpoint externalBroker.holdAck: uplink committed, PUBACK held');
        return ack(0);
      }
      // Not in the inbox: no PUBACK. Drop the connection so the broker sends it again when it is back.
      log.error({ err: err.message, communityId }, 'external broker: inbox commit failed; reconnecting without acknowledging');
      (client() as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    }, qos > 0 ? delivery : undefined);
  }

  /** A device's channel (`errors`, `down`) through the broker; QoS 0, best effort like the embedded broker. */
  publish(device: DeviceInfo, channel: 'errors' | 'down', body: string): void {
    this.publisher?.publish(`iot/${device.communityId}/${device.id}/${channel}`, body, { qos: 0 }, (err) => {
      if (err) this.opts.log.warn({ err: err.message, deviceId: device.id, channel }, 'could not publish to the device through the external broker');
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((c) => this.detach(c)));
    await this.publisher?.endAsync();
    this.publisher = undefined;
  }
}
