// bench/notify: a smoke alarm published over MQTT → the notification's request arriving at a webhook receiver
// (in its own process, bench/receiver.ts), the alarms published from a process of their own (bench/alarms.ts). Latency p50/p99/max at rest, during a burst (bench/load.ts floods
// the broker with water-meter readings as fast as it takes them; that rate is its capacity) and during steady
// load at half of that capacity.
//   npx tsx bench/notify.ts [--alarms 200] [--load-devices 100] [--load-messages 6000] [--fair-reads off]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { arg, benchDevices, writeBenchInventory } from './lib.js';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';

const ALARMS = arg('alarms', 200);
const LOAD_DEVICES = arg('load-devices', 100);
const LOAD_MESSAGES = arg('load-messages', 6000);
/** `--fair-reads off`: the broker without fair reads (src/broker/connectionGuard.ts), for comparison. */
const FAIR = !process.argv.includes('off');

const meters = benchDevices(LOAD_DEVICES);
const detectors = benchDevices(3 * ALARMS, 'bench-sd');

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-notify-'));
  const rx = fork(new URL('./receiver.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'] });
  const rxUrl = await new Promise<string>((r) => rx.once('message', (m: { url: string }) => r(m.url)));
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
      mqtt: { port: 0, host: '127.0.0.1', ...(FAIR ? {} : { fairReads: { turnBytes: 0 } }) },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'warn', format: 'json' },
      notify: { destinations: [{ id: 'ops', type: 'webhook', url: rxUrl, reaches: { roles: ['property_duty'] } }] },
    },
  });
  const app = buildApp(config);
  await app.start();
  const url = `mqtt://127.0.0.1:${app.ports.mqtt}`;
  /** When each alarm was published (by bench/alarms.ts) and when its request reached the receiver. */
  const sentAt = new Map<string, number>();
  const gotAt = new Map<string, number>();
  /** Per phase: the event loop's longest stall (ms) and publish → commit latencies. */
  const stalls: number[] = [];
  const toCommit: number[][] = [];
  rx.on('message', (m: { at?: number; deviceIds?: string[] }) => {
    for (const id of m.deviceIds ?? []) if (m.at !== undefined && !gotAt.has(id)) gotAt.set(id, m.at);
  });
  let readings = 0;
  /** When each alarm was committed as a reading (the split: publish → commit, commit → webhook). */
  const committedAt = new Map<string, number>();
  app.bus.on('reading', 'bench', (r) => {
    readings++;
    if (r.deviceId.startsWith('bench-sd') && !committedAt.has(r.deviceId)) committedAt.set(r.deviceId, Date.now());
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });

  /** `count` smoke alarms, each from its own detector, 20 ms apart, published from a process of their own
   *  (bench/alarms.ts), so an alarm can start while the service's event loop is stalled; their latencies. */
  async function alarms(from: number, count: number): Promise<number[]> {
    loopDelay.reset();
    loopDelay.enable();
    const batch = detectors.slice(from, from + count);
    const child = fork(new URL('./alarms.ts', import.meta.url).pathname, [url, JSON.stringify(batch)], { execArgv: ['--import', 'tsx'] });
    child.on('message', (m: { id: string; at: number }) => sentAt.set(m.id, m.at));
    await new Promise((r) => child.once('exit', r));
    const ids = batch.map(([id]) => id);
    const deadline = Date.now() + 30_000;
    while (ids.some((id) => !gotAt.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    loopDelay.disable();
    stalls.push(loopDelay.max / 1e6);
    toCommit.push(ids.filter((id) => committedAt.has(id) && sentAt.has(id)).map((id) => committedAt.get(id)! - sentAt.get(id)!));
    return ids.filter((id) => gotAt.has(id) && sentAt.has(id)).map((id) => gotAt.get(id)! - sentAt.get(id)!);
  }

  /** Alarms while bench/load.ts sends water-meter readings (rate 0: as fast as the broker takes them). */
  async function underLoad(from: number, rate: number): Promise<{ latencies: number[]; perSecond: number }> {
    const child = fork(new URL('./load.ts', import.meta.url).pathname, [url, JSON.stringify(meters), String(LOAD_MESSAGES), '0', 'bench', String(rate)], {
      execArgv: ['--import', 'tsx'],
    });
    await new Promise((r) => child.once('message', r));
    const r0 = readings;
    const t0 = Date.now();
    child.send('go');
    const out = await alarms(from, ALARMS);
    const perSecond = (readings - r0) / ((Date.now() - t0) / 1000);
    child.kill();
    // Let the backlog drain before the next phase.
    while (app.ingest.backlog().depth > 0 || Date.now() - t0 < 100) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    return { latencies: out, perSecond };
  }

  const rest = await alarms(0, ALARMS);
  // A burst: the load generator floods the broker as fast as it takes messages (its capacity, measured).
  const burst = await underLoad(ALARMS, 0);
  // Steady load at half of that capacity.
  const half = await underLoad(2 * ALARMS, Math.round(burst.perSecond / 2));
  const guard = (app.broker as unknown as { connGuard: { deferrals: number } }).connGuard;
  rx.kill();
  await app.stop();
  rmSync(dir, { recursive: true, force: true });

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const row = (name: string, xs: number[]) => `| ${name} | ${xs.length} | ${pct(xs, 50)} ms | ${pct(xs, 99)} ms | ${Math.max(...xs)} ms |`;
  console.log(`bench/notify: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}; fair reads ${FAIR ? 'on' : 'off'}`);
  console.log(`load: ${LOAD_DEVICES} devices; burst ${fmt(burst.perSecond)} readings/s processed; half load paced at ${fmt(burst.perSecond / 2)}/s, ${fmt(half.perSecond)} readings/s processed; turns cut short by fair reads: ${guard.deferrals}`);
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('\n| phase | alarms delivered | p50 | p99 | max | publish → commit p99 | longest event-loop stall |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const phases: Array<[string, number[]]> = [
    ['at rest', rest],
    [`burst (flood, ${fmt(burst.perSecond)} readings/s)`, burst.latencies],
    [`half capacity (${fmt(half.perSecond)} readings/s)`, half.latencies],
  ];
  phases.forEach(([name, xs], i) => console.log(`${row(name, xs)} ${pct(toCommit[i], 99)} ms | ${Math.round(stalls[i])} ms |`));
  if (process.env.BENCH_DEBUG)
    for (const [name, xs] of [['rest', rest], ['burst', burst.latencies], ['half', half.latencies]] as const)
      console.log(name, 'slowest', [...xs].sort((a, b) => b - a).slice(0, 8));
}

await main();
process.exit(0);
