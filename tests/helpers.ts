// Shared test helpers: a real app on port 0 over a temp data dir, real MQTT clients with the sample
// devices' credentials. Nothing of ours is mocked.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { buildApp, type App, type AppOptions } from '../src/app.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export const sampleSecrets = JSON.parse(readFileSync(new URL('../config/sample-secrets.json', import.meta.url), 'utf8')) as {
  devices: Record<string, string>;
  people: Record<string, string>;
  /** Console sign-in: username → demo password (docs/console.md). */
  passwords: Record<string, string>;
  /** HTTP integrations (POST /ingest/{id}): id → secret. */
  integrations: Record<string, string>;
};

export function tempDir(prefix = 'shaobing-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestApp {
  app: App;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** Start the real service (sample communities) on free ports over a fresh or given data dir. */

/**
 * SHAOBING_TEST_POSTGRES_URL=postgres://…/postgres runs the app suites on the PostgreSQL store: each app started
 * over a fresh data dir gets a fresh database on that server (one restarted on a kept data dir, its database).
 */
async function testStore(overrides: Record<string, unknown>, dir: string): Promise<Record<string, unknown>> {
  const server = process.env.SHAOBING_TEST_POSTGRES_URL;
  const store = (overrides.store ?? {}) as Record<string, unknown>;
  if (!server || store.postgresUrl || (overrides.mqtt as { thread?: boolean } | undefined)?.thread) return overrides;
  const name = `app_${process.pid}_${Buffer.from(dir).toString('hex').slice(-24)}`;
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { ...overrides, store: { ...store, postgresUrl: url.toString() } };
}

export async function startApp(overrides: Record<string, unknown> = {}, dataDir?: string, opts: AppOptions = {}): Promise<TestApp> {
  const dir = dataDir ? { path: dataDir, remove() {} } : tempDir();
  overrides = await testStore(overrides, dir.path);
  const config = loadConfig({
    settingsPath: 'config/settings.yaml',
    env: {},
    overrides: {
      dataDir: dir.path,
      adminToken: ADMIN_TOKEN,
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: process.env.TEST_LOG_LEVEL ?? 'silent', format: 'json' },
      ...overrides,
    },
  });
  const app = buildApp(config, opts);
  await app.start();
  const ports = app.ports;
  return {
    app,
    dataDir: dir.path,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    async stop(opts = {}) {
      await app.stop();
      if (!opts.keepData) dir.remove();
    },
  };
}

/** Connect as a device (clientId = username = device id). Resolves on CONNACK, rejects on refusal. */
export function connectDevice(url: string, deviceId: string, secret = sampleSecrets.devices[deviceId], extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function auth(token = ADMIN_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Sample devices of a kind and format, in inventory order (so tests don't hard-code formats). */
export function sampleDevices(kind: string, format = 'canonical', communityId?: string): string[] {
  const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
  return config.communities
    .filter((c) => !communityId || c.id === communityId)
    .flatMap((c) => c.devices.filter((d) => d.kind === kind && (d.format ?? 'canonical') === format).map((d) => d.id));
}

/** Provision an AI camera of 春江小区 3号楼 (POST /api/devices as the admin) that pushes Hikvision events over HTTP. */
export async function provisionCamera(t: TestApp, id: string, area: string, format = 'hikvision-isapi'): Promise<void> {
  const res = await t.app.api.inject({
    method: 'POST',
    url: '/api/devices',
    headers: auth(),
    payload: { id, kind: 'ai-camera', format, communityId: 'chunjiang', buildingId: 'cj-b3', area },
  });
  if (res.statusCode !== 201) throw new Error(`provisioning ${id}: ${res.statusCode} ${res.body}`);
}
