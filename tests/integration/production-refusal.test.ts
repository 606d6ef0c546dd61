// Deployment defaults (issue 12 item 8): production — NODE_ENV=production, as the Docker image sets, or settings
// `production: true` — refuses to start while the public sample secrets open devices or people, or a secret is
// still deploy/env.example's placeholder; exit 78 with a clear message, unless the run is declared a demo
// (SHAOBING_DEMO=1 / settings demo: true). The real entry point is started as a child process.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/config/inventory.js';
import { productionRefusal } from '../../src/config/samples.js';
import { tempDir, startApp } from '../helpers.js';

const data = tempDir('shaobing-prod-');
afterAll(() => data.remove());

const refusalOf = (env: Record<string, string>, overrides: Record<string, unknown> = {}, settingsPath = 'config/settings.yaml') => {
  const config = loadConfig({ settingsPath, env, overrides });
  return productionRefusal(config, new Directory(config.communities), env);
};

describe('production with public secrets', () => {
  it('is refused, by setting path, with the sample inventories, the sample admin token or the env.example placeholders', () => {
    const lines = refusalOf({ NODE_ENV: 'production', SHAOBING_ADMIN_TOKEN: 'change-me-admin-token-0123456789' });
    expect(lines).toEqual([
      expect.stringMatching(/^\/communities: \d+ devices have the public sample secret/),
      expect.stringMatching(/^\/communities: \d+ people have the public sample API token/),
      "/adminToken: is deploy/env.example's placeholder (change-me-…)",
    ]);
    // settings `production: true` without NODE_ENV; the Influx token placeholder too.
    const own = join(data.path, 'own.yaml');
    writeFileSync(own, 'communities: []\nadminToken: a-real-secret-token-of-ours\n');
    expect(
      refusalOf({}, { production: true, telemetry: { sink: 'influx', influx: { url: 'http://127.0.0.1:1', org: 'o', bucket: 'b', token: 'change-me-influx-token-0123456789abcdef' } } }, own),
    ).toEqual(["/telemetry/influx/token: is deploy/env.example's placeholder (change-me-…)"]);
  });

  it('is allowed as a declared demo, outside production, and with secrets of its own', () => {
    expect(refusalOf({ NODE_ENV: 'production', SHAOBING_DEMO: '1' })).toEqual([]);
    expect(refusalOf({ NODE_ENV: 'production' }, { demo: true })).toEqual([]);
    expect(refusalOf({ NODE_ENV: 'development' })).toEqual([]);
    expect(refusalOf({})).toEqual([]);
    const own = join(data.path, 'own.yaml');
    writeFileSync(own, 'communities: []\nadminToken: a-real-secret-token-of-ours\n');
    expect(refusalOf({ NODE_ENV: 'production' }, {}, own)).toEqual([]);
  });

  const env = (extra: Record<string, string>) => ({
    ...process.env,
    SHAOBING_CONFIG: 'config/settings.yaml',
    SHAOBING_DATA_DIR: data.path,
    SHAOBING_MQTT_PORT: '0',
    SHAOBING_HTTP_PORT: '0',
    SHAOBING_LOG_LEVEL: 'warn',
    ...extra,
  });

  it('stops the real entry point with exit 78 and says what to do', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: env({ NODE_ENV: 'production' }), encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(78);
    expect(run.stderr).toContain('refusing to start in production with public secrets');
    expect(run.stderr).toMatch(/config\/settings\.yaml: \/communities: \d+ devices have the public sample secret/);
    expect(run.stderr).toContain('SHAOBING_DEMO=1');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('starts the real entry point in production when told it is a demo', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: env({ NODE_ENV: 'production', SHAOBING_DEMO: '1' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const started = new Promise<boolean>((resolve) => {
      child.stderr.on('data', (c: string) => {
        stderr += c;
        if (stderr.includes('console at')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    expect(await started, stderr).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 45_000);
});

describe('deployment files', () => {
  it('keeps .env, data and certificates out of the image', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const must of ['.env', '.env.*', 'data', 'deploy/certs', '*.key', '*.pem']) expect(ignored).toContain(must);
  });

  it('publishes every compose port on 127.0.0.1 unless told otherwise', () => {
    const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { ports?: string[] }> };
    const withDefaults = (v: string) => v.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name, dflt: string) => dflt);
    const ports = Object.entries(compose.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => [name, withDefaults(p)]));
    expect(ports.map(([, p]) => p)).toEqual(expect.arrayContaining(['127.0.0.1:1883:1883', '127.0.0.1:8883:8883', '127.0.0.1:8080:8080', '127.0.0.1:8086:8086', '127.0.0.1:3000:3000']));
    for (const [name, p] of ports) expect(p, `${name} ${p}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('takes the public URL of ack links from SHAOBING_PUBLIC_URL', () => {
    const c = loadConfig({ settingsPath: 'config/settings.yaml', env: { SHAOBING_PUBLIC_URL: 'https://shaobing.example' } });
    expect(c.settings.http.publicUrl).toBe('https://shaobing.example');
  });

  it("health-checks the image on the configured port, not a fixed 8080", async () => {
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/HEALTHCHECK[^\n]*\n\s*CMD \["node", "scripts\/healthcheck\.mjs"\]/);
    const t = await startApp();
    try {
      const port = String(t.app.ports.http);
      // Not spawnSync: the service under test answers from this process's event loop.
      const check = (p: string) =>
        new Promise<number | null>((resolve) => spawn(process.execPath, ['scripts/healthcheck.mjs'], { env: { ...process.env, SHAOBING_HTTP_PORT: p } }).once('exit', resolve));
      expect(await check(port)).toBe(0);
      expect(port).not.toBe('8080');
      expect(await check('9')).toBe(1); // nothing listens there
    } finally {
      await t.stop();
    }
  });
});
