// `npm start` tells the person at the terminal where the console is and, when the public sample secrets of
// config/sample-secrets.json open anything, says so loudly (issue #13 item 9). The real entry point as a child.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, ADMIN_TOKEN } from '../helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Start src/main.ts, return its stderr once it has said where the console is (and a moment more). */
function start(env: Record<string, string>): Promise<string> {
  const data = tempDir('shaobing-banner-');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, SHAOBING_DATA_DIR: data.path, SHAOBING_MQTT_PORT: '0', SHAOBING_HTTP_PORT: '0', SHAOBING_ADMIN_TOKEN: ADMIN_TOKEN, SHAOBING_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    data.remove();
  });
  let err = '';
  proc.stdout!.resume();
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d) => {
      err += d;
      if (/console at http:\/\/localhost:\d+\//.test(err)) setTimeout(() => resolve(err), 300);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code} before saying where the console is: ${err}`)));
  });
}

describe('npm start', () => {
  it('prints the console URL and a loud warning while the public sample secrets are in use', async () => {
    const err = await start({ SHAOBING_CONFIG: 'config/settings.yaml' });
    const url = /console at (http:\/\/localhost:(\d+)\/)/.exec(err)!;
    expect(Number(url[2])).toBeGreaterThan(0);
    expect((await fetch(url[1])).status).toBe(200); // the printed address is the console
    expect(err).toMatch(/WARNING: the PUBLIC SAMPLE SECRETS are in use: \d+ device secrets, \d+ people's API tokens/);
    expect(err).toContain('Anyone who has read this repository can connect as these devices');
  }, 60_000);

  it('prints no warning for an inventory of its own', async () => {
    const dir = tempDir('shaobing-own-');
    cleanups.push(() => dir.remove());
    writeFileSync(join(dir.path, 'settings.yaml'), 'communities: [own.yaml]\n');
    writeFileSync(
      join(dir.path, 'own.yaml'),
      `id: own
name: 自建小区
grids: [{ id: o-g1, name: 一网格 }]
buildings:
  - { id: o-b1, name: 1号楼, gridId: o-g1, households: [{ id: o-h1, room: "101" }] }
devices:
  - { id: o-wm1, kind: water-meter, householdId: o-h1, secretHash: "sha256$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }
`,
    );
    const err = await start({ SHAOBING_CONFIG: join(dir.path, 'settings.yaml') });
    expect(err).toMatch(/console at http:\/\/127\.0\.0\.1:\d+\/|console at http:\/\/localhost:\d+\//);
    expect(err).not.toContain('SAMPLE SECRETS');
  }, 60_000);
});
