// The console's server side: sign-in with a username and password (session tokens, failed-login limit),
// who-am-I and the people of a grid (scoped), and the static console next to the API, /docs, /metrics and
// /healthz. Real app on port 0, requests by inject.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, sampleSecrets, auth, tempDir, type TestApp } from '../helpers.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { Directory, type PersonInfo } from '../../src/config/inventory.js';
import { Sessions } from '../../src/api/session.js';
import { hashPassword, verifyPassword } from '../../src/api/passwords.js';

const pw = sampleSecrets.passwords;

describe('console sign-in and people API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const signIn = (username: string, password: string, ip = '127.0.0.1') =>
    t.app.api.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });

  it('signs a person in with their password and accepts the session token like a staff token', async () => {
    const res = await signIn('gh-head-g2', pw['gh-head-g2']);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.token).toMatch(/^sbs1\./);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    expect(body.person).toEqual({ id: 'gh-head-g2', displayName: expect.any(String), roles: ['grid_head'] });
    const me = await t.app.api.inject({ url: '/api/me', headers: auth(body.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json().grids.map((g: { id: string }) => g.id)).toEqual(['gh-g2']);
    expect((await t.app.api.inject({ url: '/api/alerts', headers: auth(body.token) })).statusCode).toBe(200);
    // The key lives in the data dir, readable by the service only.
    const key = join(t.dataDir, 'session.key');
    expect(existsSync(key)).toBe(true);
    expect(statSync(key).mode & 0o077).toBe(0);
  });

  it('refuses a wrong password, an unknown name and a tampered token with the same answers', async () => {
    for (const [u, p] of [
      ['gh-head-g2', 'not-the-password'],
      ['nobody', 'whatever-it-is'],
      ['gh-duty-2', 'has no password'], // a person without passwordHash cannot sign in with one
    ]) {
      const res = await signIn(u, p, '10.0.0.9');
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('SB_BAD_CREDENTIALS');
    }
    const { token } = (await signIn('gh-head-g2', pw['gh-head-g2'])).json();
    const [prefix, payload, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'gh-admin' })).toString('base64url');
    for (const bad of [`${prefix}.${forged}.${mac}`, `${token}x`, 'sbs1.', 'sbs1..']) {
      const res = await t.app.api.inject({ url: '/api/me', headers: auth(bad) });
      expect(res.statusCode).toBe(401);
    }
  });

  it('stops password guessing from one address after five failures, even with the right password', async () => {
    const ip = '10.0.0.77';
    for (let i = 0; i < 5; i++) expect((await signIn('gh-duty-1', `guess-${i}`, ip)).statusCode).toBe(401);
    const blocked = await signIn('gh-duty-1', pw['gh-duty-1'], ip);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('SB_TOO_MANY_ATTEMPTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await signIn('gh-duty-1', pw['gh-duty-1'], '10.0.0.78')).statusCode).toBe(201);
  });

  it('lists the people of the caller’s grids only, without phone numbers', async () => {
    const head = auth(sampleSecrets.people['gh-head-g2']);
    const res = await t.app.api.inject({ url: '/api/people?gridId=gh-g2', headers: head });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<{ id: string; grids: string[]; mobile?: string }>;
    expect(items.map((p) => p.id)).toEqual(expect.arrayContaining(['gh-member-g2-1', 'gh-member-g2-2', 'gh-duty-1', 'gh-vol-g2-1']));
    expect(items.some((p) => p.id.startsWith('gh-member-g1') || p.id.startsWith('cj-'))).toBe(false);
    expect(items.every((p) => p.grids.length === 1 && p.grids[0] === 'gh-g2' && p.mobile === undefined)).toBe(true);
    expect((await t.app.api.inject({ url: '/api/people?gridId=gh-g1', headers: head })).statusCode).toBe(404);
    expect((await t.app.api.inject({ url: '/api/people' })).statusCode).toBe(401);
  });

  it('tells the console who is signed in and the places of their grids', async () => {
    const res = await t.app.api.inject({ url: '/api/me', headers: auth(sampleSecrets.people['gh-vol-g1-1']) });
    const me = res.json();
    expect(me).toMatchObject({ id: 'gh-vol-g1-1', roles: ['volunteer'], admin: false });
    expect(me.buildings.map((b: { id: string }) => b.id)).toEqual(['gh-b5']);
    // A volunteer hears only of their own elders.
    const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
    const paired = config.communities
      .flatMap((c) => c.buildings.flatMap((b) => b.households))
      .filter((h) => h.careContacts.some((c) => c.personId === 'gh-vol-g1-1'))
      .map((h) => h.id);
    expect(paired.length).toBeGreaterThan(0);
    expect(me.households.map((h: { id: string }) => h.id).sort()).toEqual(paired.sort());
    expect(me.households.every((h: { loneElder: boolean; displayName?: string }) => h.loneElder && h.displayName)).toBe(true);
    const head = (await t.app.api.inject({ url: '/api/me', headers: auth(sampleSecrets.people['gh-head-g1']) })).json();
    expect(head.households.length).toBeGreaterThan(paired.length);
    expect(head.households.every((h: { gridId: string }) => h.gridId === 'gh-g1')).toBe(true);
    const admin = (await t.app.api.inject({ url: '/api/me', headers: auth() })).json();
    expect(admin).toMatchObject({ id: 'admin', displayName: '管理员', admin: true });
    expect(admin.grids).toHaveLength(3);
  });

  it('serves the console and its vendored modules beside the API, docs, metrics and health', async () => {
    const page = await t.app.api.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<html lang="zh-CN">');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    for (const f of ['preact.mjs', 'hooks.mjs', 'htm.mjs', 'uPlot.esm.js', 'uPlot.min.css']) {
      const res = await t.app.api.inject({ url: `/vendor/${f}` });
      expect(res.statusCode, f).toBe(200);
    }
    expect((await t.app.api.inject({ url: '/js/main.js' })).headers['content-type']).toMatch(/javascript/);
    for (const url of ['/vendor/package.json', '/vendor/..%2F..%2Fpackage.json', '/../package.json', '/nothing-here']) {
      expect((await t.app.api.inject({ url })).statusCode, url).toBe(404);
    }
    expect((await t.app.api.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.api.inject({ url: '/metrics' })).body).toContain('shaobing_inbox_depth');
    expect((await t.app.api.inject({ url: '/docs/json' })).json().paths['/api/session']).toBeDefined();
    expect((await t.app.api.inject({ url: '/api/nothing' })).statusCode).toBe(401);
  });

  it('keeps sessions across a restart (the key is in the data dir)', async () => {
    const { token } = (await signIn('gh-admin', pw['gh-admin'], '10.0.0.5')).json();
    await t.stop({ keepData: true });
    t = await startApp({}, t.dataDir);
    expect((await t.app.api.inject({ url: '/api/me', headers: auth(token) })).statusCode).toBe(200);
  });
});

