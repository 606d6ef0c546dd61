// bench/ingest: N simulated devices publish canonical readings over loopback TCP as fast as the broker takes
// them; the same run measures bare aedes (no auth, no pipeline) and the full shaobing pipeline (auth, ACL,
// decode, validate, state, rules, persistence), and prints both rates and their ratio.
//   npx tsx bench/ingest.ts [--devices 100] [--messages 300] [--rounds 2]
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import { arg, benchDevices, writeBenchInventory, COMMUNITY } from './lib.js';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';

const DEVICES = arg('devices', 100);
const MESSAGES = arg('messages', 300);
const ROUNDS = arg('rounds', 2);
const TOTAL = DEVICES * MESSAGES;

const devices = benchDevices(DEVICES);


/** Drive the load child against `url`; `counted()` tells how many messages the server has taken so far. */
async function drive(url: string, qos: 0 | 1, counted: () => number): Promise<number> {
  const child = fork(new URL('./load.ts', import.meta.url).pathname, [url, JSON.stringify(devices), String(MESSAGES), String(qos), COMMUNITY], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise((r) => child.once('message', r));
  const t0 = performance.now();
  child.send('go');
  const deadline = Date.now() + 120_000;
  while (counted() < TOTAL) {
    if (Date.now() > deadline) throw new Error(`timed out: ${counted()}/${TOTAL}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const secs = (performance.now() - t0) / 1000;
  child.kill();
  return TOTAL / secs;
}

async function bare(qos: 0 | 1): Promise<number> {
  let count = 0;
  const broker = await Aedes.createBroker({
    authorizePublish: (_c, _p, done) => {
      count++;
      done(null);
    },
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await drive(`mqtt://127.0.0.1:${port}`, qos, () => count);
  } finally {
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
  }
}

const ALL_RULES = ['smoke', 'no_water_use', 'continuous_water_flow', 'illegal_parking', 'unregistered_vehicle', 'visitor_overstay', 'lot_full', 'device_offline', 'low_battery', 'device_tamper', 'device_fault', 'missed_check'];

/** `foundation`: decode, validate, state and persistence only — every rule off and no telemetry history. */
/** `fair`: false turns the broker's fair reads off (mqtt.fairReads.turnBytes 0), to state what fairness costs. */
async function pipeline(qos: 0 | 1, synchronous: 'full' | 'normal', foundation = false, fair = true): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-'));
  const inventory = writeBenchInventory(dir, [{ kind: 'water-meter', devices }], { loneElder: true });
  const config = loadConfig({
    settingsPath: null,
    env: {},
    overrides: {
      dataDir: dir,
      communities: [inventory],
      mqtt: { port: 0, host: '127.0.0.1', ...(fair ? {} : { fairReads: { turnBytes: 0 } }) },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'warn', format: 'json' },
      store: { synchronous },
      ...(process.env.BENCH_SINK ? { telemetry: { sink: process.env.BENCH_SINK } } : {}),
      ...(foundation ? { telemetry: { sink: 'none' }, rules: Object.fromEntries(ALL_RULES.map((r) => [r, { enabled: false }])) } : {}),
    },
  });
  const app = buildApp(config);
  await app.start();
  let count = 0;
  app.bus.on('reading', 'bench', () => count++);
  try {
    return await drive(`mqtt://127.0.0.1:${app.ports.mqtt}`, qos, () => count);
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  console.log(`bench/ingest: ${DEVICES} devices × ${MESSAGES} messages = ${TOTAL} per run, ${ROUNDS} rounds, interleaved`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  const variants: Array<[string, () => Promise<number>]> = [
    ['bare aedes, QoS0', () => bare(0)],
    ['shaobing foundation only (no rules, no history), QoS0', () => pipeline(0, 'full', true)],
    ['shaobing pipeline, QoS0', () => pipeline(0, 'full')],
    ['shaobing pipeline, QoS0, fair reads off', () => pipeline(0, 'full', false, false)],
    ['bare aedes, QoS1', () => bare(1)],
    ['shaobing pipeline, QoS1 (inbox, synchronous=full)', () => pipeline(1, 'full')],
    ['shaobing pipeline, QoS1 (inbox, synchronous=full), fair reads off', () => pipeline(1, 'full', false, false)],
    ['shaobing pipeline, QoS1 (inbox, synchronous=normal)', () => pipeline(1, 'normal')],
  ];
  const only = process.argv.indexOf('--only');
  if (only > 0) variants.splice(0, variants.length, ...variants.filter(([name]) => name.includes(process.argv[only + 1])));
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of variants) {
      const rate = await fn();
      results.set(name, [...(results.get(name) ?? []), rate]);
      console.log(`  round ${round + 1}: ${name}: ${fmt(rate)} msg/s`);
    }
  }
  const m = (name: string) => median(results.get(name)!);
  console.log('\n| variant | msg/s (median) | ratio to bare aedes, same QoS |');
  console.log('| --- | ---: | ---: |');
  for (const [name] of variants) {
    const base = results.get(name.includes('QoS0') ? 'bare aedes, QoS0' : 'bare aedes, QoS1');
    console.log(`| ${name} | ${fmt(m(name))} | ${base ? `${(m(name) / median(base)).toFixed(2)}×` : '–'} |`);
  }
}

await main();
process.exit(0);
