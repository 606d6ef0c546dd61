// bench/ingest (`npm run bench`): N simulated devices publish canonical readings over loopback TCP as fast as
// the broker takes them; the same run measures bare aedes (no auth, no pipeline) and the shaobing pipeline
// (auth, ACL, decode, validate, state, rules, persistence) at QoS 0 and 1, interleaved round by round, and
// prints throughput, the ratio to bare aedes, and CPU per message of the serving process.
//
// Three processes: this one only orchestrates; the serving process (bench/serve.mjs) runs the built code under
// plain `node` — what `npm start` runs — and measures its own CPU time (every thread) and GC time; the load
// (bench/load.ts) writes pre-encoded packets from a process of its own. After the timed rounds, one profiled
// run per pipeline QoS gives the profile split (parse, decode/validate, rules, store, GC…; bench/profileSplit.mjs).
// `--before DIR`: DIR is another checkout, built (`node scripts/build.mjs` there): its full pipeline runs too,
// interleaved with this one's, for a before/after in one run. `--also-node-args 'FLAGS'`: this checkout's full
// pipeline once more with these node flags. BENCH_NODE_ARGS: node flags for every serving process.
//   npm run bench -- [--devices 100] [--messages 1000] [--rounds 3] [--all] [--only TEXT] [--no-profile] [--before DIR]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { arg, benchDevices, writeBenchInventory, COMMUNITY } from './lib.js';

const DEVICES = arg('devices', 100);
const MESSAGES = arg('messages', 1000);
const ROUNDS = arg('rounds', 3);
const TOTAL = DEVICES * MESSAGES;
const PROFILE = !process.argv.includes('--no-profile');

const devices = benchDevices(DEVICES);

interface Run {
  rate: number;
  /** CPU time of the serving process (all threads) per message, µs. */
  cpuPerMsg: number;
  /** CPU time of its main thread per message, µs (the rest: SQLite, libuv and V8 helper threads, workers). */
  mainPerMsg: number;
  /** GC pauses of its main thread per message, µs of wall time (perf_hooks 'gc' entries). */
  gcPerMsg: number;
  rssMb: number;
  profile?: { ms: Record<string, number>; busyMs: number };
}

interface Variant {
  name: string;
  qos: 0 | 1;
  bare?: boolean;
  /** Settings of the shaobing variant (loadConfig overrides besides data dir, inventory and ports). */
  overrides?: Record<string, unknown>;
  /** Another build's dist/src (--before). */
  dist?: string;
  /** node flags of the serving process (--also-node-args). */
  nodeArgs?: string[];
  /** The broker on a thread of its own (src/transport/brokerThread.ts). */
  brokerThread?: boolean;
}

const ALL_RULES = ['smoke', 'no_water_use', 'continuous_water_flow', 'illegal_parking', 'unregistered_vehicle', 'visitor_overstay', 'lot_full', 'device_offline', 'low_battery', 'device_tamper', 'device_fault', 'missed_check'];
const FOUNDATION = { telemetry: { sink: 'none' }, rules: Object.fromEntries(ALL_RULES.map((r) => [r, { enabled: false }])) };
const FAIR_OFF = { mqtt: { fairReads: { turnBytes: 0 } } };

const CORE: Variant[] = [
  { name: 'bare aedes, QoS0', qos: 0, bare: true },
  { name: 'shaobing foundation only (no rules, no history), QoS0', qos: 0, overrides: FOUNDATION },
  { name: 'shaobing full pipeline, QoS0', qos: 0 },
  { name: 'shaobing full pipeline, QoS0, broker thread', qos: 0, brokerThread: true },
  { name: 'bare aedes, QoS1', qos: 1, bare: true },
  { name: 'shaobing full pipeline, QoS1 (inbox, synchronous=full)', qos: 1 },
  { name: 'shaobing full pipeline, QoS1 (inbox, synchronous=full), broker thread', qos: 1, brokerThread: true },
];
const EXTRA: Variant[] = [
  { name: 'shaobing full pipeline, QoS0, fair reads off', qos: 0, overrides: FAIR_OFF },
  { name: 'shaobing full pipeline, QoS1 (inbox, synchronous=full), fair reads off', qos: 1, overrides: FAIR_OFF },
  { name: 'shaobing full pipeline, QoS1 (inbox, synchronous=normal)', qos: 1, overrides: { store: { synchronous: 'normal' } } },
];

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  return out;
}

