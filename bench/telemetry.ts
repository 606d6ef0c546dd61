// bench/telemetry: the same ingest load (N devices publishing canonical water-meter readings over loopback
// MQTT, from bench/load.ts in a child process) through the full pipeline with each telemetry sink, side by
// side: none, sqlite (rows in the processing transaction), influx (line protocol to a local victoria-metrics,
// buffered after commit). Prints ingest msg/s and, for influx, how long after the last message every point
// was written.
//   npx tsx bench/telemetry.ts [--devices 100] [--messages 300] [--rounds 3] [--qos 1]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, benchDevices, writeBenchInventory, COMMUNITY } from './lib.js';
import { loadConfig } from '../src/config/load.js';
import { buildApp, type App } from '../src/app.js';
import { VictoriaMetrics, haveVictoriaMetrics } from '../tests/victoria-metrics.js';
import { LineEncoder } from '../src/telemetry/lineProtocol.js';
import { SqliteSink } from '../src/telemetry/sqlite.js';
import { openDb } from '../src/store/db.js';
import { sqliteStore } from '../src/store/sqlite/index.js';
import { createMetrics } from '../src/metrics.js';
import { createLogger } from '../src/log.js';
import { createClock } from '../src/clock/clock.js';
import { EventBus } from '../src/bus.js';
import { Directory } from '../src/config/inventory.js';

const DEVICES = arg('devices', 100);
const MESSAGES = arg('messages', 300);
const ROUNDS = arg('rounds', 3);
const QOS = arg('qos', 1) as 0 | 1;
const TOTAL = DEVICES * MESSAGES;
const devices = benchDevices(DEVICES);


async function counter(app: App, result: string): Promise<number> {
  const m = await app.metrics.telemetryPoints.get();
  return m.values.find((v) => v.labels.sink === 'influx' && v.labels.result === result)?.value ?? 0;
}

interface Result {
  rate: number;
  /** influx: ms from the last reading processed to the last point written. */
  drainMs?: number;
  spooled?: number;
}

