// The device transport seam: how devices' messages reach ingest and how shaobing speaks back to a device.
// The embedded aedes broker (src/broker/broker.ts) is the first implementation; an external broker (EMQX,
// Mosquitto bridged in) or a network server's webhook would be others. Ingest knows only DeviceInbound: it
// never imports the broker, aedes or any protocol.
import type { DeviceInfo } from '../config/inventory.js';

/** What ingest offers a transport (src/ingest/pipeline.ts Ingest implements it). */
export interface DeviceInbound {
  /**
   * One message from an authenticated device. `ack` is called once the message is committed to the durable
   * inbox (or with the error when it could not be): a transport acknowledges the device only then (MQTT QoS 1:
   * PUBACK after the commit), so nothing acknowledged is lost. `delivery`: where a transport that can be handed
   * the same message twice (an external broker's session, resumed after a crash) says which delivery this is.
   */
  submit(device: DeviceInfo, topic: string, payload: Buffer, qos: number, ack: (err?: Error) => void, delivery?: Delivery): void;
  /** The device's connection came up or went down (connection state, not liveness: see src/state/cadence.ts). */
  markConnected(deviceId: string, connected: boolean): void;
  /**
   * A transport is about to resume a persistent session (`Delivery.session`) that another instance may have
   * held: ingest makes the session's delivery records current first, so its redeliveries are recognised.
   */
  resume?(session: string): Promise<void>;
}

/**
 * A QoS 1 delivery from an external broker's persistent session. The broker sends a message it had sent and not
 * had acknowledged again, flagged DUP, to whoever resumes the session; one that was committed before the crash
 * is recognised by (session, packet id, hash of topic and payload) recorded in the commit, and acknowledged
 * without being processed again (src/ingest/pipeline.ts).
 */
export interface Delivery {
  session: string;
  packetId: number;
  dup: boolean;
}

/** Where a message to a device goes: its errors channel (why a payload was refused). */
export type DeviceChannel = 'errors';

/** A device transport: authenticates devices, hands their messages to ingest, publishes to them. */
export interface DeviceTransport {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Accepting devices. */
  readonly up: boolean;
  /** Publish to one device on one of its channels; best effort (a device offline misses it). */
  publish(device: DeviceInfo, channel: DeviceChannel, body: string): void;
}
