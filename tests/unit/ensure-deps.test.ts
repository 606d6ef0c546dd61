// The first `npm start` / `npm test` installs packages through scripts/ensure-deps.mjs (issue #13 item 9): it
// must say what it does while it does it — npm's progress, the install scripts' output (better-sqlite3's
// compile, which npm hides by default) and a line while it waits. Real npm, on a package with a local
// dependency whose install script takes a moment (nothing is downloaded).
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers.js';

const dir = tempDir('shaobing-ensure-deps-');
afterAll(() => dir.remove());

describe('scripts/ensure-deps.mjs', () => {
  it('shows the install scripts\' output and a progress line while npm installs', () => {
    mkdirSync(join(dir.path, 'slow-native'));
    writeFileSync(
      join(dir.path, 'slow-native', 'package.json'),
      JSON.stringify({ name: 'slow-native', version: '1.0.0', scripts: { install: 'node -e "console.log(\'compiling slow-native\'); setTimeout(() => {}, 1500)"' } }),
    );
    writeFileSync(join(dir.path, 'package.json'), JSON.stringify({ name: 'fresh-clone', version: '1.0.0', private: true, dependencies: { 'slow-native': 'file:./slow-native' } }));
    const run = spawnSync(process.execPath, [resolve('scripts/ensure-deps.mjs')], {
      cwd: dir.path,
      encoding: 'utf8',
      env: { ...process.env, SHAOBING_INSTALL_TICK_SECONDS: '0.5', npm_config_offline: 'true' },
      timeout: 60_000,
    });
    const out = run.stdout + run.stderr;
    expect(run.status, out).toBe(0);
    expect(out).toContain('[shaobing] first run: installing npm packages');
    expect(out).toContain('compiling slow-native'); // the install script's own output is not swallowed
    expect(out).toMatch(/\[shaobing\] still installing npm packages… \d+ s so far/);
    expect(out).toMatch(/\[shaobing\] Installing npm packages: done in \d+ s/);
    expect(existsSync(join(dir.path, 'node_modules', '.package-lock.json'))).toBe(true);
  });
});