const message = <T>(child: ChildProcess, key: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>) => {
      if (m && m[key]) {
        child.off('message', onMsg);
        child.off('exit', onExit);
        resolve(m as T);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before '${key}'`));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });

async function measure(v: Variant, profile = false): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-'));
  const base = {
    dataDir: dir,
    communities: v.bare ? [] : [writeBenchInventory(dir, [{ kind: 'water-meter', devices }], { loneElder: true })],
    mqtt: { port: 0, host: '127.0.0.1' },
    http: { port: 0, host: '127.0.0.1' },
    log: { level: 'warn', format: 'json' },
    store: { synchronous: 'full' },
    ...(process.env.BENCH_SINK ? { telemetry: { sink: process.env.BENCH_SINK } } : {}),
  };
  const overrides = merge(base, v.overrides ?? {});
  // BENCH_CPU_PROFILE_DIR: keep the profiled runs' .cpuprofile files there (open in Chrome DevTools).
  const profileFile = profile && process.env.BENCH_CPU_PROFILE_DIR ? join(process.env.BENCH_CPU_PROFILE_DIR, `${v.name.replace(/[^a-zA-Z0-9]+/g, '-')}.cpuprofile`) : undefined;
  const serve = fork(new URL('./serve.mjs', import.meta.url).pathname, [JSON.stringify({ mode: v.bare ? 'bare' : 'pipeline', total: TOTAL, overrides, profile, profileFile, dist: v.dist, brokerThread: v.brokerThread })], {
    execArgv: [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : []), ...(v.nodeArgs ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let load: ChildProcess | undefined;
  try {
    const { port } = await message<{ port: number }>(serve, 'ready');
    load = fork(new URL('./load.ts', import.meta.url).pathname, [`mqtt://127.0.0.1:${port}`, JSON.stringify(devices), String(MESSAGES), String(v.qos), COMMUNITY], {
      execArgv: ['--import', 'tsx'],
    });
    await message(load, 'ready');
    const done = message<{ secs: number; cpuUs: number; mainUs: number; gcMs: number; rssMb: number; profile?: Run['profile'] }>(serve, 'done');
    serve.send('go');
    await message(serve, 'started');
    load.send('go');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${v.name}: timed out`)), 180_000).unref());
    const r = await Promise.race([done, timeout]);
    return { rate: TOTAL / r.secs, cpuPerMsg: r.cpuUs / TOTAL, mainPerMsg: r.mainUs / TOTAL, gcPerMsg: (r.gcMs * 1000) / TOTAL, rssMb: r.rssMb, profile: r.profile };
  } finally {
    load?.kill();
    serve.send('stop');
    await new Promise((r) => (serve.exitCode !== null ? r(null) : serve.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  let variants = process.argv.includes('--all') ? [...CORE, ...EXTRA] : CORE;
  const only = process.argv.indexOf('--only');
  if (only > 0) variants = variants.filter((v) => v.bare || v.name.includes(process.argv[only + 1]));
  const before = process.argv.indexOf('--before');
  if (before > 0) {
    const dist = join(process.argv[before + 1], 'dist', 'src');
    variants = variants.flatMap((v) => (v.bare || v.overrides || v.brokerThread ? [v] : [{ ...v, name: `${v.name} — before`, dist }, v]));
  }
  const also = process.argv.indexOf('--also-node-args');
  if (also > 0) {
    const nodeArgs = process.argv[also + 1].split(' ').filter(Boolean);
    variants = variants.flatMap((v) => (v.bare || v.overrides || v.dist || v.brokerThread ? [v] : [v, { ...v, name: `${v.name}, node ${nodeArgs.join(' ')}`, nodeArgs }]));
  }
  console.log(`bench/ingest: ${DEVICES} devices × ${MESSAGES} messages = ${TOTAL} per run, ${ROUNDS} rounds, interleaved`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average at start ${load()}`);
  const results = new Map<string, Run[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const r = await measure(v);
      results.set(v.name, [...(results.get(v.name) ?? []), r]);
      console.log(`  round ${round + 1}: ${v.name}: ${fmt(r.rate)} msg/s, ${r.cpuPerMsg.toFixed(1)} µs CPU/msg (main thread ${r.mainPerMsg.toFixed(1)}, GC pauses ${r.gcPerMsg.toFixed(1)})  (load ${load()})`);
    }
  }
  console.log(`load average at the end: ${load()}`);
  const m = (name: string, f: (r: Run) => number) => median(results.get(name)!.map(f));
  console.log('\n| variant | msg/s | ratio to bare aedes, same QoS | CPU µs/msg (process) | of it main thread | GC pauses µs/msg | RSS at end |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const bare = variants.find((b) => b.bare && b.qos === v.qos);
    const ratio = bare ? m(v.name, (r) => r.rate) / m(bare.name, (r) => r.rate) : NaN;
    console.log(
      `| ${v.name} | ${fmt(m(v.name, (r) => r.rate))} | ${ratio.toFixed(2)}× | ${m(v.name, (r) => r.cpuPerMsg).toFixed(1)} | ${m(v.name, (r) => r.mainPerMsg).toFixed(1)} | ${m(v.name, (r) => r.gcPerMsg).toFixed(1)} | ${m(v.name, (r) => r.rssMb).toFixed(0)} MB |`,
    );
  }
  if (!PROFILE) return;
  // The profile split: one more run per QoS of the full pipeline (and bare aedes for scale), sampled every 200 µs.
  const profiled = variants.filter((v) => v.bare || (v.name.startsWith('shaobing full pipeline, QoS') && !v.overrides && !v.nodeArgs));
  // The broker thread's own profile is not sampled (the main thread's is): its split shows what left the main thread.
  const splits: Array<[Variant, Run]> = [];
  for (const v of profiled) splits.push([v, await measure(v, true)]);
  const stages = [...new Set(splits.flatMap(([, r]) => Object.keys(r.profile!.ms)))].filter((s) => s !== 'idle' && !s.endsWith('(left out)'));
  const order = (s: string) => -Math.max(...splits.map(([, r]) => r.profile!.ms[s] ?? 0));
  stages.sort((a, b) => order(a) - order(b));
  // The sampler counts wall time, so on a shared machine a stage's samples include time spent waiting for a core:
  // each stage's share of the samples is applied to the main thread's CPU time (schedstat) instead.
  console.log('\nProfile split of the main thread: µs of CPU per message (share of its samples); profiled runs, sampled every 200 µs:\n');
  console.log(`| stage | ${splits.map(([v]) => v.name).join(' | ')} |`);
  console.log(`| --- | ${splits.map(() => '---:').join(' | ')} |`);
  for (const s of stages)
    console.log(
      `| ${s} | ${splits.map(([, r]) => `${(((r.profile!.ms[s] ?? 0) / r.profile!.busyMs) * r.mainPerMsg).toFixed(1)} (${((100 * (r.profile!.ms[s] ?? 0)) / r.profile!.busyMs).toFixed(0)} %)`).join(' | ')} |`,
    );
  console.log(`| main thread CPU | ${splits.map(([, r]) => r.mainPerMsg.toFixed(1)).join(' | ')} |`);
  console.log(`| process CPU (all threads) | ${splits.map(([, r]) => r.cpuPerMsg.toFixed(1)).join(' | ')} |`);
}

await main();
process.exit(0);
