// Where a scenario runs: a fresh shaobing started in this process on the event clock (temp data dir, ports 0,
// a throw-away admin token), or a service already running somewhere (--url/--token). The in-process one can
// also capture what it sends: its notify destinations are then robots of a local receiver (./notifications.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/app.js';
import { ApiClient } from '../lib/api.js';
import { loadSecrets, ROOT } from '../lib/inventory.js';
import type { NotificationExpectation, PhonesSpec } from './loader.js';
import { outboxReader, startCapture, type NotifyCapture } from './notifications.js';
import { phoneCapture, startPhones, type PhoneCapture } from './phones.js';

export interface Target {
  mqttUrl: string;
  httpUrl: string;
  /** Admin client (provisioning, the replay clock, alerts of every grid). */
  api: ApiClient;
  /** The admin token (also the operator's MQTT password, for the recorder). */
  token: string;
  /** Device id → secret. */
  secrets: Record<string, string>;
  /** A service that was running before (and keeps running): its old alerts are not ours. */
  remote: boolean;
  /** What the service sends, captured (in-process targets started with `notifications`). */
  notify?: NotifyCapture;
  /** Texts and calls, captured by a local SMS/voice receiver (in-process targets started with `phones`). */
  phone?: PhoneCapture;
  stop(): Promise<void>;
}

export interface LocalOptions {
  /** Settings merged over the settings file (a scenario's `settings:`). */
  settings?: Record<string, unknown>;
  /** Settings file (default config/settings.yaml). */
  settingsPath?: string;
  /** Device secrets (default config/sample-secrets.json). */
  secretsPath?: string;
  logLevel?: string;
  /**
   * A scenario's `notifications:`: when any, the service's notify destinations are a local receiver's robots,
   * one per (channel, community, role) — and per grid the expectations name — so each role is seen apart.
   */
  notifications?: readonly NotificationExpectation[];
  /** A scenario's `phones:`: notify.phone points at a local receiver playing Alibaba Cloud and Tencent Cloud. */
  phones?: PhonesSpec;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b))
      merge(b as Record<string, unknown>, v as Record<string, unknown>);
    else base[k] = v;
  }
  return base;
}

/** Start shaobing in this process on the event clock, on free ports, over a temporary data dir. */
export async function startLocal(opts: LocalOptions = {}): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-scenario-'));
  const adminToken = `scenario-${randomBytes(16).toString('hex')}`;
  let phones: Awaited<ReturnType<typeof startPhones>> | undefined;
  try {
    phones = opts.phones ? await startPhones(opts.phones, dataDir) : undefined;
    const scenarioPhone = ((opts.settings?.notify as Record<string, unknown> | undefined)?.phone ?? {}) as Record<string, unknown>;
    const config = loadConfig({
      settingsPath: opts.settingsPath ?? resolve(ROOT, 'config/settings.yaml'),
      env: {},
      cwd: ROOT,
      overrides: merge(structuredClone(opts.settings ?? {}), {
        dataDir,
        adminToken,
        clock: 'event',
        mqtt: { host: '127.0.0.1', port: 0, wsPort: null },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: opts.logLevel ?? 'silent', format: 'json' },
        // A throw-away store: surviving a power cut buys nothing here, and fsync per batch costs seconds.
        store: { synchronous: 'normal' },
        // Texts and calls: the sample templates and the receiver's endpoints and keys, under the scenario's own routes.
        ...(phones ? { notify: { phone: merge(structuredClone(phones.settings), structuredClone(scenarioPhone)) } } : {}),
      }),
    });
    const capture = opts.notifications?.length ? await startCapture(config.communities, opts.notifications) : undefined;
    // The loaded config is frozen: a copy with the capture robots after the configured destinations.
    const app = buildApp(
      capture
        ? { ...config, settings: { ...config.settings, notify: { ...config.settings.notify, destinations: [...config.settings.notify.destinations, ...capture.destinations] } } }
        : config,
    );
    try {
      await app.start();
    } catch (err) {
      await capture?.receiver.stop();
      await phones?.receiver.stop();
      throw err;
    }
    const { mqtt, http } = app.ports;
    const httpUrl = `http://127.0.0.1:${http}`;
    return {
      mqttUrl: `mqtt://127.0.0.1:${mqtt}`,
      httpUrl,
      api: new ApiClient(httpUrl, adminToken),
      token: adminToken,
      secrets: { ...loadSecrets(opts.secretsPath).devices },
      remote: false,
      notify: capture && { receiver: capture.receiver, destination: capture.lookup, queued: outboxReader(app.db, () => app.clock.now()) },
      phone: phones && phoneCapture(phones.receiver, app.db, () => app.clock.now()),
      async stop() {
        await app.stop();
        await capture?.receiver.stop();
        await phones?.receiver.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await phones?.receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface RemoteOptions {
  /** The service's HTTP base URL. */
  url: string;
  /** An admin token (the replay clock and provisioning need one). */
  token: string;
  /** Default: mqtt://<host of url>:1883. */
  mqttUrl?: string;
  secretsPath?: string;
}

export function remoteTarget(opts: RemoteOptions): Target {
  const host = new URL(opts.url).hostname;
  return {
    mqttUrl: opts.mqttUrl ?? `mqtt://${host}:1883`,
    httpUrl: opts.url,
    api: new ApiClient(opts.url, opts.token),
    token: opts.token,
    secrets: { ...loadSecrets(opts.secretsPath).devices },
    remote: true,
    async stop() {},
  };
}
