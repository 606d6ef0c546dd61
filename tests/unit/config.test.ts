import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { tempDir } from '../helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function workspace(files: Record<string, string>): string {
  const d = tempDir('shaobing-config-');
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d.path, name, '..'), { recursive: true });
    writeFileSync(join(d.path, name), text);
  }
  return d.path;
}

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const community = `
id: demo
name: 演示小区
grids: [{ id: g1, name: 一网格 }]
buildings:
  - id: b1
    name: 1号楼
    gridId: g1
    households: [{ id: h1, room: "101", loneElder: true }]
devices:
  - { id: wm1, kind: water-meter, householdId: h1 }
`;

describe('configuration', () => {
  it('loads the shipped settings and both sample communities', () => {
    const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
    expect(config.communities.map((c) => c.name)).toEqual(['春江小区', '桂花园']);
    const chunjiang = config.communities[0];
    expect(chunjiang.buildings.reduce((n, b) => n + b.households.length, 0)).toBe(383);
    expect(chunjiang.grids).toHaveLength(1);
    expect(Object.isFrozen(config.settings.mqtt)).toBe(true);
  });

  it('reports every mistake of a settings file with its path', () => {
    const dir = workspace({
      'settings.yaml': 'mqtt:\n  port: 70000\nclock: sundial\nhttp:\n  prot: 8080\n',
    });
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir }));
    expect(errors).toHaveLength(3);
    expect(errors).toEqual(
      expect.arrayContaining([
        'settings.yaml: /mqtt/port: must be <= 65535',
        'settings.yaml: /clock: must be one of: wall, event',
        "settings.yaml: /http/prot: unknown setting (did you mean 'port'?)",
      ]),
    );
  });

  it('reports inventory mistakes by file and path, schema and references alike', () => {
    const dir = workspace({
      'settings.yaml': 'communities: [c.yaml]\n',
      'c.yaml': community.replace('kind: water-meter, householdId: h1', 'kind: water-meter, householdId: h9').replace('gridId: g1', 'gridId: g7'),
    });
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir }));
    expect(errors).toEqual(["c.yaml: /buildings/0/gridId: no micro-grid 'g7'", "c.yaml: /devices/0/householdId: no household 'h9'"]);
  });

  it('refuses two parking sensors on one space (one car counted twice), naming the second', () => {
    const lot = `
parkingLots:
  - { id: lot1, name: 地面停车场, gridId: g1, capacity: 2, spaces: [{ id: sp1, zone: resident }, { id: sp2, zone: resident }] }
`;
    const text = community.replace('devices:', `${lot}devices:\n  - { id: ps1, kind: parking-sensor, spaceId: sp1 }\n  - { id: ps2, kind: parking-sensor, spaceId: sp1 }\n  - { id: ps3, kind: parking-sensor, spaceId: sp2 }`);
    const dir = workspace({ 'settings.yaml': 'communities: [c.yaml]\n', 'c.yaml': text });
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir }));
    expect(errors).toEqual(["c.yaml: /devices/1/spaceId: parking space 'sp1' already has sensor ps1"]);
  });

  it('refuses an id that two communities both use: scope is judged by grid and household id', () => {
    const other = community.replace('id: demo', 'id: demo2').replace('name: 演示小区', 'name: 另一个').replace('id: wm1', 'id: wm2');
    const dir = workspace({ 'settings.yaml': 'communities: [a.yaml, b.yaml]\n', 'a.yaml': community, 'b.yaml': other });
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir }));
    expect(errors).toEqual([
      "demo2: id 'g1' is also used by community 'demo' (ids are unique across communities)",
      "demo2: id 'b1' is also used by community 'demo' (ids are unique across communities)",
      "demo2: id 'h1' is also used by community 'demo' (ids are unique across communities)",
    ]);
  });

  it("checks gate lanes: cameras of the gate, one lane each, and a Vzenith camera's direction known", () => {
    const gate = (lanes: string) => `
parkingLots:
  - id: lot1
    name: 停车场
    gridId: g1
    capacity: 10
    gates:
      - id: gate1
        name: 大门
        lanes: ${lanes}
`;
    const cameras = `
  - { id: cam-in, kind: smart-gate, format: vzenith, gateId: gate1 }
  - { id: cam-out, kind: smart-gate, format: vzenith, gateId: gate1 }
`;
    const load = (inventory: string) => {
      const dir = workspace({ 'settings.yaml': 'communities: [c.yaml]\n', 'c.yaml': inventory });
      return () => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir });
    };
    const good = '[{ name: 入口, direction: in, cameras: [cam-in] }, { name: 出口, direction: out, cameras: [cam-out] }]';
    const config = load(community + cameras + gate(good))();
    expect(config.communities[0].parkingLots[0].gates[0].lanes).toEqual([
      { name: '入口', direction: 'in', cameras: ['cam-in'] },
      { name: '出口', direction: 'out', cameras: ['cam-out'] },
    ]);

    const bad = '[{ direction: in, cameras: [cam-in, wm1] }, { direction: out, cameras: [cam-in] }, sideway]';
    expect(errorsOf(load(community + cameras + gate(bad)))).toEqual([
      "c.yaml: /parkingLots/0/gates/0/lanes/0/cameras/1: 'wm1' is not a camera (smart-gate device) of gate 'gate1'",
      "c.yaml: /parkingLots/0/gates/0/lanes/1/cameras/0: 'cam-in' already watches /parkingLots/0/gates/0/lanes/0",
      "c.yaml: /devices/2: a vzenith camera's direction comes from its lane: list 'cam-out' in the cameras of a lane of gate 'gate1' (/parkingLots/0/gates/0/lanes)",
    ]);
    // The older form (lane names only) still loads, but says nothing of direction: a Vzenith camera there cannot work.
    expect(errorsOf(load(community + cameras + gate('[in, out]')))).toHaveLength(2);
    // One lane needs no camera list.
    expect(() => load(community + cameras.split('\n').slice(0, 2).join('\n') + '\n' + gate('[{ name: 单车道, direction: in }]'))()).not.toThrow();
    expect(errorsOf(load(community + gate('[{ direction: both }]')))).toEqual([
      'c.yaml: /parkingLots/0/gates/0/lanes/0: must be string',
      'c.yaml: /parkingLots/0/gates/0/lanes/0/direction: must be one of: in, out',
      'c.yaml: /parkingLots/0/gates/0/lanes/0: must match a schema in anyOf',
    ]);
  });

  it('lets the environment override the file, and rejects a bad port by name', () => {
    const dir = workspace({ 'settings.yaml': 'mqtt: { port: 1884 }\n' });
    const config = loadConfig({
      settingsPath: join(dir, 'settings.yaml'),
      env: { SHAOBING_MQTT_PORT: '0', SHAOBING_CLOCK: 'event', SHAOBING_ADMIN_TOKEN: 'x'.repeat(20) },
      cwd: dir,
    });
    expect(config.settings.mqtt.port).toBe(0);
    expect(config.settings.clock).toBe('event');
    expect(config.settings.http.port).toBe(8080);
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: { SHAOBING_HTTP_PORT: 'eighty' }, cwd: dir }));
    expect(errors).toEqual(["environment SHAOBING_HTTP_PORT: must be an integer port, got 'eighty'"]);
  });

  it('stops the process with every error listed and no stack trace', () => {
    const dir = workspace({ 'settings.yaml': 'mqtt:\n  port: -1\nlog: { level: loud }\ncommunities: [missing.yaml]\n' });
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, SHAOBING_CONFIG: join(dir, 'settings.yaml') },
      encoding: 'utf8',
      timeout: 60_000, // a loaded machine takes tsx 30 s to start; before the fix this ran until the limit
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toContain('invalid configuration (3 errors)');
    expect(run.stderr).toContain('/mqtt/port: must be >= 0');
    expect(run.stderr).toContain('/log/level: must be one of');
    expect(run.stderr).toMatch(/communities\/0 .*missing\.yaml.*file not found/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});

