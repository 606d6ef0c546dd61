// bench/idle: what the service costs while nothing happens (issue 18, "idle is idle"). Starts it the way a
// deployment does — `npm start` in a checkout (default: this one) on the embedded defaults with the sample
// communities, a fresh data directory and free ports — waits until /healthz answers and a settling time more,
// then counts the CPU time of its whole process tree (npm included) from /proc over a window, with the
// wake-ups (context switches) and the RSS of the service. Then again with N idle MQTT devices connected from a
// separate process (bench/idleClients.ts: CONNECT with a 60 s keepalive, then only PINGREQs), those devices
// added to the inventory. `--checkout DIR` (repeatable) measures other checkouts in the same run, e.g. the
// code before a change, so rows side by side compare like with like.
//   npx tsx bench/idle.ts [--seconds 60] [--settle 60] [--connections 5000] [--scrape 0] [--checkout DIR]…
import { fork, spawn, execSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { arg, benchDevices, writeBenchInventory } from './lib.js';

const SECONDS = arg('seconds', 60);
const SETTLE = arg('settle', 60);
const CONNECTIONS = arg('connections', 5000);
/** Scrape /metrics every this many seconds during the window, like Prometheus would (0: never). */
const SCRAPE = arg('scrape', 0);
const here = resolve(new URL('..', import.meta.url).pathname);
const checkouts = process.argv.flatMap((a, i) => (a === '--checkout' ? [resolve(process.argv[i + 1])] : []));
if (!checkouts.length) checkouts.push(here);

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => r(port));
    });
  });

/** A process and its descendants, from /proc. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

interface Sample {
  ticks: number;
  switches: number;
}
function sample(pid: number): Sample | undefined {
  try {
    // Time on a CPU in ns, per thread (schedstat: far finer than utime/stime's clock ticks), and context switches.
    let ticks = 0;
    let switches = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      ticks += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      switches += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    }
    return { ticks, switches };
  } catch {
    return undefined;
  }
}
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();

/** CPU (ms per minute of wall time) and wake-ups (per minute) of the tree over the window; the service's share. */
async function measure(root: number, scrapeUrl: string): Promise<{ cpu: number; service: number; wakeups: number; serviceWakeups: number }> {
  const pids = tree(root);
  const service = servicePid(root);
  const before = new Map(pids.map((p) => [p, sample(p)]));
  const t0 = Date.now();
  const scraper = SCRAPE > 0 ? setInterval(() => void fetch(scrapeUrl).then((r) => r.text()), SCRAPE * 1000) : undefined;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  clearInterval(scraper);
  const minutes = (Date.now() - t0) / 60_000;
  let ticks = 0;
  let switches = 0;
  let svcTicks = 0;
  let svcSwitches = 0;
  for (const p of tree(root)) {
    const a = before.get(p) ?? { ticks: 0, switches: 0 };
    const b = sample(p);
    if (!b) continue;
    ticks += b.ticks - a.ticks;
    switches += b.switches - a.switches;
    if (p === service) {
      svcTicks = b.ticks - a.ticks;
      svcSwitches = b.switches - a.switches;
    }
  }
  const ms = (ns: number) => ns / 1e6 / minutes;
  return { cpu: ms(ticks), service: ms(svcTicks), wakeups: switches / minutes, serviceWakeups: svcSwitches / minutes };
}

/** The process that serves (the one holding the most memory in the tree: node running src/main or dist/main). */
function servicePid(root: number): number {
  const nodes = tree(root).filter((p) => /node|tsx/.test(cmdline(p)));
  return nodes.sort((a, b) => rssKb(b) - rssKb(a))[0] ?? root;
}

interface Started {
  proc: ChildProcess;
  http: string;
  mqtt: string;
  stop(): Promise<void>;
}

