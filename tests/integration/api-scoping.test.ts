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
