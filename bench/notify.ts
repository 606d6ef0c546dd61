// bench/notify: a smoke alarm published over MQTT → the notification arriving at a webhook receiver.
// Latency p50/p99 at rest, and again while bench/load.ts floods the broker with water-meter readings.
//   npx tsx bench/notify.ts [--alarms 200] [--load-devices 100] [--load-messages 6000]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { arg, benchDevices, writeBenchInventory } from './lib.js';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { RobotReceiver } from '../tests/robotReceiver.js';

const ALARMS = arg('alarms', 200);
const LOAD_DEVICES = arg('load-devices', 100);
const LOAD_MESSAGES = arg('load-messages', 6000);

const meters = benchDevices(LOAD_DEVICES);
const detectors = benchDevices(2 * ALARMS, 'bench-sd');


const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-notify-'));
  const rx = await new RobotReceiver({ perMinute: 1_000_000 }).start();
  const config = loadConfig({
    settingsPath: null,
    env: {},
    overrides: {
      dataDir: dir,
      communities: [
        writeBenchInventory(
          dir,
          [
            { kind: 'water-meter', devices: meters },
            { kind: 'smoke-detector', devices: detectors },
          ],
          { people: ['  - { id: duty-1, roles: [property_duty], grids: [bg1], mobile: "13800000001" }'] },
        ),
      ],
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'warn', format: 'json' },
      notify: { destinations: [{ id: 'ops', type: 'webhook', url: rx.robotUrl('webhook', 'ops'), reaches: { roles: ['property_duty'] } }] },
    },
  });
  const app = buildApp(config);
  await app.start();
  const url = `mqtt://127.0.0.1:${app.ports.mqtt}`;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const seen = new Set<number>();
  const poll = setInterval(() => {
    for (const r of rx.received) {
      if (seen.has(r.at + r.text.length) || !r.accepted) continue;
      seen.add(r.at + r.text.length);
      for (const n of (r.body.notifications as Array<{ alert: { deviceId: string } }>) ?? []) {
        const t0 = sentAt.get(n.alert.deviceId);
        if (t0 !== undefined) latencies.push(r.at - t0);
      }
    }
  }, 5);

  async function alarms(from: number, count: number): Promise<number[]> {
    latencies.length = 0;
    for (let i = from; i < from + count; i++) {
      const [id, secret] = detectors[i];
      const c = await mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
      sentAt.set(id, Date.now());
      await c.publishAsync(`iot/bench/${id}/up`, JSON.stringify({ type: 'alarm', smokePct: 40 }), { qos: 1 });
      await c.endAsync();
      await new Promise((r) => setTimeout(r, 20));
    }
    const deadline = Date.now() + 30_000;
    while (latencies.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return [...latencies];
  }

  const rest = await alarms(0, ALARMS);
  // Under load: the ingest benchmark's load generator floods the broker while the alarms go out.
  const child = fork(new URL('./load.ts', import.meta.url).pathname, [url, JSON.stringify(meters), String(LOAD_MESSAGES), '0', 'bench'], { execArgv: ['--import', 'tsx'] });
  await new Promise((r) => child.once('message', r));
  let readings = 0;
  app.bus.on('reading', 'bench', () => readings++);
  const t0 = Date.now();
  child.send('go');
  const loaded = await alarms(ALARMS, ALARMS);
  const loadSecs = (Date.now() - t0) / 1000;
  child.kill();
  clearInterval(poll);
  await app.stop();
  await rx.stop();
  rmSync(dir, { recursive: true, force: true });

  const row = (name: string, xs: number[]) => `| ${name} | ${xs.length} | ${pct(xs, 50)} ms | ${pct(xs, 99)} ms | ${Math.max(...xs)} ms |`;
  console.log(`bench/notify: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`);
  console.log(`load: ${LOAD_DEVICES} devices, ${Math.round(readings / loadSecs).toLocaleString('en-US')} readings/s processed during the loaded phase`);
  console.log('\n| phase | alarms delivered | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |');
  console.log(row('at rest', rest));
  console.log(row('under ingest load', loaded));
  if (process.env.BENCH_DEBUG) console.log('slowest', [...loaded].sort((a, b) => b - a).slice(0, 8), 'rest slowest', [...rest].sort((a, b) => b - a).slice(0, 5));
}

await main();
process.exit(0);