describe('session tokens', () => {
  const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });

  it('expire, and end when the password changes or the person goes', () => {
    let now = 1_000_000;
    const directory = new Directory(config.communities);
    const sessions = new Sessions({ directory, now: () => now, ttlMs: 60_000 });
    const person = directory.people.get('cj-duty-1')!;
    const { token } = sessions.issue(person);
    expect(sessions.verify(token)?.id).toBe('cj-duty-1');
    now += 59_999;
    expect(sessions.verify(token)?.id).toBe('cj-duty-1');
    now += 1;
    expect(sessions.verify(token)).toBeUndefined();

    now = 1_000_000;
    const again = sessions.issue(person).token;
    directory.people.set('cj-duty-1', { ...person, passwordHash: hashPassword('a new password', Buffer.alloc(16, 1), 1024) } as PersonInfo);
    expect(sessions.verify(again)).toBeUndefined();
    directory.people.delete('cj-duty-1');
    expect(sessions.verify(again)).toBeUndefined();
  });
});

describe('console passwords', () => {
  it('are scrypt hashes that verify only the right password', async () => {
    const stored = hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$16384\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$3$AAAA$AAAA')).toBe(false); // N not a power of two
    expect(await verifyPassword('x', undefined)).toBe(false);
  });

  it('the sample people with a username sign in with the password in sample-secrets.json', async () => {
    const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
    const people = config.communities.flatMap((c) => c.people).filter((p) => p.username);
    expect(people.map((p) => p.username).sort()).toEqual(Object.keys(pw).sort());
    for (const p of people.slice(0, 2)) expect(await verifyPassword(pw[p.username!], p.passwordHash)).toBe(true);
  });

  it('usernames are unique across communities and come with a password hash', () => {
    const d = tempDir('shaobing-config-');
    try {
      const hash = hashPassword('password-1', Buffer.alloc(16, 2), 1024);
      const inv = (id: string, extra: string) =>
        `id: ${id}\nname: ${id}\ngrids: [{ id: ${id}-g, name: 网格 }]\npeople:\n  - { id: ${id}-p, roles: [grid_head], grids: [${id}-g], username: duty, passwordHash: "${hash}" }\n${extra}`;
      mkdirSync(join(d.path, 'c'), { recursive: true });
      writeFileSync(join(d.path, 'c/a.yaml'), inv('a', ''));
      writeFileSync(join(d.path, 'c/b.yaml'), inv('b', '  - { id: b-q, roles: [volunteer], grids: [b-g], username: lonely }\n'));
      writeFileSync(join(d.path, 'settings.yaml'), 'communities: [c/a.yaml, c/b.yaml]\n');
      let errors: string[] = [];
      try {
        loadConfig({ settingsPath: join(d.path, 'settings.yaml'), env: {}, cwd: d.path });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        errors = err.errors;
      }
      expect(errors).toEqual([
        "b: /people/0/username: 'duty' is already used by a/a-p",
        'b: /people/1: username and passwordHash go together (a console sign-in needs both)',
      ]);
    } finally {
      d.remove();
    }
  });
});