describe('configuration mistakes that used to pass silently (issue #13 item 6)', () => {
  const settings = `
communities: [c.yaml]
telemetry: { sink: sqlite, retension: 30 }
rules:
  no_water_used: { hours: 12 }
  smoke: { flapHoldMinutes: -1 }
notify:
  destinations:
    - { id: duty, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" }
    - { id: duty, type: webhook, url: "https://example.cn/hook" }
  routes:
    smok: { roles: [property_duty] }
  escalation:
    smoke: [{ afterMinutes: 3, roles: [grid_head] }]
    illegal_parkng: [{ afterMinutes: 15 }]
  digest: { cron: "0 25 * * *" }
`;
  const withPerson = `${community}people:\n  - { id: p1, roles: [property_duty], grids: [g1], channels: { destinations: [nowhere] } }\n`;

  it('reports unknown alert kinds, unknown telemetry keys, rule, destination and cron mistakes at load, all at once, by path', () => {
    const dir = workspace({ 'settings.yaml': settings, 'c.yaml': withPerson });
    const errors = errorsOf(() => loadConfig({ settingsPath: join(dir, 'settings.yaml'), env: {}, cwd: dir }));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^settings\.yaml: \/notify\/routes\/smok: unknown alert kind.*did you mean 'smoke'/),
        expect.stringMatching(/^settings\.yaml: \/notify\/escalation\/illegal_parkng: unknown alert kind.*did you mean 'illegal_parking'/),
        expect.stringMatching(/^settings\.yaml: \/telemetry\/retension: unknown setting.*did you mean 'retentionDays'/),
        expect.stringMatching(/^settings\.yaml: \/rules\/no_water_used: unknown rule/),
        expect.stringMatching(/^settings\.yaml: \/rules\/smoke\/flapHoldMinutes: must be >= 0/),
        expect.stringMatching(/^settings\.yaml: \/notify\/destinations\/1\/id: 'duty' is used twice/),
        expect.stringMatching(/^c\.yaml: \/people\/0\/channels\/destinations\/0: no destination 'nowhere'/),
        expect.stringMatching(/^settings\.yaml: \/notify\/digest\/cron: '0 25 \* \* \*' is not a cron expression/),
      ]),
    );
    expect(errors).toHaveLength(8);
  });

  it('a misspelt route key stops the process with exit 78, naming the path', () => {
    const dir = workspace({ 'settings.yaml': 'notify:\n  routes:\n    smok: { roles: [property_duty] }\n' });
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      // Free ports: before the fix this process started and ran until the timeout.
      env: { ...process.env, SHAOBING_CONFIG: join(dir, 'settings.yaml'), SHAOBING_DATA_DIR: join(dir, 'data'), SHAOBING_MQTT_PORT: '0', SHAOBING_HTTP_PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000, // a loaded machine takes tsx 30 s to start; before the fix this ran until the limit
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/settings\.yaml: \/notify\/routes\/smok: unknown alert kind/);
  }, 90_000);
});
