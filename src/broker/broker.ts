// The embedded MQTT broker (aedes) on TCP and WebSocket. Every hook denies what it does not know: aedes' own
// defaults let everyone in and allow everything, ours authenticate against hashed secrets and allow a device
// only its own topics (CONTRACT.md "MQTT (devices)").
import { createServer, type Server } from 'node:net';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer, type SecureContextOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Directory, DeviceInfo } from '../config/inventory.js';
import type { DevicesRepo } from '../store/store.js';
import type { DeviceInbound, DeviceTransport, DeviceChannel } from '../transport/transport.js';
import type { Metrics } from '../metrics.js';
import { MqttAuthGuard, addressOf } from './authGuard.js';
import { ConnectionGuard } from './connectionGuard.js';
import { OPERATOR_USERNAME, checkCredentials, mayPublish, maySubscribe, type Principal, type Verdict } from './access.js';

export { OPERATOR_USERNAME } from './access.js';

export interface BrokerDeps {
  directory: Directory;
  /** Devices provisioned while running (a CONNECT from a username the directory lacks). */
  repo: Pick<DevicesRepo, 'find'>;
  /** Where device messages go (ingest); acknowledged to the device once `submit`'s ack runs. */
  ingest: DeviceInbound;
  log: Logger;
  metrics: Metrics;
  /** maxPacketBytes: the largest MQTT packet taken from an authenticated client (connectionGuard.ts). */
  settings: { host: string; port: number; wsPort: number | null; maxPacketBytes: number; fairReads: { turnBytes: number; socketBytes: number }; tlsPort?: number | null };
  /** The certificate for MQTT over TLS (settings.tlsPort) and, when `wsTls`, for the own WebSocket port. */
  tls?: { context: SecureContextOptions; handshakeTimeoutMs: number; wsTls: boolean };
  adminToken?: string;
}

