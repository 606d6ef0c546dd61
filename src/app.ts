// buildApp(config) → an App. start() opens the store, builds every part with its collaborators (assemble) and
// starts the units of one ordered list (unitList: telemetry, notify, rules, ingest, api, broker, then the
// external broker, the cluster and jobs when configured); stop() stops them in reverse and closes the store.
// Importing this file starts nothing; the constructor only assigns.
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
import { openPgStore, type PgStore } from './store/pg/index.js';
import type { Store } from './store/store.js';
import { lockDataDir, type DataDirLock } from './store/lock.js';
import { DeviceStates } from './state/deviceState.js';
import { DeviceStatusBoard } from './state/deviceStatus.js';
import type { CadenceSettings } from './state/cadence.js';
import { Ingest } from './ingest/pipeline.js';
import { Broker } from './broker/broker.js';
import { BrokerThread } from './transport/brokerThread.js';
import { buildApi } from './api/index.js';
import { Failpoints } from './failpoints.js';
import { deviceKinds } from '../devices/index.js';
import { createTelemetrySink, currentSink, NoTelemetry, type TelemetrySink } from './telemetry/index.js';
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
import type { DeviceTransport } from './transport/transport.js';
import { Units, type Unit } from './units.js';
import { join } from 'node:path';
import { Snapshots } from './residents/snapshots.js';
import { snapshotLinksApi } from './api/snapshotLinks.js';
import { FilePhotoStore } from './residents/photos.js';

export interface AppOptions {
  log?: Logger;
  /** Comma-separated failpoint names (crash tests only); default SHAOBING_FAILPOINTS. */
  failpoints?: string;
  /**
   * The app can no longer go on as it is (the PostgreSQL store refused a commit: what the app holds in memory may
   * differ from the database). src/main.ts stops the process with exit 1 for its supervisor to restart it.
   */
  onFatal?: (err: Error) => void;
}

