// Provisioning through the API and the CLI: the secret is shown once, works over MQTT, and only its hash
// is stored. Bearer tokens and grid scoping of the device API.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startApp, connectDevice, waitFor, auth, sampleSecrets, type TestApp } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.stop();
});

describe('device provisioning', () => {
  it('provisions over the API (admin only); the new device connects with the secret shown once', async () => {
    const body = { id: 'gh-sd-5-999', kind: 'smoke-detector', communityId: 'guihuayuan', format: 'tuya-smoke', buildingId: 'gh-b5', area: '5号楼 楼道' };
    const volunteer = Object.keys(sampleSecrets.people).find((p) => p.startsWith('gh-vol'))!;
    const denied = await t.app.api.inject({ method: 'POST', url: '/api/devices', payload: body, headers: auth(sampleSecrets.people[volunteer]) });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ statusCode: 403, code: 'SB_FORBIDDEN' });

    const res = await t.app.api.inject({ method: 'POST', url: '/api/devices', payload: body, headers: auth() });
    expect(res.statusCode).toBe(201);
    const { secret, topic } = res.json();
    expect(topic).toBe('iot/guihuayuan/gh-sd-5-999/up');
    const again = await t.app.api.inject({ method: 'POST', url: '/api/devices', payload: body, headers: auth() });
    expect(again.json()).toMatchObject({ statusCode: 409, code: 'SB_DEVICE_EXISTS' });

    const c = await connectDevice(t.mqttUrl, body.id, secret);
    await c.publishAsync(topic, JSON.stringify({ smoke_sensor_status: 'normal', battery_percentage: 77 }), { qos: 1 });
    const d = await waitFor(async () => {
      const r = (await t.app.api.inject({ url: `/api/devices/${body.id}`, headers: auth() })).json();
      return r.state.accepted === 1 && r;
    }, 'reading from the provisioned device');
    expect(d).toMatchObject({ kind: 'smoke-detector', format: 'tuya-smoke', gridId: 'gh-g1', batteryPct: 77, online: true });
    c.end(true);
  });

  it('answers a bad provisioning request with a coded 400 listing every problem', async () => {
    const res = await t.app.api.inject({
      method: 'POST',
      url: '/api/devices',
      payload: { id: 'x-1', kind: 'toaster', communityId: 'chunjiang', householdId: 'nowhere' },
      headers: auth(),
    });
    expect(res.statusCode).toBe(400);
    const err = res.json();
    expect(err.code).toBe('SB_INVALID_DEVICE');
    expect(err.message).toContain("kind: unknown kind 'toaster'");
    expect(err.message).toContain("householdId: no 'nowhere' in community 'chunjiang'");
    const schema = await t.app.api.inject({ method: 'POST', url: '/api/devices', payload: { id: '../etc', kind: 'water-meter' }, headers: auth() });
    expect(schema.statusCode).toBe(400);
    expect(schema.json().code).toBe('SB_VALIDATION');
    expect(schema.body).not.toContain('    at ');
  });

  it('refuses a second sensor on a parking space with a coded 409, and creates nothing', async () => {
    const res = await t.app.api.inject({
      method: 'POST',
      url: '/api/devices',
      payload: { id: 'gh-ps-dup', kind: 'parking-sensor', communityId: 'guihuayuan', spaceId: 'gh-sp-01' }, // gh-ps-01's space
      headers: auth(),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'SB_SPACE_TAKEN', message: "parking space 'gh-sp-01' already has sensor 'gh-ps-01'" });
    expect((await t.app.api.inject({ method: 'GET', url: '/api/devices/gh-ps-dup', headers: auth() })).statusCode).toBe(404);
  });

  it('provisions from the CLI into the data dir; the running service accepts the device on first connect', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/provision.ts', '--id', 'cj-wm-cli-1', '--kind', 'water-meter', '--community', 'chunjiang', '--household', 'cj-1-101', '--json'], {
      env: { ...process.env, SHAOBING_CONFIG: 'config/settings.yaml', SHAOBING_DATA_DIR: t.dataDir },
      encoding: 'utf8',
      timeout: 60_000, // tsx start-up takes 30 s on a loaded machine
    });
    expect(run.stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(run.status).toBe(0);
    const { id, secret } = JSON.parse(run.stdout) as { id: string; secret: string };
    const db = new Database(join(t.dataDir, 'shaobing.db'), { readonly: true });
    const stored = db.prepare('SELECT secret_hash FROM devices WHERE id = ?').pluck().get(id) as string;
    db.close();
    expect(stored).toMatch(/^sha256\$/);
    expect(stored).not.toContain(secret);
    return connectDevice(t.mqttUrl, id, secret).then((c) => c.end(true));
  }, 90_000);
});

describe('bearer tokens and grid scoping', () => {
  it('401 without or with a wrong token, with a coded body', async () => {
    for (const headers of [{}, auth('wrong-token-wrong-token')]) {
      const res = await t.app.api.inject({ url: '/api/devices', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, code: 'SB_UNAUTHORIZED' });
    }
  });

  it("shows a grid member only their own grid's devices, and 404 for the others", async () => {
    const member = 'gh-member-g1-1';
    const res = await t.app.api.inject({ url: '/api/devices', headers: auth(sampleSecrets.people[member]) });
    const items = res.json().items as Array<{ id: string; gridId: string }>;
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((d) => d.gridId))).toEqual(new Set(['gh-g1']));
    const outside = await t.app.api.inject({ url: '/api/devices/gh-sd-6-302', headers: auth(sampleSecrets.people[member]) });
    expect(outside.statusCode).toBe(404);
    const mine = await t.app.api.inject({ url: '/api/devices/gh-sd-6-302', headers: auth(sampleSecrets.people['gh-member-g2-1']) });
    expect(mine.statusCode).toBe(200);
  });

  it('serves health, Prometheus metrics with the contract names, and the OpenAPI docs', async () => {
    expect((await t.app.api.inject({ url: '/healthz' })).json()).toMatchObject({ status: 'ok', broker: true, store: true });
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    for (const name of ['shaobing_messages_total', 'shaobing_inbox_depth', 'shaobing_processing_seconds', 'shaobing_alerts_opened_total', 'shaobing_notifications_total', 'process_cpu_seconds_total'])
      expect(metrics).toContain(`# TYPE ${name}`);
    const spec = (await t.app.api.inject({ url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/devices', '/api/devices/{id}', '/api/rejections']));
    expect((await t.app.api.inject({ url: '/nope' })).json()).toMatchObject({ statusCode: 404, code: 'SB_NOT_FOUND' });
  });
});
