// The production build: scripts/build.mjs compiles src/ and devices/ to plain JavaScript, and the service runs
// from it with plain `node` (no tsx in the process): device schemas, the console's files and the API docs are
// found beside the built modules. Built into .tmp/ (inside the repository, so node_modules resolves as from dist/).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN, auth, connectDevice, sampleDevices, waitFor } from '../helpers.js';

const out = resolve('.tmp', `build-test-${process.pid}`);
const dataDir = mkdtempSync(join(tmpdir(), 'shaobing-build-'));
let proc: ChildProcess | undefined;

function build(...args: string[]) {
  return spawnSync(process.execPath, ['scripts/build.mjs', '--out', out, ...args], { encoding: 'utf8' });
}

beforeAll(() => {
  mkdirSync('.tmp', { recursive: true });
  const r = build();
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGKILL');
    await new Promise((r) => proc!.once('exit', r));
  }
  rmSync(out, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('build (tsc to dist/, run on plain node)', () => {
  it('emits the entry point, the modules and the assets they read beside them', () => {
    for (const f of ['main.js', 'src/main.js', 'src/ingest/validate.js', 'devices/common.schema.json', 'devices/smoke-detector/schema.json', 'src/web/index.html', 'src/web/js/zh.js']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // Tests and vendor examples are not part of what ships.
    expect(existsSync(join(out, 'devices/devices.test.js'))).toBe(false);
    expect(existsSync(join(out, 'devices/smoke-detector/examples'))).toBe(false);
  });

  it('--check is quiet while the build is current and names the reason once a source is newer', () => {
    expect(build('--check').status).toBe(0);
    utimesSync(join(out, '.build-stamp'), new Date('2000-01-01'), new Date('2000-01-01'));
    const due = build('--check');
    expect(due.status).toBe(1);
    expect(due.stderr).toMatch(/build due: .* changed since the last build/);
    rmSync(join(out, '.build-stamp'));
    expect(build('--check').stderr).toMatch(/has not been built/);
  });

  it('runs with plain node: accepts a device reading, serves the console and the API docs, stops on SIGTERM', async () => {
    proc = spawn(process.execPath, [join(out, 'main.js')], {
      env: {
        ...process.env,
        NODE_OPTIONS: '', // no loader inherited from the test runner: plain node
        SHAOBING_CONFIG: 'config/settings.yaml',
        SHAOBING_DATA_DIR: dataDir,
        SHAOBING_MQTT_PORT: '0',
        SHAOBING_HTTP_PORT: '0',
        SHAOBING_ADMIN_TOKEN: ADMIN_TOKEN,
        SHAOBING_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
    const ports = await new Promise<{ mqtt: number; http: number }>((res, rej) => {
      createInterface({ input: proc!.stdout! }).on('line', (line) => {
        if (line.includes('shaobing listening')) res(JSON.parse(line) as { mqtt: number; http: number });
      });
      void exited.then((code) => rej(new Error(`built service exited (${code}) before listening: ${stderr}`)));
    });
    const http = `http://127.0.0.1:${ports.http}`;
    // Nothing of tsx in the running process.
    const maps = readFileSync(`/proc/${proc.pid}/maps`, 'utf8') + readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8');
    expect(maps).not.toMatch(/tsx/);

    const id = sampleDevices('smoke-detector')[0]!;
    const community = id.startsWith('gh-') ? 'guihuayuan' : 'chunjiang';
    const c = await connectDevice(`mqtt://127.0.0.1:${ports.mqtt}`, id);
    await c.publishAsync(`iot/${community}/${id}/up`, JSON.stringify({ type: 'heartbeat', ts: new Date().toISOString(), smokePct: 0, batteryPct: 66 }), { qos: 1 });
    // A payload its kind's schema (devices/smoke-detector/schema.json, read from the build) refuses.
    await c.publishAsync(`iot/${community}/${id}/up`, JSON.stringify({ type: 'heartbeat', ts: new Date().toISOString(), smokePct: 'lots' }), { qos: 1 });
    c.end(true);
    const device = await waitFor(async () => {
      const r = (await (await fetch(`${http}/api/devices/${id}`, { headers: auth() })).json()) as { batteryPct?: number; state?: { rejected?: number } };
      return r.batteryPct === 66 && (r.state?.rejected ?? 0) >= 1 && r;
    }, 'the reading accepted and the bad one rejected by the built service', 10_000);
    expect(device).toMatchObject({ batteryPct: 66, kind: 'smoke-detector' });

    const page = await fetch(`${http}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="zh-CN">');
    expect((await fetch(`${http}/js/zh.js`)).status).toBe(200);
    const docs = await fetch(`${http}/docs/json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { paths: object }).paths).toHaveProperty(['/api/devices/{id}']);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('the image runs node on the build, not npm', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/RUN node scripts\/build\.mjs/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.start).toBe('node dist/main.js');
    expect(pkg.scripts.prestart).toContain('build.mjs --if-stale');
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.dependencies).not.toHaveProperty('typescript');
  });
});
