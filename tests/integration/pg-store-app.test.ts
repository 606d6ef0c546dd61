// The app on the PostgreSQL store (settings.store.postgresUrl; src/store/pg/): Debian's PostgreSQL 15 started
// into a temp dir (tests/postgres.ts). What the app commits lives in the database, not in the data dir: a pending
// deadline and an alert survive a restart on an empty data dir, the deadline fires once, and a QoS 1 reading is
// in the database by the time its PUBACK arrives. With CI=true a missing PostgreSQL fails the run.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import pg from 'pg';
import { startAlertsApp, T0, MIN, HOUR, at, type AlertsEnv } from './alertsHarness.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { auth, connectDevice, startApp, tempDir, waitFor } from '../helpers.js';
import { Postgres, requirePostgres } from '../postgres.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { killChildren, startChild } from '../child.js';

const available = requirePostgres('the app on the PostgreSQL store');
let server: Postgres | undefined;
beforeAll(async () => {
  if (available) server = await Postgres.start();
}, 60_000);
afterAll(async () => {
  await server?.close();
});
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sql<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

describe.runIf(available)('the app on the PostgreSQL store', () => {
  it('keeps what it commits in PostgreSQL: a pending deadline fires once after a restart on an empty data dir', async () => {
    const url = await server!.createDatabase('app');
    const store = { postgresUrl: url };
    const due = T0 + 12 * HOUR + 10 * MIN;
    const dirA = tempDir('shaobing-pgapp-a-');
    cleanups.push(() => dirA.remove());
    let env: AlertsEnv = await startAlertsApp(dirA.path, { store });
    const wm = await env.device('gh-wm-6-302');
    for (let h = 0; h <= 12; h++) await wm.send({ type: 'reading', ts: at(T0 + h * HOUR), totalM3: 31.402 });
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBe(due);
    // Each reading was acknowledged after its commit: inbox row, then processing, all in the database.
    expect(await sql(url, "SELECT due FROM deadlines WHERE key = 'no_water_use:gh-wm-6-302'")).toEqual([{ due: String(due) }]);
    expect(Number((await sql<{ n: string }>(url, "SELECT COUNT(*) AS n FROM readings WHERE device_id = 'gh-wm-6-302'"))[0].n)).toBe(13);
    expect(await sql(url, 'SELECT id FROM inbox')).toEqual([]);
    await env.close();

    // Another data dir (another machine): only PostgreSQL carries the state over.
    const dirB = tempDir('shaobing-pgapp-b-');
    cleanups.push(() => dirB.remove());
    env = await startAlertsApp(dirB.path, { store });
    cleanups.push(() => env.close());
    expect(env.t.app.clock.now()).toBe(T0 + 12 * HOUR);
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBe(due);
    expect(await env.alerts({ kind: 'no_water_use' })).toEqual([]);
    expect((await env.advance(due + MIN)).fired).toBeGreaterThanOrEqual(1);
    const a = await env.waitAlert({ kind: 'no_water_use', deviceId: 'gh-wm-6-302' });
    expect(a).toMatchObject({ title: '王婆婆家(6-302) 12小时无用水', count: 1, openedAt: at(due) });
    await env.advance(due + 2 * HOUR);
    expect(await env.alerts({ kind: 'no_water_use' })).toHaveLength(1);
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBeUndefined();
    await env.t.app.store.durable();
    const rows = await sql<{ id: string; kind: string; status: string }>(url, "SELECT id, kind, status FROM alerts WHERE kind = 'no_water_use'");
    expect(rows).toEqual([{ id: String(a.id), kind: 'no_water_use', status: 'open' }]);
    expect(await sql(url, "SELECT key FROM deadlines WHERE key = 'no_water_use:gh-wm-6-302'")).toEqual([]);
  }, 120_000);
});

