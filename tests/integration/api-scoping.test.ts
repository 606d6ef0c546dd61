// Review findings kept as tests: deny by default also for percent-encoded paths, a volunteer sees only their
// paired elders everywhere (not just in the care panel), and a device row whose community left the
// configuration is refused at CONNECT without taking the broker down.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startAlertsApp, T0, type AlertsEnv } from './alertsHarness.js';
import { auth, connectDevice, sampleSecrets } from '../helpers.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(async () => {
  await env?.close();
});

describe('API scoping', () => {
  it('authenticates a percent-encoded /api path like the plain one', async () => {
    for (const url of ['/%61pi/rejections', '/%61pi/alerts', '/api/nothing'])
      expect((await env.t.app.api.inject({ url })).statusCode, url).toBe(401);
  });

  it("shows a volunteer only their paired elders' alerts and devices", async () => {
    const d = await env.device('gh-sd-6-302');
    await d.send({ type: 'alarm', smokePct: 40, ts: T0 });
    const alert = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    const h = env.t.app.directory.households.get('gh-6-302')!;
    const paired = h.careContacts.find((c) => c.relation === 'volunteer')!.personId!;
    const other = [...env.t.app.directory.people.values()].find(
      (p) => p.roles.length === 1 && p.roles[0] === 'volunteer' && p.grids.includes(h.gridId) && p.id !== paired,
    )!;
    expect(other).toBeDefined();
    const as = (id: string) => auth(sampleSecrets.people[id]);
    const mine = (await env.t.app.api.inject({ url: '/api/alerts', headers: as(paired) })).json().items as Array<{ id: number }>;
    expect(mine.map((a) => a.id)).toContain(alert.id);
    const theirs = (await env.t.app.api.inject({ url: '/api/alerts', headers: as(other.id) })).json().items as Array<{ id: number }>;
    expect(theirs.map((a) => a.id)).not.toContain(alert.id);
    expect((await env.t.app.api.inject({ url: `/api/alerts/${alert.id}`, headers: as(other.id) })).statusCode).toBe(404);
    expect((await env.t.app.api.inject({ method: 'POST', url: `/api/alerts/${alert.id}/ack`, payload: {}, headers: as(other.id) })).statusCode).toBe(404);
    expect((await env.t.app.api.inject({ url: '/api/devices/gh-sd-6-302', headers: as(other.id) })).statusCode).toBe(404);
    expect((await env.t.app.api.inject({ url: '/api/devices/gh-sd-6-302', headers: as(paired) })).statusCode).toBe(200);
    await d.end();
  });

  it("keeps a community admin inside their community: no provisioning into, or seeing, another's", async () => {
    const as = (id: string) => auth(sampleSecrets.people[id]);
    const body = (id: string, communityId: string) => ({ id, kind: 'smoke-detector', communityId });
    const foreign = await env.t.app.api.inject({ method: 'POST', url: '/api/devices', headers: as('cj-admin'), payload: body('cj-into-gh', 'guihuayuan') });
    const missing = await env.t.app.api.inject({ method: 'POST', url: '/api/devices', headers: as('cj-admin'), payload: body('cj-into-x', 'no-such-community') });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().code).toBe(missing.json().code);
    expect(foreign.json().message).toBe("communityId: unknown community 'guihuayuan'");
    expect(env.t.app.directory.devices.has('cj-into-gh')).toBe(false);
    const own = await env.t.app.api.inject({ method: 'POST', url: '/api/devices', headers: as('cj-admin'), payload: body('cj-own-1', 'chunjiang') });
    expect(own.statusCode).toBe(201);
    // The platform operator (admin token) is above communities.
    expect((await env.t.app.api.inject({ method: 'POST', url: '/api/devices', headers: auth(), payload: body('gh-by-platform', 'guihuayuan') })).statusCode).toBe(201);
    const seen = (await env.t.app.api.inject({ url: '/api/devices', headers: as('cj-admin') })).json().items as Array<{ communityId: string }>;
    expect(new Set(seen.map((d) => d.communityId))).toEqual(new Set(['chunjiang']));
    expect((await env.t.app.api.inject({ url: '/api/devices/gh-by-platform', headers: as('cj-admin') })).statusCode).toBe(404);
    // The one event clock is every community's: only the platform operator moves it.
    const now = new Date(env.t.app.clock.now()).toISOString();
    expect((await env.t.app.api.inject({ method: 'POST', url: '/api/replay/clock', headers: as('cj-admin'), payload: { now } })).statusCode).toBe(403);
    expect((await env.t.app.api.inject({ method: 'POST', url: '/api/replay/clock', headers: auth(), payload: { now } })).statusCode).toBe(200);
  });

  it('shows a volunteer no parking and no rejected payload of a household not paired with them', async () => {
    const as = (id: string) => auth(sampleSecrets.people[id]);
    const other = await env.device('gh-wm-5-402'); // paired with gh-vol-g1-2, not gh-vol-g1-1
    await other.sendRaw('{"type":"nonsense"}');
    const mine = await env.device('gh-wm-5-303'); // paired with gh-vol-g1-1
    await mine.sendRaw('{"type":"nonsense"}');
    const rejections = async (q: string) =>
      ((await env.t.app.api.inject({ url: `/api/rejections${q}`, headers: as('gh-vol-g1-1') })).json().items as Array<{ deviceId: string }>).map((r) => r.deviceId);
    expect(await rejections('?deviceId=gh-wm-5-402')).toEqual([]);
    expect(new Set(await rejections(''))).toEqual(new Set(['gh-wm-5-303']));
    expect((await env.t.app.api.inject({ url: '/api/parking/lots', headers: as('gh-vol-g1-1') })).json().items).toEqual([]);
    expect((await env.t.app.api.inject({ url: '/api/parking/lots', headers: as('gh-head-g1') })).json().items).toHaveLength(1);
    await other.end();
    await mine.end();
  });

  it('refuses, without crashing, a device whose community is no longer configured', async () => {
    const db = new Database(join(env.t.dataDir, 'shaobing.db'));
    db.prepare("INSERT INTO devices (id, kind, community_id, format, secret_hash, created_at) VALUES ('gone-1', 'water-meter', 'gone-community', 'canonical', 'sha256$x$y', 0)").run();
    db.close();
    const err = await connectDevice(env.t.mqttUrl, 'gone-1', 'whatever').then(() => null, (e: Error & { code?: number }) => e);
    expect(err?.code).toBe(4);
    // Still serving.
    const c = await connectDevice(env.t.mqttUrl, 'gh-sd-6-302');
    c.end(true);
  });
});