export class App {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly directory: Directory;
  /** The SQLite connection; not set on the PostgreSQL store (settings.store.postgresUrl). */
  db!: Db;
  store!: Store;
  private pgStore?: PgStore;
  /** Set once the PostgreSQL store refused a commit (/healthz then says the store is down). */
  private storeFailure?: Error;
  states!: DeviceStates;
  devicesRepo!: Store['devices'];
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
  /** The embedded broker: on the main thread, or on a thread of its own with settings.mqtt.thread. */
  broker!: Broker | BrokerThread;
  api!: FastifyInstance;
  telemetry!: TelemetrySink;
  rules!: RuleEngine;
  notifier!: Notifier;
  /** Camera snapshots waiting to be stored (src/residents/snapshots.ts). */
  snapshots!: Snapshots;
  jobs!: Jobs;
  /** The running parts, in start order (unitList); absent until start() has built them. */
  units?: Units;
  /** Where a device is answered (its errors topic): the embedded broker, and the external one when configured. */
  private transports: DeviceTransport[] = [];
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
    // The store opens first and closes last; everything else is built on it, then started as units.
    // settings.store.postgresUrl: the PostgreSQL store (src/store/pg/), else SQLite in the data dir.
    if (s.store.postgresUrl) {
      this.pgStore = await openPgStore({
        url: s.store.postgresUrl,
        onFailure: (err) => {
          if (this.storeFailure) return;
          this.storeFailure = err instanceof Error ? err : new Error(String(err));
          this.log.fatal({ err }, 'the PostgreSQL store refused a commit: what this instance holds in memory may differ from the database; it must be restarted');
          this.opts.onFatal?.(this.storeFailure);
        },
      });
      this.store = this.pgStore;
    } else {
      this.db = openDb({ dataDir: s.dataDir, synchronous: s.store.synchronous });
      this.store = sqliteStore(this.db);
    }
    this.devicesRepo = this.store.devices;
    for (const d of this.devicesRepo.all()) {
      if (this.directory.communities.has(d.communityId) && !this.directory.devices.has(d.id)) this.directory.addDevice(d);
    }
    this.states = new DeviceStates(this.store.deviceState);
    this.states.load();
    await this.assemble();
    this.units = new Units(this.unitList(), this.log);
    await this.units.start();
    this.started = true;
    // SIGHUP re-reads the certificate (a renewal); without TLS it is logged and ignored, never a stop.
    process.on('SIGHUP', this.onSighup);
    const ports = this.ports;
    this.log.info(
      { mqtt: ports.mqtt, mqtts: ports.mqtts ?? undefined, ws: ports.ws ?? `${ports.http}/mqtt`, http: ports.http, https: s.http.tls, clock: s.clock, communities: this.directory.communities.size, devices: this.directory.devices.size, tlsFingerprint256: this.tlsFingerprint, units: this.units.names },
      `shaobing listening: mqtt://${s.mqtt.host}:${ports.mqtt}${ports.mqtts !== null ? ` mqtts://${s.mqtt.host}:${ports.mqtts}` : ''} ${s.http.tls ? 'https' : 'http'}://${s.http.host}:${ports.http}`,
    );
  }

  /**
   * Build every part with its collaborators, in dependency order; nothing here opens a port, starts a timer or
   * reads a queue (that is each unit's start). The hooks are wired here too: the sinks' and the rules' reading
   * handlers into ingest (in that order), the notifier into the rule engine's alert hooks.
   */
  private async assemble(): Promise<void> {
    const s = this.config.settings;
    // TLS: the files were checked at load (src/config/load.ts); read here, and again on SIGHUP (reloadTls).
    const tlsOn = s.mqtt.tlsPort != null || s.http.tls;
    const tls = tlsOn ? readTls({ cert: s.tls.cert!, key: s.tls.key! }) : undefined;
    if (tls) this.tlsFingerprint = tls.fingerprint256;
    const failpoints = new Failpoints(this.opts.failpoints ?? process.env.SHAOBING_FAILPOINTS ?? '');

    this.telemetry = createTelemetrySink({
      store: this.store,
      directory: this.directory,
      clock: this.clock,
      bus: this.bus,
      metrics: this.metrics,
      log: this.log.child({ component: 'telemetry' }),
      dataDir: s.dataDir,
      settings: s.telemetry,
      hold: () => failpoints.active('telemetry.afterCommit'),
    });
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
    this.notifier = new Notifier({
      store: this.store,
      clock: this.clock,
      log: this.log.child({ component: 'notify' }),
      metrics: this.metrics,
      directory: this.directory,
      desk: this.rules.desk,
      settings: s.notify,
      publicUrl: s.http.publicUrl,
      dataDir: s.dataDir,
      hold: () => failpoints.active('notify.afterCommit'),
      phoneCredentials: this.config.phoneCredentials,
    });
    // Notifications queue inside the alert's transaction.
    this.rules.hooks.push(this.notifier);
    this.ingest = new Ingest({
      store: this.store,
      directory: this.directory,
      kinds: deviceKinds,
      clock: this.clock,
      log: this.log.child({ component: 'ingest' }),
      bus: this.bus,
      metrics: this.metrics,
      states: this.states,
      failpoints,
      settings: { batchMax: s.ingest.batchMax, rejectionsMax: s.store.rejectionsMax, maxPayloadBytes: s.mqtt.maxPayloadBytes, stuckAfterSeconds: s.ingest.stuckAfterSeconds },
      // A rejected payload is answered on the device's errors topic, through whichever transport carries it.
      publishError: (device, body) => {
        for (const t of this.transports) t.publish(device, 'errors', body);
      },
    });
    // Camera snapshots: stored through the photo store after each batch commits, attached to the alert they show.
    const photoStore = new FilePhotoStore(join(s.dataDir, 'photos'));
    this.snapshots = new Snapshots({
      engine: this.rules,
      store: photoStore,
      photos: this.store.photos,
      log: this.log.child({ component: 'snapshots' }),
    });
    // History rows, then rules and alerts (both commit inside the ingest transaction), then the snapshots.
    if (this.telemetry.handler) this.ingest.handlers.push(this.telemetry.handler);
    this.ingest.handlers.push(this.rules.handler, this.snapshots.handler);

    const brokerDeps = {
      directory: this.directory,
      repo: this.devicesRepo,
      ingest: this.ingest,
      log: this.log.child({ component: 'broker' }),
      metrics: this.metrics,
      // A payload past maxPayloadBytes is still taken and kept as a payload_too_large rejection up to 64 KiB more;
      // a packet larger than that is refused at the parser and its connection closed.
      settings: { host: s.mqtt.host, port: s.mqtt.port, wsPort: s.mqtt.wsPort ?? null, maxPacketBytes: s.mqtt.maxPayloadBytes + 65536, fairReads: s.mqtt.fairReads, tlsPort: s.mqtt.tlsPort ?? null },
      tls: tls && { context: secureOptions(tls), handshakeTimeoutMs: s.tls.handshakeTimeoutSeconds * 1000, wsTls: s.http.tls },
      adminToken: s.adminToken,
    };
    // settings.mqtt.thread: sockets, MQTT parsing, CONNECT auth, ACL and fair reads on a worker thread of their own
    // (src/transport/brokerThread.ts); ingest, rules and the store keep the main thread (issue 18).
    this.broker = s.mqtt.thread
      ? new BrokerThread({
          ...brokerDeps,
          worker: {
            communities: this.config.communities,
            dataDir: s.dataDir,
            settings: brokerDeps.settings,
            tls: brokerDeps.tls,
            adminToken: s.adminToken,
            log: { level: s.log.level, format: s.log.format },
            urgentKinds: deviceKinds.filter((k) => k.urgent).map((k) => k.kind),
          },
        })
      : new Broker(brokerDeps);
    this.transports = [this.broker];
    if (s.externalBroker) {
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
      this.transports.push(this.external);
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
      // The sink in use: NoTelemetry when the configured one could not start.
      telemetry: currentSink(() => this.telemetry),
      rules: { engine: this.rules, bus: this.bus, utcOffsetMinutes: s.notify.utcOffsetMinutes, publicUrl: s.http.publicUrl },
      health: () => ({ broker: this.broker.up, store: this.store.isOpen && !this.storeFailure, ingest: true, scheduler: this.rules.up }),
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
  }

  /**
   * The running parts, in start order (stopped in reverse): the system's shape in one list. Each depends only on
   * units before it: rules and alerts commit inside the ingest transaction, so the engine (and the notifier it
   * queues through) is ready before ingest replays its inbox; devices come last, once everything behind them runs.
   */
  private unitList(): Unit[] {
    const s = this.config.settings;
    const units: Unit[] = [
      {
        // A sink that cannot start is logged and left out; ingest goes on without history.
        name: 'telemetry',
        start: () =>
          this.telemetry.start().catch((err) => {
            this.log.error({ err, sink: this.telemetry.name }, 'telemetry sink failed to start; ingest continues without history');
            const h = this.telemetry.handler;
            if (h && this.ingest.handlers.includes(h)) this.ingest.handlers.splice(this.ingest.handlers.indexOf(h), 1);
            this.telemetry = new NoTelemetry();
          }),
        stop: () => this.telemetry.stop(),
      },
      { name: 'notify', start: () => this.notifier.start(), stop: () => this.notifier.stop() },
      { name: 'rules', start: () => this.rules.start(), stop: () => this.rules.stop() },
      { name: 'ingest', start: () => this.ingest.start(), stop: () => this.ingest.stop() },
      { name: 'api', start: () => this.api.listen({ port: s.http.port, host: s.http.host }).then(() => undefined), stop: () => this.api.close() },
      {
        // MQTT over TCP (and TLS, and its own WebSocket port), and over WebSocket at the API's /mqtt.
        // Stopped first of the servers: it also ends the WebSocket sockets that hold the HTTP server open.
        name: 'broker',
        start: async () => {
          await this.broker.start();
          this.broker.attachTo(this.api.server);
        },
        stop: async () => {
          if (this.broker instanceof BrokerThread || this.broker.aedes) await this.broker.stop();
        },
      },
    ];
    const external = this.external;
    if (external) {
      // Alone, this instance takes every community's traffic from the external broker; in a cluster, those whose
      // lease it holds (the cluster unit attaches them).
      units.push({
        name: 'external broker',
        start: async () => {
          await external.start();
          if (!s.cluster) for (const c of this.directory.communities.keys()) await external.attach(c);
        },
        stop: () => external.stop(),
      });
      if (s.cluster) {
        const c = s.cluster;
        units.push({ name: 'cluster', start: () => this.startCluster(c, external), stop: () => this.stopCluster() });
      }
    }
    units.push({ name: 'jobs', start: () => this.jobs.start(), stop: () => this.jobs.stop() });
    return units;
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

  private async stopCluster(): Promise<void> {
    try {
      await this.ownership?.stop();
      await this.connectionChannel?.stop();
    } finally {
      await this.pgPool?.end();
    }
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
    // The units in reverse start order (after a failed start, Units.start has stopped the started ones already).
    await this.units?.stop();
    try {
      if (this.db?.open) this.db.close();
      await this.pgStore?.close();
    } catch (err) {
      this.log.error({ err, unit: 'store' }, 'stop failed');
    }
    this.lock.release();
  }
}

export function buildApp(config: Config, opts?: AppOptions): App {
  return new App(config, opts);
}