describe.runIf(available)('the app on the PostgreSQL store: answers after the commit', () => {
  it('with the server gone a write is answered 503, not 201, and nothing of it is kept; the app asks to be restarted', async () => {
    const url = await server!.createDatabase('answers');
    const fatal: Error[] = [];
    const t = await startApp({ store: { postgresUrl: url } }, undefined, { onFatal: (err) => fatal.push(err) });
    cleanups.push(() => t.stop());
    const device = (id: string) => ({ id, kind: 'smoke-detector', communityId: 'guihuayuan', format: 'tuya-smoke', buildingId: 'gh-b5', area: '5号楼 楼道' });
    const provision = (id: string) => t.app.api.inject({ method: 'POST', url: '/api/devices', payload: device(id), headers: auth() });
    expect((await provision('gh-sd-5-901')).statusCode).toBe(201);
    await server!.stop('SIGINT');
    const refused = await provision('gh-sd-5-902');
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'SB_UNAVAILABLE' });
    // What the app holds above the store may now differ from the database: it says so, and main.ts exits 1.
    expect(fatal).toHaveLength(1);
    const health = await t.app.api.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'unavailable', store: false });
    await server!.start();
    // It asked to be restarted (what it holds above the store may differ from the database): a new instance over
    // the same database starts from what was committed.
    await t.stop();
    const t2 = await startApp({ store: { postgresUrl: url } });
    cleanups.push(() => t2.stop());
    expect(t2.app.store.devices.find('gh-sd-5-902')).toBeUndefined();
    const again = await t2.app.api.inject({ method: 'POST', url: '/api/devices', payload: device('gh-sd-5-902'), headers: auth() });
    expect(again.statusCode).toBe(201);
    const rows = await sql<{ id: string }>(url, 'SELECT id FROM devices ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['gh-sd-5-901', 'gh-sd-5-902']);
    expect(fatal).toHaveLength(1);
  }, 120_000);

  it('npm start: a refused commit stops the process with exit 1, for its supervisor to restart it', async () => {
    const url = await server!.createDatabase('process');
    const dir = tempDir('shaobing-pgapp-proc-');
    cleanups.push(() => dir.remove());
    cleanups.push(killChildren);
    const child = await startChild(dir.path, '', { SHAOBING_STORE_POSTGRES_URL: url });
    const device = { id: 'gh-sd-5-911', kind: 'smoke-detector', communityId: 'guihuayuan', format: 'tuya-smoke', buildingId: 'gh-b5', area: '5号楼 楼道' };
    const post = () => fetch(`${child.httpUrl}/api/devices`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(device) });
    await server!.stop('SIGINT');
    try {
      expect((await post()).status).toBe(503);
      expect(await child.exited).toBe(1);
      expect(child.stdout.join('\n')).toMatch(/the PostgreSQL store refused a commit/);
    } finally {
      await server!.start();
    }
  }, 120_000);
});

describe.runIf(available)('npm run provision on the PostgreSQL store', () => {
  it('provisions into the database after the commit; a running instance hears of it and accepts the device', async () => {
    const url = await server!.createDatabase('cli');
    const dir = tempDir('shaobing-pgapp-cli-');
    cleanups.push(() => dir.remove());
    const t = await startApp({ store: { postgresUrl: url } }, dir.path);
    cleanups.push(() => t.stop());
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/provision.ts', '--id', 'cj-wm-cli-9', '--kind', 'water-meter', '--community', 'chunjiang', '--household', 'cj-1-101', '--json'],
      { env: { ...process.env, SHAOBING_CONFIG: 'config/settings.yaml', SHAOBING_DATA_DIR: dir.path, SHAOBING_STORE_POSTGRES_URL: url }, encoding: 'utf8', timeout: 60_000 },
    );
    const { id, secret } = JSON.parse(run.stdout) as { id: string; secret: string };
    const rows = await sql<{ secret_hash: string }>(url, 'SELECT secret_hash FROM devices WHERE id = $1', [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].secret_hash).toMatch(/^sha256\$/);
    expect(rows[0].secret_hash).not.toContain(secret);
    // The running instance loaded its devices at start; the commit announced this one (NOTIFY), so it has it now.
    await waitFor(() => t.app.store.devices.find(id), 'the provisioned device in the running instance', 10_000);
    const c = await connectDevice(t.mqttUrl, id, secret);
    c.end(true);
  }, 120_000);
});

describe('settings: store.postgresUrl', () => {
  const errors = (overrides: Record<string, unknown>) => {
    try {
      loadConfig({ settingsPath: 'config/settings.yaml', env: {}, overrides });
    } catch (err) {
      if (err instanceof ConfigError) return err.errors;
      throw err;
    }
    return [];
  };
  it('is one instance per database for now: refused with cluster and with the broker thread', () => {
    expect(errors({ store: { postgresUrl: 'postgres://u@db/shaobing' } })).toEqual([]);
    expect(errors({ store: { postgresUrl: 'mysql://u@db/shaobing' } }).join('\n')).toMatch(/postgresUrl/);
    const fromEnv = loadConfig({ settingsPath: 'config/settings.yaml', env: { SHAOBING_STORE_POSTGRES_URL: 'postgres://u@db/x' } });
    expect(fromEnv.settings.store.postgresUrl).toBe('postgres://u@db/x');
    expect(
      errors({ store: { postgresUrl: 'postgres://u@db/shaobing' }, externalBroker: { url: 'mqtt://b', password: 'p' }, cluster: { postgresUrl: 'postgres://u@db/shaobing' } }),
    ).toEqual(['/store/postgresUrl: not with /cluster yet (one instance per PostgreSQL store database; docs/cluster.md)']);
    expect(errors({ store: { postgresUrl: 'postgres://u@db/shaobing' }, mqtt: { thread: true } })).toEqual([
      '/store/postgresUrl: not with /mqtt/thread (the broker thread reads devices from the SQLite file)',
    ]);
  });
});