async function run(sink: 'none' | 'sqlite' | 'influx', vm: VictoriaMetrics | null): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-telemetry-'));
  const telemetry = sink === 'influx' ? { sink, influx: { url: vm!.url, org: 'bench', bucket: 'bench', token: 'bench' } } : { sink };
  const config = loadConfig({
    settingsPath: null,
    env: {},
    overrides: {
      dataDir: dir,
      communities: [writeBenchInventory(dir, [{ kind: 'water-meter', devices }])],
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'warn', format: 'json' },
      telemetry,
    },
  });
  const app = buildApp(config);
  await app.start();
  let count = 0;
  app.bus.on('reading', 'bench', () => count++);
  const child = fork(new URL('./load.ts', import.meta.url).pathname, [app.ports.mqtt ? `mqtt://127.0.0.1:${app.ports.mqtt}` : '', JSON.stringify(devices), String(MESSAGES), String(QOS), COMMUNITY], {
    execArgv: ['--import', 'tsx'],
  });
  try {
    await new Promise((r) => child.once('message', r));
    const t0 = performance.now();
    child.send('go');
    const deadline = Date.now() + 60_000;
    while (count < TOTAL) {
      if (Date.now() > deadline) throw new Error(`timed out: ${count}/${TOTAL}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const t1 = performance.now();
    const result: Result = { rate: TOTAL / ((t1 - t0) / 1000) };
    if (sink === 'influx') {
      while ((await counter(app, 'written')) < TOTAL) {
        if (Date.now() > deadline) throw new Error(`influx: ${await counter(app, 'written')}/${TOTAL} written`);
        await new Promise((r) => setTimeout(r, 5));
      }
      result.drainMs = performance.now() - t1;
      result.spooled = await counter(app, 'spooled');
    }
    return result;
  } finally {
    child.kill();
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  console.log(`bench/telemetry: ${DEVICES} devices × ${MESSAGES} messages = ${TOTAL} per run, QoS${QOS}, ${ROUNDS} rounds, interleaved`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  const vmDir = mkdtempSync(join(tmpdir(), 'shaobing-bench-vm-'));
  const vm = haveVictoriaMetrics() ? await VictoriaMetrics.start(vmDir) : null;
  if (!vm) console.warn('victoria-metrics not installed: the influx row is left out');
  const sinks = (['none', 'sqlite', 'influx'] as const).filter((s) => s !== 'influx' || vm);
  const results = new Map<string, Result[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const sink of sinks) {
        const r = await run(sink, vm);
        results.set(sink, [...(results.get(sink) ?? []), r]);
        console.log(`  round ${round + 1}: ${sink}: ${fmt(r.rate)} msg/s${r.drainMs !== undefined ? `, all points written ${fmt(r.drainMs)} ms after the last message` : ''}`);
      }
    }
  } finally {
    await vm?.stop();
    rmSync(vmDir, { recursive: true, force: true });
  }
  const none = median(results.get('none')!.map((r) => r.rate));
  console.log('\n| telemetry sink | ingest msg/s (median) | vs no sink | last point written after the last message |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const sink of sinks) {
    const rs = results.get(sink)!;
    const rate = median(rs.map((r) => r.rate));
    const drain = sink === 'influx' ? `${fmt(median(rs.map((r) => r.drainMs!)))} ms` : sink === 'sqlite' ? 'in the same commit' : '—';
    console.log(`| ${sink} | ${fmt(rate)} | ${(rate / none).toFixed(2)}× | ${drain} |`);
  }
}

/** CPU per reading on the hot path, without the network: stable where the end-to-end rates are noisy. */
async function perReading(): Promise<void> {
  const N = 100_000;
  const device = { id: 'bench-wm-0', kind: 'water-meter' as const, format: 'canonical', communityId: COMMUNITY, gridId: 'bg1', buildingId: 'bb1', householdId: 'bh-0', uplinkTopic: '' };
  const reading = (i: number, intervals: number) => ({
    deviceId: device.id,
    kind: device.kind,
    communityId: COMMUNITY,
    gridId: 'bg1',
    type: 'reading',
    ts: 1740780000000 + i,
    receivedAt: 1740780000000 + i,
    payload: {
      type: 'reading',
      totalM3: 1000 + i / 1000,
      batteryPct: 90,
      rssi: -90,
      ...(intervals ? { intervals: Array.from({ length: intervals }, (_, k) => ({ start: 1740780000000 + k * 900_000, end: 1740780900000 + k * 900_000, litres: k })) } : {}),
    },
  });
  const rows: string[] = [];
  for (const intervals of [0, 4]) {
    const rs = Array.from({ length: N }, (_, i) => reading(i, intervals));
    const enc = new LineEncoder(() => device);
    const out: string[] = [];
    const t0 = performance.now();
    for (const r of rs) enc.encode(r, out);
    rows.push(`| line protocol encode, ${intervals} intervals | ${(((performance.now() - t0) * 1000) / N).toFixed(2)} µs |`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-sqlite-'));
  const db = openDb({ dataDir: dir, synchronous: 'full' });
  const log = createLogger({ level: 'silent', format: 'json' });
  const sink = new SqliteSink({
    store: sqliteStore(db),
    directory: new Directory([]),
    clock: createClock('wall'),
    bus: new EventBus(log),
    metrics: createMetrics(),
    log,
    dataDir: dir,
    settings: loadConfig({ settingsPath: null, env: {} }).settings.telemetry, // defaults: sqlite, 90 days
  });
  try {
    await sink.start();
    const rs = Array.from({ length: N }, (_, i) => reading(i, 0));
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000) db.transaction(() => sink.write(rs.slice(i, i + 1000)))();
    rows.push(`| sqlite row insert (batches of 1000, one commit each) | ${(((performance.now() - t0) * 1000) / N).toFixed(2)} µs |`);
  } finally {
    await sink.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| per reading, on the ingest thread | time |\n| --- | ---: |');
  for (const r of rows) console.log(r);
}

await main();
await perReading();
process.exit(0);
