// The cost of the deadline scheduler and the rule engine (BENCHMARKS.md "Rules and scheduler").
//
//   npx tsx bench/rules.ts [--meters 1000000] [--idle-seconds 10] [--readings 20000] [--engine-only] [--write]
//
// 1. A million watched meters: one device_offline deadline each, due over the next day. Heap memory (after a
//    full GC), set-up time, and CPU per minute of wall time while none is due (process.cpuUsage over an idle
//    window, scaled) — the point of one heap and one timer is that this is ~0.
// 2. Moving every deadline once (lazy deletion + compaction), and firing them all on the event clock.
// 3. Start-up: loading the persisted deadlines table of that size.
// 4. The rule engine on the ingest thread: µs per reading for water-meter readings with every rule on, inside
//    1000-reading transactions like the ingest batch (the lead's bench/ingest.ts gives end-to-end msg/s).
import { setFlagsFromString } from 'node:v8';
import { spawnSync } from 'node:child_process';
import { runInNewContext } from 'node:vm';
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Scheduler, type Deadline } from '../src/clock/scheduler.js';
import { arg, writeBenchmarkSection } from './lib.js';
import { EventClock, WallClock } from '../src/clock/clock.js';
import { openDb } from '../src/store/db.js';
import { sqliteStore } from '../src/store/sqlite/index.js';
import { loadConfig } from '../src/config/load.js';
import { Directory } from '../src/config/inventory.js';
import { EventBus } from '../src/bus.js';
import { createMetrics } from '../src/metrics.js';
import { DeviceStates } from '../src/state/deviceState.js';
import { RuleEngine } from '../src/alerts/engine.js';
import type { Reading } from '../src/ingest/reading.js';
import { deviceKinds } from '../devices/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const METERS = arg('meters', 1_000_000);
const IDLE_S = arg('idle-seconds', 10);
const READINGS = arg('readings', 20_000);
// Like the other benchmarks, BENCHMARKS.md is written only when asked: a trial run must not overwrite it.
const WRITE = process.argv.includes('--write');
const DAY = 86_400_000;

const heapMiB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows: Array<[string, string]> = [];
const row = (what: string, value: string) => {
  rows.push([what, value]);
  console.log(`${what}: ${value}`);
};
const key = (i: number) => `device_offline:bench-wm-${String(i).padStart(7, '0')}`;

/** CPU (user + system) per minute of wall time over an idle window of IDLE_S seconds. */
async function idleCpuMsPerMinute(): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const c1 = process.cpuUsage(c0);
  return (c1.user + c1.system) / 1000 / ((performance.now() - w0) / 60_000);
}

/**
 * The same idle measurement in a fresh process with nothing scheduled: bare `node`, and node with this
 * process's own flags (the tsx loader, whose worker thread has an idle cost of its own).
 */
function emptyIdle(sameRuntime: boolean): number {
  const script = `const c0 = process.cpuUsage(); const w0 = performance.now();
    setTimeout(() => { const c = process.cpuUsage(c0); console.log((c.user + c.system) / 1000 / ((performance.now() - w0) / 60000)); }, ${IDLE_S * 1000});`;
  const args = [...(sameRuntime ? process.execArgv : []), '-e', script];
  return Number(spawnSync(process.execPath, args, { encoding: 'utf8' }).stdout.trim().split('\n').pop());
}

