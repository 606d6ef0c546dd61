// buildApp(config) → an App whose start() brings up store, ingest, broker and API, and whose stop() takes
// them down in reverse. Importing this file starts nothing; the constructor only assigns.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import { Directory } from './config/inventory.js';
import { createLogger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { EventBus } from './bus.js';
import { createClock, type Clock } from './clock/clock.js';
import { openDb, type Db } from './store/db.js';
import { sqliteStore } from './store/sqlite/index.js';
import type { Store } from './store/store.js';
import { lockDataDir, type DataDirLock } from './store/lock.js';
import { DevicesRepo } from './store/devicesRepo.js';
import { DeviceStates } from './state/deviceState.js';
import { DeviceStatusBoard } from './state/deviceStatus.js';
import type { CadenceSettings } from './state/cadence.js';
import { Ingest } from './ingest/pipeline.js';
import { Broker } from './broker/broker.js';
import { buildApi } from './api/index.js';
import { Failpoints } from './failpoints.js';
import { deviceKinds } from '../devices/index.js';
import { createTelemetrySink, NoTelemetry, type TelemetrySink } from './telemetry/index.js';
import { RuleEngine } from './alerts/engine.js';
import { Notifier } from './notify/index.js';
import { Jobs } from './jobs/index.js';
import { ackApi } from './api/ack.js';
import { ingestApi } from './api/ingest.js';
import { brokerHooksApi } from './api/brokerHooks.js';
import { ExternalBroker } from './transport/externalBroker.js';
import { Ownership } from './cluster/ownership.js';
import { PgChannel } from './cluster/pgChannel.js';
import { ConnectionTracker, type ConnectionEvent } from './transport/connectionEvents.js';
import pg from 'pg';
import { findDevice } from './broker/access.js';
import { contactLinksApi } from './api/contactLinks.js';
import type { Server as TlsServer } from 'node:tls';
import { readTls, secureOptions } from './tls.js';
import { join } from 'node:path';
import { Snapshots } from './residents/snapshots.js';
import { snapshotLinksApi } from './api/snapshotLinks.js';
import { FilePhotoStore } from './residents/photos.js';
import { PhotosRepo } from './store/photosRepo.js';

export interface AppOptions {
  log?: Logger;
  /** Comma-separated failpoint names (crash tests only); default SHAOBING_FAILPOINTS. */
  failpoints?: string;
}

export class App {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly directory: Directory;
  db!: Db;
  store!: Store;
  states!: DeviceStates;
  devicesRepo!: DevicesRepo;
  ingest!: Ingest;
  /** Device traffic through an external MQTT broker (settings.externalBroker); absent = the embedded one only. */
  external?: ExternalBroker;
  /** Leases by community (settings.cluster). */
  ownership?: Ownership;
  private pgPool?: pg.Pool;
  /** Devices' connects and disconnects on an external broker (EMQX's events hook), applied in order. */
  private readonly connections = new ConnectionTracker();
  /** In a cluster: connection events to the instance that owns the device's community. */
  private connectionChannel?: PgChannel<ConnectionEvent>;
  broker!: Broker;
  api!: FastifyInstance;
  telemetry!: TelemetrySink;
  rules!: RuleEngine;
  notifier!: Notifier;
  /** Camera snapshots waiting to be stored (src/residents/snapshots.ts). */
  snapshots!: Snapshots;
  jobs?: Jobs;
  private started = false;
  /** SHA-256 fingerprint of the certificate served, when TLS is on. */
  tlsFingerprint?: string;
  private stopped = false;
  private lock?: DataDirLock;

  constructor(
    readonly config: Config,
    private readonly opts: AppOptions = {},
  ) {
    const s = config.settings;
    this.log = opts.log ?? createLogger({ level: s.log.level, format: s.log.format });
    this.metrics = createMetrics();
    this.bus = new EventBus(this.log);
    this.clock = createClock(s.clock);
    this.directory = new Directory(config.communities);
  }

  async start(): Promise<void> {
    const s = this.config.settings;
    // Before anything opens the store: a second instance on this data dir stops here (src/store/lock.ts).
    this.lock = lockDataDir(s.dataDir);
    this.db = openDb({ dataDir: s.dataDir, synchronous: s.store.synchronous });
    this.store = sqliteStore(this.db);
    this.devicesRepo = new DevicesRepo(this.db);
    for (const d of this.devicesRepo.all()) {
      if (this.directory.communities.has(d.communityId) && !this.directory.devices.has(d.id)) this.directory.addDevice(d);
    }
    this.states = new DeviceStates(this.store.deviceState);
    this.states.load();

    // TLS: the files were checked at load (src/config/load.ts); read here, and again on SIGHUP (reloadTls).
    const tlsOn = s.mqtt.tlsPort != null || s.http.tls;
    const tls = tlsOn ? readTls({ cert: s.tls.cert!, key: s.tls.key! }) : undefined;
    if (tls) this.tlsFingerprint = tls.fingerprint256;
    const failpoints = new Failpoints(this.opts.failpoints ?? process.env.SHAOBING_FAILPOINTS ?? '');
    this.broker = new Broker({
      directory: this.directory,
      repo: this.devicesRepo,
      ingest: undefined as never, // set below: the two refer to each other
      log: this.log.child({ component: 'broker' }),
      metrics: this.metrics,
      // A payload past maxPayloadBytes is still taken and kept as a payload_too_large rejection up to 64 KiB more;
      // a packet larger than that is refused at the parser and its connection closed.
      settings: { host: s.mqtt.host, port: s.mqtt.port, wsPort: s.mqtt.wsPort ?? null, maxPacketBytes: s.mqtt.maxPayloadBytes + 65536, fairReads: s.mqtt.fairReads, tlsPort: s.mqtt.tlsPort ?? null },
      tls: tls && { context: secureOptions(tls), handshakeTimeoutMs: s.tls.handshakeTimeoutSeconds * 1000, wsTls: s.http.tls },
      adminToken: s.adminToken,
    });
    this.ingest = new Ingest({
      db: this.db,
      directory: this.directory,
      kinds: deviceKinds,
      clock: this.clock,
      log: this.log.child({ component: 'ingest' }),
      bus: this.bus,
      metrics: this.metrics,
      states: this.states,
      failpoints,
      settings: { batchMax: s.ingest.batchMax, rejectionsMax: s.store.rejectionsMax, maxPayloadBytes: s.mqtt.maxPayloadBytes, stuckAfterSeconds: s.ingest.stuckAfterSeconds },
      publishError: (device, body) => {
        this.broker.publish(device, 'errors', body);
        this.external?.publish(device, 'errors', body);
      },
    });
    (this.broker as unknown as { deps: { ingest: Ingest } }).deps.ingest = this.ingest;
    // Before ingest starts: readings recovered from the inbox go to history too. A sink that cannot start is
    // logged and left out; ingest goes on without history.
    this.telemetry = createTelemetrySink({
      store: this.store,
      directory: this.directory,
      clock: this.clock,
      bus: this.bus,
      handlers: this.ingest.handlers,
      metrics: this.metrics,
      log: this.log.child({ component: 'telemetry' }),
      dataDir: s.dataDir,
      settings: s.telemetry,
      hold: () => failpoints.active('telemetry.afterCommit'),
    });
    await this.telemetry.start().catch((err) => {
      this.log.error({ err, sink: this.telemetry.name }, 'telemetry sink failed to start; ingest continues without history');
      this.telemetry = new NoTelemetry();
    });
    // Rules and alerts commit inside the ingest transaction, so the engine is ready before ingest replays its inbox.
    this.rules = new RuleEngine({
      store: this.store,
      directory: this.directory,
      kinds: deviceKinds,
      clock: this.clock,
      bus: this.bus,
      metrics: this.metrics,
      states: this.states,
      log: this.log.child({ component: 'rules' }),
      settings: s.rules,
      communities: this.config.communities,
    });
    // Notifications queue inside the alert's transaction, so the notifier hooks in before anything can fire.
    this.notifier = new Notifier({
      store: this.store,
      clock: this.clock,
      log: this.log.child({ component: 'notify' }),
      metrics: this.metrics,
      directory: this.directory,
      engine: this.rules,
      settings: s.notify,
      publicUrl: s.http.publicUrl,
      dataDir: s.dataDir,
      hold: () => failpoints.active('notify.afterCommit'),
      phoneCredentials: this.config.phoneCredentials,
    });
    this.notifier.start();
    this.rules.start();
    this.ingest.handlers.push(this.rules.handler);
    // Camera snapshots: stored through the photo store after each batch commits, attached to the alert they show.
    const photoStore = new FilePhotoStore(join(s.dataDir, 'photos'));
    this.snapshots = new Snapshots({
      engine: this.rules,
      store: photoStore,
      photos: new PhotosRepo(this.db),
      log: this.log.child({ component: 'snapshots' }),
    });
    this.ingest.handlers.push(this.snapshots.handler);
    this.ingest.start();
    await this.broker.start();
    if (s.externalBroker) {
      // Alone, this instance takes every community's traffic from the external broker; in a cluster, those whose
      // lease it holds (src/cluster/ownership.ts).
      const x = s.externalBroker;
      this.external = new ExternalBroker({
        url: x.url,
        username: x.username,
        password: x.password,
        clientIdPrefix: x.clientIdPrefix,
        sessionExpirySeconds: x.sessionExpirySeconds,
        inbound: this.ingest,
        deviceOf: (id) => findDevice({ directory: this.directory, repo: this.devicesRepo }, id),
        log: this.log.child({ component: 'external-broker' }),
        hold: () => failpoints.active('externalBroker.hold'),
        holdAck: () => failpoints.active('externalBroker.holdAck'),
      });
      await this.external.start();
      if (s.cluster) await this.startCluster(s.cluster, this.external);
      else for (const c of this.directory.communities.keys()) await this.external.attach(c);
    }

    // One notion of 正常 / 迟报 / 离线 for the API, the console and the digest, with device_offline's settings.
    const deviceStatus = new DeviceStatusBoard(this.directory, this.states, deviceKinds, (d) => this.rules.deviceRuleConfig<CadenceSettings>('device_offline', d));
    this.api = await buildApi({
      deviceStatus,
      store: this.store,
      directory: this.directory,
      states: this.states,
      devicesRepo: this.devicesRepo,
      kinds: deviceKinds,
      clock: this.clock,
      metrics: this.metrics,
      log: this.log,
      adminToken: s.adminToken,
      dataDir: s.dataDir,
      telemetry: this.telemetry,
      rules: { engine: this.rules, bus: this.bus, utcOffsetMinutes: s.notify.utcOffsetMinutes, publicUrl: s.http.publicUrl },
      health: () => ({ broker: this.broker.up, store: this.db.open, ingest: true, scheduler: this.rules.up }),
      backlog: () => this.ingest.backlog(),
      https: s.http.tls && tls ? { ...secureOptions(tls), handshakeTimeout: s.tls.handshakeTimeoutSeconds * 1000 } : undefined,
    }, [
      ackApi(this.rules, () => this.notifier.signingKey),
      contactLinksApi(() => this.notifier.phone),
      snapshotLinksApi({
        engine: this.rules,
        store: photoStore,
        signingKey: () => this.notifier.signingKey,
        reachesGridStaff: (dest, alert) => this.notifier.reachesGridStaff(dest, alert),
      }),
      ingestApi(this.ingest, { bodyLimit: 2 * 1048576 }),
      // EMQX 5 authentication/authorization hooks, only where configured (README "Running on EMQX").
      ...(s.brokerHooks ? [brokerHooksApi(s.brokerHooks, this.broker.guard, { connections: (e) => this.deviceConnection(e) })] : []),
    ]);
    this.broker.attachTo(this.api.server);
    await this.api.listen({ port: s.http.port, host: s.http.host });
    this.started = true;
    // Digest and retention (src/jobs): wall-clock schedules, computed on the injected clock; a failing run is logged.
    this.jobs = new Jobs({
      store: this.store,
      directory: this.directory,
      clock: this.clock,
      log: this.log.child({ component: 'jobs' }),
      settings: { utcOffsetMinutes: s.notify.utcOffsetMinutes, digest: s.notify.digest, rejectionsMax: s.store.rejectionsMax },
      notifier: this.notifier,
      deviceStatus,
    });
    this.jobs.start();
    // SIGHUP re-reads the certificate (a renewal); without TLS it is logged and ignored, never a stop.
    process.on('SIGHUP', this.onSighup);
    const ports = this.ports;
    this.log.info(
      { mqtt: ports.mqtt, mqtts: ports.mqtts ?? undefined, ws: ports.ws ?? `${ports.http}/mqtt`, http: ports.http, https: s.http.tls, clock: s.clock, communities: this.directory.communities.size, devices: this.directory.devices.size, tlsFingerprint256: this.tlsFingerprint },
      `shaobing listening: mqtt://${s.mqtt.host}:${ports.mqtt}${ports.mqtts !== null ? ` mqtts://${s.mqtt.host}:${ports.mqtts}` : ''} ${s.http.tls ? 'https' : 'http'}://${s.http.host}:${ports.http}`,
    );
  }

  private readonly onSighup = (): void => {
    this.reloadTls();
  };

  /**
   * Read the certificate and key again and serve them to every new TLS handshake (MQTT over TLS, HTTPS, WSS);
   * connections already open keep theirs. Files that cannot be read or do not match keep the old certificate.
   */
  reloadTls(): { ok: true; fingerprint256: string } | { ok: false; error: string } {
    const s = this.config.settings;
    if (!this.started || !(s.mqtt.tlsPort != null || s.http.tls)) {
      this.log.info('SIGHUP: no TLS configured; nothing to reload');
      return { ok: false, error: 'no TLS configured' };
    }
    let m;
    try {
      m = readTls({ cert: s.tls.cert!, key: s.tls.key! });
    } catch (err) {
      this.log.error({ err: (err as Error).message, fingerprint256: this.tlsFingerprint }, 'TLS reload failed; keeping the certificate in use');
      return { ok: false, error: (err as Error).message };
    }
    this.broker.setSecureContext(secureOptions(m));
    if (s.http.tls) (this.api.server as unknown as TlsServer).setSecureContext(secureOptions(m));
    this.log.info({ fingerprint256: m.fingerprint256, previous: this.tlsFingerprint, subject: m.subject, validTo: m.validTo }, 'TLS certificate reloaded');
    this.tlsFingerprint = m.fingerprint256;
    return { ok: true, fingerprint256: m.fingerprint256 };
  }

  /**
   * Ownership by community: attach a community's session when its lease is ours, detach it when the lease is
   * lost. Per community the steps run one after another, so a quick loss and regain cannot cross.
   * Not yet: the store stays this instance's SQLite (a PostgreSQL store is to follow), so jobs are not gated by
   * the leader lease and each instance's state covers only what it processed.
   */
  private async startCluster(c: { postgresUrl: string; leaseTtlMs: number; renewMs: number }, external: ExternalBroker): Promise<void> {
    const log = this.log.child({ component: 'cluster' });
    this.pgPool = new pg.Pool({ connectionString: c.postgresUrl, max: 4, connectionTimeoutMillis: Math.min(5000, c.leaseTtlMs / 2) });
    this.pgPool.on('error', (err) => log.warn({ err: err.message }, 'postgres connection lost'));
    const chains = new Map<string, Promise<void>>();
    const step = (community: string, fn: () => Promise<void>) => {
      const next = (chains.get(community) ?? Promise.resolve()).then(fn).catch((err) => log.error({ err, community }, 'attaching or detaching a community failed'));
      chains.set(community, next);
    };
    this.ownership = new Ownership({ pool: this.pgPool, communities: [...this.directory.communities.keys()], ttlMs: c.leaseTtlMs, renewMs: c.renewMs, log });
    this.ownership.on('acquired', (name) => {
      if (name.startsWith('community:')) step(name.slice(10), () => external.attach(name.slice(10)));
    });
    this.ownership.on('lost', (name) => {
      if (name.startsWith('community:')) step(name.slice(10), () => external.detach(name.slice(10)));
    });
    await this.ownership.start();
    // Connection events reported to any instance reach the owner of the device's community.
    this.connectionChannel = new PgChannel<ConnectionEvent>({
      connectionString: c.postgresUrl,
      pool: this.pgPool,
      channel: 'shaobing_device_connections',
      log,
      onMessage: (e) => {
        const d = typeof e?.deviceId === 'string' ? this.directory.devices.get(e.deviceId) : undefined;
        if (d && this.ownership?.owns(d.communityId)) this.applyConnection(e);
      },
    });
    await this.connectionChannel.start();
    log.info({ instance: this.ownership.id, owned: this.ownership.owned() }, 'cluster: leases taken');
  }

  /** A device's connect or disconnect reported by EMQX: applied here, or in a cluster by its community's owner. */
  private deviceConnection(e: ConnectionEvent): boolean {
    const channel = this.connectionChannel;
    if (!channel) return this.applyConnection(e);
    channel.send(e).catch((err) => this.log.warn({ err: (err as Error).message, deviceId: e.deviceId }, 'could not pass a connection event to the cluster'));
    return true;
  }

  private applyConnection(e: ConnectionEvent): boolean {
    if (!this.connections.accept(e)) return false;
    this.ingest.markConnected(e.deviceId, e.connected);
    return true;
  }

  get ports(): { mqtt: number; mqtts: number | null; ws: number | null; http: number } {
    return { ...this.broker.ports, http: (this.api.server.address() as AddressInfo | null)?.port ?? 0 };
  }

  /** Stop whatever started — also after a start that failed half-way (a port in use, a bad destination). */
  async stop(): Promise<void> {
    if (this.stopped || !this.lock) return;
    this.stopped = true;
    this.started = false;
    process.off('SIGHUP', this.onSighup);
    const step = async (name: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err, unit: name }, 'stop failed');
      }
    };
    // Devices first (the broker also ends MQTT-over-WebSocket sockets that hold the HTTP server open).
    if (this.ownership) await step('cluster', () => this.ownership!.stop());
    if (this.external) await step('external broker', () => this.external!.stop());
    if (this.connectionChannel) await step('cluster channel', () => this.connectionChannel!.stop());
    if (this.pgPool) await step('postgres', () => this.pgPool!.end());
    if (this.broker?.aedes) await step('broker', () => this.broker.stop());
    if (this.api) await step('api', () => this.api.close());
    if (this.ingest) await step('ingest', () => this.ingest.stop());
    await step('jobs', () => this.jobs?.stop());
    if (this.notifier) await step('notify', () => this.notifier.stop());
    if (this.rules) await step('rules', () => this.rules.stop());
    if (this.telemetry) await step('telemetry', () => this.telemetry.stop());
    await step('store', () => this.db?.open && this.db.close());
    this.lock.release();
  }
}

export function buildApp(config: Config, opts?: AppOptions): App {
  return new App(config, opts);
}
