// MQTT CONNECT throttles (issue 12), consulted by Broker.authenticate before any secret is checked.
//
//  - Wrong credentials for one user name from one address (a guesser, or a device with an old secret): 5 tries,
//    then each failure is answered later and later (1 s, 2 s, 3 s: the CONNACK is held back) and attempts inside
//    the backoff are refused at once with "server unavailable", up to a 1 min wait; from 30 failures the pair is
//    refused for 15 min.
//  - Wrong credentials from one address for any user name: 50 (NB-IoT devices reach us through carrier NAT, many
//    behind one address), then a backoff up to 30 s, and from 500 failures the address is refused for 15 min.
//  - Flapping (a device that connects successfully again and again): a session that lasts a minute, or a
//    minute without connecting, makes a device stable again; from 20 short sessions in a row it waits 1 s,
//    2 s … up to 5 min between connects, and from 50 it is refused for 10 min. A reconnect storm is then
//    refused before its secret is hashed or its session taken over, so it cannot starve the other devices.
// Refusals are counted in shaobing_auth_throttled_total{surface="mqtt"|"mqtt_flap"}; the keys refused right now
// in shaobing_auth_blocked.
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import { Throttle, type ThrottlePolicy } from '../throttle.js';
import type { Metrics } from '../metrics.js';

const MIN = 60_000;
export const MQTT_PAIR: ThrottlePolicy = { free: 5, baseMs: 1000, capMs: MIN, banAfter: 30, banMs: 15 * MIN, forgetMs: 15 * MIN };
export const MQTT_ADDRESS: ThrottlePolicy = { free: 50, baseMs: 1000, capMs: 30_000, banAfter: 500, banMs: 15 * MIN, forgetMs: 15 * MIN };
export const MQTT_FLAP: ThrottlePolicy = { free: 20, baseMs: 1000, capMs: 5 * MIN, banAfter: 50, banMs: 10 * MIN, forgetMs: MIN };
/** A session at least this long is not flapping. */
export const STABLE_SESSION_MS = MIN;
/** The longest a failed CONNECT is held before its CONNACK (a slow answer costs the guesser, not us: a timer). */
export const MAX_TARPIT_MS = 3000;

/** The client's address: the TCP (or TLS) socket's, or the HTTP upgrade's for MQTT over WebSocket. */
export function addressOf(client: Client): string {
  return (client.conn as Partial<Socket>).remoteAddress ?? client.req?.socket.remoteAddress ?? 'unknown';
}

export class MqttAuthGuard {
  readonly pair: Throttle;
  readonly address: Throttle;
  readonly flap: Throttle;
  private readonly since = new WeakMap<Client, number>();

  constructor(
    private readonly metrics: Pick<Metrics, 'authThrottled' | 'blockedSources'>,
    private readonly opts: { now?: () => number } = {},
  ) {
    this.pair = new Throttle(MQTT_PAIR, opts);
    this.address = new Throttle(MQTT_ADDRESS, opts);
    this.flap = new Throttle(MQTT_FLAP, opts);
    metrics.blockedSources.set('mqtt', () => this.pair.blocked() + this.address.blocked());
    metrics.blockedSources.set('mqtt_flap', () => this.flap.blocked());
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Before the secret is checked: a reason to refuse this CONNECT now, or undefined to go on. */
  refuse(username: string, ip: string): string | undefined {
    if (this.pair.wait(`${username}\n${ip}`) > 0 || this.address.wait(ip) > 0) {
      this.metrics.authThrottled.inc({ surface: 'mqtt' });
      return 'too many failed connects; try again later';
    }
    if (this.flap.wait(username) > 0) {
      this.metrics.authThrottled.inc({ surface: 'mqtt_flap' });
      return 'reconnecting too often; try again later';
    }
    return undefined;
  }

  /** A failed CONNECT: counted; answers how long to hold its refusal back. */
  failed(username: string, ip: string): number {
    const wait = Math.max(this.pair.attempt(`${username}\n${ip}`), this.address.attempt(ip));
    return Math.min(wait, MAX_TARPIT_MS);
  }

  /**
   * A CONNECT that passed: forget the pair's failures, take this one back from the address; a device's session
   * is counted for flapping (the operator's logins are not: several recorders may share the name).
   */
  succeeded(username: string, ip: string, device: boolean, client?: Client): void {
    this.pair.succeed(`${username}\n${ip}`, 'reset');
    this.address.succeed(ip, 'undo');
    if (!device) return;
    this.flap.attempt(username);
    // The embedded broker sees the session end (disconnected); through an external broker's hook only the
    // connects are seen, and a minute without one makes the device stable again.
    if (client) this.since.set(client, this.now());
  }

  /** The session ended: a long one makes the device stable again. */
  disconnected(client: Client, deviceId: string): void {
    const t = this.since.get(client);
    if (t !== undefined && this.now() - t >= STABLE_SESSION_MS) this.flap.succeed(deviceId, 'reset');
  }
}