async function start(checkout: string, env: Record<string, string>): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-idle-'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const proc = spawn('npm', ['start'], {
    cwd: checkout,
    env: { ...process.env, SHAOBING_DATA_DIR: dir, SHAOBING_HTTP_PORT: String(httpPort), SHAOBING_MQTT_PORT: String(mqttPort), SHAOBING_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const http = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${checkout}: not healthy after 120 s`);
    if (proc.exitCode !== null) throw new Error(`${checkout}: npm start exited with ${proc.exitCode}`);
    const ok = await fetch(`${http}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    proc,
    http,
    mqtt: `mqtt://127.0.0.1:${mqttPort}`,
    stop: async () => {
      process.kill(-proc.pid!, 'SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE * 1000));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Row {
  checkout: string;
  variant: string;
  cpu: number;
  service: number;
  wakeups: number;
  serviceWakeups: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shaobing-bench-idle-cfg-'));
  const devices = benchDevices(CONNECTIONS, 'idle-wm');
  const devicesFile = join(work, 'devices.json');
  writeFileSync(devicesFile, JSON.stringify(devices));
  const inventory = writeBenchInventory(work, [{ kind: 'water-meter', devices }]);
  for (const checkout of checkouts) {
    const name = checkout === here ? 'this checkout' : checkout;
    const head = execSync('git rev-parse --short HEAD 2>/dev/null || echo "?"', { cwd: checkout }).toString().trim();
    const start_ = (await import('node:fs')).readFileSync(join(checkout, 'package.json'), 'utf8');
    console.log(`${name} (${head}): npm start = ${JSON.parse(start_).scripts.start}`);

    // 1. The sample service as shipped, nobody connected.
    let s = await start(checkout, {});
    await settle();
    let m = await measure(s.proc.pid!, `${s.http}/metrics`);
    rows.push({ checkout: name, variant: 'sample communities, no device connected', ...m, rssMb: rssKb(servicePid(s.proc.pid!)) / 1024 });
    console.log('  ', rows.at(-1));
    await s.stop();

    if (!CONNECTIONS) continue;
    // 2. The same plus N devices of a bench community, connected and idle.
    const settings = join(work, `settings-${rows.length}.yaml`);
    const communities = ['chunjiang', 'guihuayuan'].map((c) => join(checkout, 'config', 'communities', `${c}.yaml`));
    writeFileSync(settings, `communities:\n${[...communities, inventory].map((c) => `  - ${c}`).join('\n')}\n`);
    s = await start(checkout, { SHAOBING_CONFIG: settings });
    await settle();
    const clients = fork(new URL('./idleClients.ts', import.meta.url).pathname, [s.mqtt, devicesFile, '60'], { execArgv: ['--import', 'tsx'] });
    await new Promise((r, j) => {
      clients.once('message', r);
      clients.once('exit', (code) => j(new Error(`idle clients exited with ${code}`)));
    });
    await settle();
    m = await measure(s.proc.pid!, `${s.http}/metrics`);
    rows.push({ checkout: name, variant: `${fmt(CONNECTIONS)} idle devices connected (60 s keepalive)`, ...m, rssMb: rssKb(servicePid(s.proc.pid!)) / 1024 });
    console.log('  ', rows.at(-1));
    clients.kill();
    await s.stop();
  }
  rmSync(work, { recursive: true, force: true });

  console.log(`\nbench/idle: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}; window ${SECONDS} s after ${SETTLE} s settling; scrape ${SCRAPE ? `every ${SCRAPE} s` : 'none'}; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  // RSS is what it is when read: V8 shrinks the heap some time after the load stops (its memory reducer), so
  // it is no measure of memory per connection.
  console.log('\n| checkout | variant | CPU ms per minute (tree) | of it the service | wake-ups per minute (service) | service RSS |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(
      `| ${r.checkout} | ${r.variant} | ${fmt(r.cpu)} | ${fmt(r.service)} | ${fmt(r.serviceWakeups)} | ${r.rssMb.toFixed(0)} MB |`,
    );
}

await main();
process.exit(0);