async function schedulerInMemory(): Promise<void> {
  const base = heapMiB();
  const now = Date.now();
  const s = new Scheduler({ clock: new WallClock(), onDue: () => undefined });
  s.start();
  let t = performance.now();
  // Due spread over the coming day, in random order (meters report when they like).
  for (let i = 0; i < METERS; i++) s.set(key(i), now + DAY / 2 + Math.floor(Math.random() * DAY));
  const setMs = performance.now() - t;
  const heap = heapMiB() - base;
  row(`${fmt(METERS, 0)} watched meters: heap`, `${fmt(heap)} MiB (${fmt((heap * 2 ** 20) / METERS, 0)} B per meter, keys of ${key(0).length} chars)`);
  row('set-up (set() each)', `${fmt(setMs, 0)} ms (${fmt((setMs * 1000) / METERS, 2)} µs per deadline)`);

  // Idle: nothing due for 12 h. One timer, no polling: CPU should be what the process uses without it.
  let wakeups = 0;
  const advance = s.advance.bind(s);
  s.advance = (...a: Parameters<Scheduler['advance']>) => (wakeups++, advance(...a));
  await new Promise((r) => setTimeout(r, 3000)); // let V8 finish collecting after the million allocations
  const cpuMsPerMin = await idleCpuMsPerMinute();
  s.stop();
  row(
    `idle CPU with ${fmt(METERS, 0)} pending (${IDLE_S} s window, scaled to a minute)`,
    `${fmt(cpuMsPerMin)} ms CPU per minute of wall time (${fmt(cpuMsPerMin / 600, 2)} % of a core); scheduler wake-ups in the window: ${wakeups}. Empty processes idling the same way: this runtime (tsx) ${fmt(emptyIdle(true))} ms, bare \`node\` ${fmt(emptyIdle(false))} ms`,
  );

  // Moving every deadline once (every meter reported): lazy deletion pushes, then compaction.
  const ev = new EventClock(now);
  let fired = 0;
  const s2 = new Scheduler({ clock: ev, onDue: (d: Deadline[]) => void (fired += d.length) });
  s2.start();
  for (let i = 0; i < METERS; i++) s2.set(key(i), now + DAY / 2 + ((i * 7919) % DAY));
  t = performance.now();
  for (let i = 0; i < METERS; i++) s2.set(key(i), now + DAY + ((i * 104729) % DAY));
  const moveMs = performance.now() - t;
  row('moving every deadline once', `${fmt(moveMs, 0)} ms (${fmt((moveMs * 1000) / METERS, 2)} µs per move; heap entries ${fmt(s2.heapSize, 0)} for ${fmt(s2.size, 0)} live)`);
  ev.observe(now + 3 * DAY);
  t = performance.now();
  s2.advance();
  const fireMs = performance.now() - t;
  row('firing all on the event clock (no-op handler)', `${fmt(fireMs, 0)} ms (${fmt((fireMs * 1000) / fired, 2)} µs per deadline, ${fmt(fired, 0)} fired)`);
}