const identities = new WeakMap<Client, Principal>();

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export class Broker implements DeviceTransport {
  readonly name = 'mqtt (embedded aedes)';
  aedes!: Aedes;
  private tcp?: Server;
  private wsOwn?: WebSocketServer;
  private wsShared!: WebSocketServer;
  private wsOwnServer?: HttpServer;
  private tlsServer?: TlsServer;
  /** Failed-CONNECT backoff, bans and the flap ban (src/broker/authGuard.ts). */
  readonly guard: MqttAuthGuard;
  /** What a connection can make the broker hold (src/broker/connectionGuard.ts). */
  private connGuard!: ConnectionGuard;

  constructor(private readonly deps: BrokerDeps) {
    this.guard = new MqttAuthGuard(deps.metrics);
  }

  /** Hand a connection to aedes behind the guard that bounds what it can make us hold (connectionGuard.ts). */
  private take(conn: Duplex, req?: IncomingMessage): void {
    this.aedes.handle(conn, req);
    this.connGuard.attach(conn);
  }

  async start(): Promise<void> {
    const { log, metrics, ingest } = this.deps;
    this.connGuard = new ConnectionGuard({
      maxPacketBytes: this.deps.settings.maxPacketBytes,
      ...this.deps.settings.fairReads,
      onRefused: (conn, reason) => {
        metrics.authFailures.inc({ reason });
        const remote = (conn as Duplex & { remoteAddress?: string }).remoteAddress;
        log.warn({ reason, remote }, 'mqtt connection closed: it tried to make the broker hold more than it may');
      },
    });
    // One WebSocket message carries MQTT bytes; ws would otherwise take frames of up to 100 MiB whole.
    this.wsShared = new WebSocketServer({ noServer: true, maxPayload: this.deps.settings.maxPacketBytes + 16 });
    this.aedes = await Aedes.createBroker({
      id: 'shaobing',
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        const who = client ? identities.get(client) : undefined;
        // aedes passes client === null for a last-will message published on a dead client's behalf;
        // devices have no business publishing wills, so those are refused like any unknown publisher.
        if (!who || !('device' in who)) {
          metrics.authFailures.inc({ reason: 'publish_denied' });
          return done(new Error('not authorized to publish'));
        }
        if (!mayPublish(who, packet.topic)) {
          metrics.authFailures.inc({ reason: 'publish_denied' });
          log.warn({ deviceId: who.device.id, topic: packet.topic }, 'device published outside its uplink topic; disconnecting');
          return done(new Error('not authorized to publish'));
        }
        ingest.submit(who.device, packet.topic, packet.payload as Buffer, packet.qos, done);
      },
      authorizeSubscribe: (client, sub, done) => {
        const who = identities.get(client);
        const allowed = who !== undefined && maySubscribe(who, sub.topic);
        if (!allowed) {
          metrics.authFailures.inc({ reason: 'subscribe_denied' });
          log.warn({ clientId: client.id, topic: sub.topic }, 'subscription outside the allowed topics; disconnecting');
          return done(new Error('not authorized to subscribe'));
        }
        done(null, sub);
      },
      // Nothing is forwarded to a device except its own topics (subscribe ACL above already guarantees it).
    });
    this.aedes.on('clientReady', (client) => {
      this.connGuard.connected(client.conn as Duplex);
      const who = identities.get(client);
      if (who && 'device' in who) {
        metrics.connectedDevices.inc();
        ingest.markConnected(who.device.id, true);
      }
    });
    this.aedes.on('clientDisconnect', (client) => {
      const who = identities.get(client);
      if (who && 'device' in who) {
        this.guard.disconnected(client, who.device.id);
        metrics.connectedDevices.dec();
        ingest.markConnected(who.device.id, false);
      }
    });
    this.aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    // Refused by aedes before authentication: MQTT 5 (and 3.1 with a long id) get CONNACK 1/2, keep-alive 6.
    this.aedes.on('connectionError', (client, err) => {
      const code = (err as Error & { errorCode?: number }).errorCode;
      if (code === 1) this.logRefusal({ reason: 'protocol_version', ip: addressOf(client) }, 'mqtt connect refused: unacceptable protocol version (MQTT 3.1.1 only; MQTT 5 is not supported)');
      else if (code) this.logRefusal({ reason: 'connect_refused', returnCode: code, ip: addressOf(client) }, `mqtt connect refused: ${err.message}`);
      else log.debug({ err: err.message, ip: addressOf(client) }, 'mqtt connection error before CONNECT');
    });

    this.tcp = createServer((socket) => this.take(socket));
    await listen(this.tcp, this.deps.settings.port, this.deps.settings.host);
    const tls = this.deps.tls;
    const tlsPort = this.deps.settings.tlsPort ?? null;
    if (tlsPort !== null) {
      if (!tls) throw new Error('mqtt.tlsPort is set but no certificate was given (tls.cert, tls.key)');
      // The same guard and hooks as plain TCP, once the handshake is done; a handshake left hanging is dropped.
      this.tlsServer = createTlsServer({ ...tls.context, handshakeTimeout: tls.handshakeTimeoutMs, ALPNProtocols: ['mqtt'] }, (socket) => this.take(socket));
      this.tlsServer.on('tlsClientError', (err, socket) => log.debug({ err: err.message, address: socket.remoteAddress }, 'mqtt tls handshake failed'));
      await listen(this.tlsServer, tlsPort, this.deps.settings.host);
    }
    if (this.deps.settings.wsPort !== null) {
      const { createServer: createHttp } = await import('node:http');
      const { createServer: createHttps } = await import('node:https');
      const notFound = (_req: IncomingMessage, res: import('node:http').ServerResponse) => res.writeHead(404).end();
      this.wsOwnServer = (tls?.wsTls ? createHttps({ ...tls.context, handshakeTimeout: tls.handshakeTimeoutMs }, notFound) : createHttp(notFound)) as HttpServer;
      this.wsOwn = new WebSocketServer({ server: this.wsOwnServer, path: '/mqtt', maxPayload: this.deps.settings.maxPacketBytes + 16 });
      this.wsOwn.on('connection', (ws, req) => this.handleWs(ws, req));
      await listen(this.wsOwnServer, this.deps.settings.wsPort, this.deps.settings.host);
    }
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const { directory, repo, metrics, log, adminToken } = this.deps;
    // Throttled before any secret is checked; a failure is counted, and its refusal held back a while.
    const ip = addressOf(client);
    const name = username ?? '';
    const throttled = this.guard.refuse(name, ip);
    if (throttled) {
      this.logRefusal({ reason: 'throttled', clientId: client.id, username, ip }, `mqtt connect refused: ${throttled}`);
      return done(authError(3, throttled), false);
    }
    const refuse = (code: 2 | 4, message: string) => {
      const hold = this.guard.failed(name, ip);
      if (hold > 0) setTimeout(() => done(authError(code, message), false), hold).unref();
      else done(authError(code, message), false);
    };
    let verdict: Verdict;
    try {
      verdict = checkCredentials({ directory, repo, adminToken }, username, password, client.id);
    } catch (err) {
      // A hook that throws would take the whole broker down: refuse this client instead.
      log.error({ err, clientId: client.id }, 'device lookup failed during connect');
      return done(authError(3, 'Server unavailable'), false);
    }
    if (!verdict.ok) {
      metrics.authFailures.inc({ reason: verdict.reason });
      const what =
        verdict.reason === 'client_id' ? 'client id must equal the device id' : username === OPERATOR_USERNAME ? 'bad operator password' : 'bad username or password';
      this.logRefusal({ reason: verdict.reason, clientId: client.id, username, ip }, `mqtt connect refused: ${what}`);
      return refuse(verdict.returnCode, verdict.message);
    }
    this.guard.succeeded(name, ip, 'device' in verdict.who, client);
    identities.set(client, verdict.who);
    done(null, true);
  }

  /** A refused CONNECT, logged (warn) — at most one line per reason and address every 10 s, with how many
   *  were left out since, so a reconnect storm cannot flood the log. Device ids, never a secret. */
  private readonly refusalsLogged = new Map<string, { at: number; skipped: number }>();
  private logRefusal(fields: Record<string, unknown>, msg: string): void {
    const key = `${String(fields.reason)}|${String(fields.ip)}|${String(fields.username ?? '')}`;
    const now = Date.now();
    const last = this.refusalsLogged.get(key);
    if (last && now - last.at < 10_000) {
      last.skipped++;
      return;
    }
    if (this.refusalsLogged.size > 10_000) this.refusalsLogged.clear();
    this.refusalsLogged.set(key, { at: now, skipped: 0 });
    this.deps.log.warn({ ...fields, ...(last?.skipped ? { alsoRefusedSinceLastLine: last.skipped } : {}) }, msg);
  }

  private handleWs(ws: WebSocket, req: IncomingMessage): void {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => stream.destroy());
    this.take(stream, req);
  }

  /** Serve MQTT over WebSocket at /mqtt on an existing HTTP server (the API's). */
  attachTo(server: HttpServer): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url || new URL(req.url, 'http://x').pathname !== '/mqtt') return;
      this.wsShared.handleUpgrade(req, socket, head, (ws) => this.handleWs(ws, req));
    });
  }

  /** CONTRACT.md: a device's channels are topics under iot/<community>/<device>/ (`errors`: QoS 0). */
  publish(device: DeviceInfo, channel: DeviceChannel, body: string): void {
    this.aedes.publish(
      { cmd: 'publish', topic: `iot/${device.communityId}/${device.id}/${channel}`, payload: Buffer.from(body), qos: 0, retain: false, dup: false },
      (err) => {
        if (err) this.deps.log.warn({ err, deviceId: device.id, channel }, 'could not publish to the device');
      },
    );
  }

  /** A new certificate for handshakes from now on; connections already open keep theirs. */
  setSecureContext(context: SecureContextOptions): void {
    this.tlsServer?.setSecureContext(context);
    if (this.deps.tls?.wsTls && this.wsOwnServer) (this.wsOwnServer as unknown as TlsServer).setSecureContext(context);
  }

  get ports(): { mqtt: number; mqtts: number | null; ws: number | null } {
    return {
      mqtt: (this.tcp?.address() as AddressInfo | null)?.port ?? 0,
      mqtts: this.tlsServer ? ((this.tlsServer.address() as AddressInfo | null)?.port ?? null) : null,
      ws: this.wsOwnServer ? ((this.wsOwnServer.address() as AddressInfo).port ?? null) : null,
    };
  }

  get up(): boolean {
    return !!this.tcp?.listening && !this.aedes.closed;
  }

  async stop(): Promise<void> {
    // Stop accepting, then close every client (aedes.close ends their streams), then wait for the listeners.
    const tcpClosed = new Promise<void>((resolve) => (this.tcp?.listening ? this.tcp.close(() => resolve()) : resolve()));
    const tlsClosed = new Promise<void>((resolve) => (this.tlsServer?.listening ? this.tlsServer.close(() => resolve()) : resolve()));
    for (const c of this.wsShared.clients) c.terminate();
    if (this.wsOwn) for (const c of this.wsOwn.clients) c.terminate();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await tcpClosed;
    await tlsClosed;
    if (this.wsOwnServer) await new Promise<void>((resolve) => this.wsOwnServer!.close(() => resolve()));
  }
}

function listen(server: Server | HttpServer | TlsServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
