// npm run demo [-- --ports 0] [--speed 60] [--seed 1] [--hours 24] [--data <dir>]
//
// Starts shaobing on the wall clock (MQTT 1883, HTTP 8080, or SHAOBING_MQTT_PORT / SHAOBING_WS_PORT /
// SHAOBING_HTTP_PORT like `npm start`; --ports 0 for free ones) with the two sample
// communities, then plays both through the community simulator at 60× (a day in 24 minutes), messages stamped
// in real time. So that a new user sees alerts within the first minute, it also stages a few stories at once:
// 王婆婆's smoke detector in 桂花园6号楼302 goes off (gas left on), a van nobody registered drives in at
// 春江小区's gate, and a car stops in 春江小区's fire lane during the road works. The fire-lane dwell is set to
// 1 minute for the demo (遂宁 warns after 1 min, DOMAIN.md §3; the default is 3). New alerts are printed as
// they come; Ctrl-C stops everything. Data goes to a temporary folder unless --data is given.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { CommunitySimulator, type Injection } from './community.js';
import { loadSecrets, ROOT } from './lib/inventory.js';
import { ApiClient, type Alert } from './lib/api.js';
import { connectAll, disconnectAll, play } from './lib/play.js';
import { HOUR, MINUTE } from './lib/time.js';
import { runAsCli } from './lib/cli.js';

/** Stories staged at the start (virtual offsets; at 60× a virtual minute is a real second). */
export const DEMO_STORIES: Record<string, Injection[]> = {
  guihuayuan: [{ at: 20_000, deviceId: 'gh-sd-6-302', helper: 'alarm', args: { smokePct: 42, temperatureC: 48 } }],
  chunjiang: [
    { at: 2 * MINUTE, deviceId: 'cj-gt-main', helper: 'enter', args: { plate: '苏E5M21K' } },
    { at: 3 * MINUTE, deviceId: 'cj-ps-fl2', helper: 'park' },
    { at: 3 * MINUTE + 2 * HOUR, deviceId: 'cj-ps-fl2', helper: 'leave' },
  ],
};

const USAGE = `usage: npm run demo [-- --ports 0] [--speed 60] [--seed 1] [--hours 24] [--data <dir>]`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ports: { type: 'string' },
      speed: { type: 'string', default: '60' },
      seed: { type: 'string', default: '1' },
      hours: { type: 'string', default: '24' },
      data: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const speed = Number(values.speed);
  if (!(speed > 0)) {
    console.error(`--speed must be a positive number, not '${values.speed}'`);
    return 64;
  }
  const freePorts = values.ports === '0';
  const dataDir = values.data ? resolve(values.data) : mkdtempSync(join(tmpdir(), 'shaobing-demo-'));
  const adminToken = process.env.SHAOBING_ADMIN_TOKEN ?? `demo-${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    settingsPath: resolve(ROOT, 'config/settings.yaml'),
    // The ports of the environment, as `npm start` takes them (nothing else: the demo keeps its own data dir,
    // clock and log level).
    env: Object.fromEntries(['SHAOBING_MQTT_PORT', 'SHAOBING_WS_PORT', 'SHAOBING_HTTP_PORT'].filter((k) => process.env[k]).map((k) => [k, process.env[k]])),
    cwd: ROOT,
    overrides: {
      dataDir,
      adminToken,
      clock: 'wall',
      log: { level: process.env.SHAOBING_LOG_LEVEL ?? 'error' },
      rules: { illegal_parking: { fireLaneMinutes: 1 } },
      ...(freePorts ? { mqtt: { port: 0 }, http: { port: 0 } } : {}),
    },
  });
  const app = buildApp(config);
  try {
    await app.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const s = config.settings;
    console.error(
      `could not start shaobing: ${e.message}${e.code === 'EADDRINUSE' ? ` — is something else on ${s.mqtt.port}/${s.http.port}? try: npm run demo -- --ports 0, or SHAOBING_MQTT_PORT / SHAOBING_HTTP_PORT` : ''}`,
    );
    await app.stop().catch(() => undefined);
    if (!values.data) rmSync(dataDir, { recursive: true, force: true });
    return 1;
  }
  const { mqtt, http } = app.ports;
  const httpUrl = `http://localhost:${http}`;
  const mqttUrl = `mqtt://127.0.0.1:${mqtt}`;
  const secrets = loadSecrets();
  const duty = secrets.people['gh-duty-1'];
  console.log(`
哨兵 shaobing demo — 春江小区 and 桂花园 at ${speed}× (a day in ${((24 * 60) / speed).toFixed(0)} min), wall clock
  console    ${httpUrl}/                    (big screen: ${httpUrl}/?mode=big)
  API        ${httpUrl}/api/alerts          (OpenAPI: ${httpUrl}/docs)
  live       curl -N -H "Authorization: Bearer ${adminToken}" ${httpUrl}/api/stream
  admin      token ${adminToken}
  staff      桂花园 duty 卢师傅 (gh-duty-1) token ${duty}  — sees 桂花园 only
  MQTT       ${mqttUrl}   (devices log in with config/sample-secrets.json)
  try        curl -s -H "Authorization: Bearer ${duty}" ${httpUrl}/api/alerts
             curl -s -H "Authorization: Bearer ${adminToken}" ${httpUrl}/api/parking/lots
Staged: smoke alarm in 桂花园6号楼302 now, an unregistered van at 春江小区's gate in ~2 s, a car in the fire lane
in ~3 s (alert about a minute later). Everything else is the simulated day. Ctrl-C to stop.
`);

  const start = Date.now();
  const stamp = (t: number) => start + (t - start) / speed;
  const api = new ApiClient(httpUrl, adminToken);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  // Print alerts as they come (and as they resolve).
  const seen = new Map<number, string>();
  const watch = (async () => {
    while (!stop.signal.aborted) {
      try {
        const items = await api.alerts({ limit: '100' });
        for (const a of [...items].reverse()) {
          if (seen.get(a.id) === a.status) continue;
          const first = !seen.has(a.id);
          seen.set(a.id, a.status);
          if (first || a.status === 'resolved') console.log(line(a, start));
        }
      } catch {
        // the service is stopping
      }
      await sleep(1500, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  })();

  const sims = config.communities.map(
    (community) =>
      new CommunitySimulator({ community, seed: values.seed, start, durationMs: Number(values.hours) * HOUR, stamp, inject: DEMO_STORIES[community.id] ?? [] }),
  );
  try {
    for (const sim of sims) await connectAll(sim.devices.values(), mqttUrl, secrets.devices);
    await Promise.all(sims.map((sim) => play(sim.events(), sim.devices, { mqttUrl, secrets: secrets.devices, speed, api, signal: stop.signal })));
    if (!stop.signal.aborted) {
      console.log(`the simulated ${values.hours} h are over; shaobing keeps running — Ctrl-C to stop`);
      await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    stop.abort();
    await watch;
    for (const sim of sims) await disconnectAll(sim.devices.values());
    await app.stop();
    if (!values.data) rmSync(dataDir, { recursive: true, force: true });
  }
  return 0;
}

function line(a: Alert, start: number): string {
  const secs = Math.max(0, Math.round((Date.now() - start) / 1000));
  const when = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
  const mark = a.status === 'resolved' ? '✓' : a.severity === 'critical' ? '🔥' : '🔔';
  return `${when.padStart(6)} ${mark} ${a.kind.padEnd(21)} ${a.severity.padEnd(8)} ${a.status.padEnd(9)} ${a.title}`;
}

runAsCli(import.meta.url, main, { stack: true });