function schedulerPersisted(): void {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-rules-'));
  try {
    const db = openDb({ dataDir: dir, synchronous: 'normal' });
    const store = sqliteStore(db).deadlines;
    const now = Date.now();
    let t = performance.now();
    db.transaction(() => {
      for (let i = 0; i < METERS; i++) store.upsert(key(i), now + (i % DAY));
    })();
    const writeMs = performance.now() - t;
    row('persisting the deadlines (one transaction)', `${fmt(writeMs, 0)} ms (${fmt((writeMs * 1000) / METERS, 2)} µs per row)`);
    t = performance.now();
    const s = new Scheduler({ clock: new EventClock(0), store, onDue: () => undefined });
    s.start();
    row('start-up: loading them into the heap', `${fmt(performance.now() - t, 0)} ms for ${fmt(s.size, 0)} deadlines`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function engineHotPath(): void {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-engine-'));
  try {
    const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
    const db = openDb({ dataDir: dir, synchronous: 'full' });
    const log = pino({ level: 'silent' });
    const bus = new EventBus(log);
    const clock = new EventClock(Date.parse('2025-03-01T00:00:00+08:00'));
    const store = sqliteStore(db);
    const states = new DeviceStates(store.deviceState);
    const directory = new Directory(config.communities);
    const meters = [...directory.devices.values()].filter((d) => d.kind === 'water-meter');
    const engine = new RuleEngine({ store, directory, kinds: deviceKinds, clock, bus, metrics: createMetrics(), states, log, settings: {}, communities: config.communities });
    engine.start();
    const readings: Reading[] = [];
    for (let i = 0; i < READINGS; i++) {
      const d = meters[i % meters.length];
      const round = Math.floor(i / meters.length);
      const ts = clock.now() + round * 3_600_000;
      // Hourly register readings with a little use every hour, more now and then: the rules' usual day.
      const totalM3 = Math.round((10 + round * 0.004 + Math.floor((round + (i % 7)) / 7) * 0.02) * 1000) / 1000;
      readings.push({ deviceId: d.id, kind: d.kind, communityId: d.communityId, gridId: d.gridId, type: 'reading', ts, receivedAt: ts, payload: { type: 'reading', totalM3, batteryPct: 80 } });
    }
    const run = (withRules: boolean) => {
      const t = performance.now();
      for (let i = 0; i < readings.length; i += 1000) {
        const batch = readings.slice(i, i + 1000);
        db.transaction(() => {
          for (const r of batch) {
            clock.observe(r.ts);
            const s = states.applyReading(r);
            if (withRules) engine.handler.handle(r, s);
          }
          if (withRules) engine.handler.flush?.();
          states.flush(clock.now());
        })();
        for (const r of batch) bus.emit('reading', r);
        if (withRules) engine.handler.committed?.(batch);
      }
      return performance.now() - t;
    };
    run(true); // warm up: first readings create rule state and deadlines
    // Interleaved rounds, median: the machine is shared, single runs wander.
    const bases: number[] = [];
    const withs: number[] = [];
    for (let i = 0; i < 5; i++) {
      bases.push(run(false));
      withs.push(run(true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = median(bases);
    const withRules = median(withs);
    const spread = withs.map((w) => ((w - base) * 1000) / READINGS);
    row(
      `rule engine per water-meter reading (${meters.length} meters, ${fmt(READINGS, 0)} readings, 1000 per transaction; median of 5)`,
      `${fmt(((withRules - base) * 1000) / READINGS, 2)} µs (rounds ${fmt(Math.min(...spread), 1)}–${fmt(Math.max(...spread), 1)} µs; the batch without rules ${fmt((base * 1000) / READINGS, 2)} µs)`,
    );
    engine.stop();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeSection(): void {
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const section = [
    '## Rules and scheduler',
    '',
    `\`npx tsx bench/rules.ts\` (${fmt(METERS, 0)} meters, ${IDLE_S} s idle window, ${fmt(READINGS, 0)} readings). Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, Node ${process.version}, load average ${fmt(loadavg()[0], 1)} from other work.`,
    'One binary min-heap of (due, key) in two parallel arrays plus a key → due map; wall mode keeps one unref\'d',
    'setTimeout for the earliest deadline, so pending deadlines cost memory and no CPU until one is due.',
    '',
    '| measure | result |',
    '| --- | --- |',
    ...rows.map(([a, b]) => `| ${a} | ${b} |`),
    '',
    'Reading it: while nothing is due the scheduler does nothing at all — no wake-ups in the window. The idle CPU',
    'that remains is the runtime\'s, not the scheduler\'s: an empty process under the tsx loader (`npm start` runs',
    'tsx) idles at about the same, bare node at almost nothing; the rest is noise from other work on this shared',
    '2-core machine. The memory is the key strings, the map and the two heap arrays; shorter keys shrink it.',
    'device_offline does not move its deadline on every message: a deadline fires once per heartbeat period × 2',
    'and re-arms itself from when the device was last heard, so a million meters cost one heap operation each per',
    'period, not one per message. Loading the persisted deadlines is the start-up cost shown above.',
    '',
    'The rule-engine row is the worst case on the hot path: a water-meter reading runs six rules and saves two rule',
    'states (no_water_use, continuous_water_flow) in the batch transaction; most of its cost is those two writes.',
    'Smoke, gate and parking readings run stateless rules, or one small state. End-to-end msg/s with every rule on',
    'comes from bench/ingest.ts.',
    '',
  ].join('\n');
  writeBenchmarkSection('Rules and scheduler', section);
}

// `--engine-only`: just part 4 (the same file run in two checkouts compares their rule engines).
if (!process.argv.includes('--engine-only')) {
  await schedulerInMemory();
  schedulerPersisted();
}
engineHotPath();
if (WRITE) writeSection();
