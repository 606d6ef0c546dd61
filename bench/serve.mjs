// The serving process of bench/ingest (issue 18): plain `node`, the built code (dist/, what `npm start` runs),
// nothing else in the process. Either bare aedes or the shaobing app; it counts messages (bare: authorised;
// shaobing: committed and on the bus), and on the parent's `go` measures, up to the last expected message, the
// wall time and the process's CPU time (user + system, every thread: process.cpuUsage), the time V8 spent in
// garbage collection (perf_hooks 'gc' entries, main thread), and with `profile` a sampled CPU profile of the
// main thread (node:inspector) bucketed by what the code is (bench/profileSplit.mjs).
//   forked by bench/ingest.ts: node bench/serve.mjs '<json options>'
import { createServer } from 'node:net';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { readFileSync, writeFileSync } from 'node:fs';
import { split } from './profileSplit.mjs';

const opts = JSON.parse(process.argv[2]);
const send = (m) => process.send?.(m);
// The built service: this checkout's dist/, or another build's (bench/ingest --before DIR: the code before a change).
const dist = opts.dist ? new URL(`file://${opts.dist.replace(/\/?$/, '/')}`) : new URL('../dist/src/', import.meta.url);

let count = 0;
let measuring = null;
let close = async () => {};
let port = 0;

function counted() {
  if (++count === opts.total && measuring) finish();
}

if (opts.mode === 'bare') {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker({
    authorizePublish: (_c, _p, done) => {
      counted();
      done(null);
    },
  });
  const server = createServer(broker.handle);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  close = () => new Promise((r) => broker.close(() => server.close(() => r())));
} else {
  const { loadConfig } = await import(new URL('config/load.js', dist).href);
  const { buildApp } = await import(new URL('app.js', dist).href);
  const config = loadConfig({ settingsPath: null, env: {}, overrides: opts.overrides });
  const app = buildApp(config);
  await app.start();
  app.bus.on('reading', 'bench', counted);
  port = app.ports.mqtt;
  close = () => app.stop();
  if (opts.brokerThread) {
    // The broker on a thread of its own (src/transport/brokerThread.ts) feeding this app's ingest; the load goes
    // to its port (the app's own broker stays idle). Until the app wires settings.mqtt.thread itself.
    const { BrokerThread } = await import(new URL('transport/brokerThread.js', dist).href);
    const { deviceKinds } = await import(new URL('../devices/index.js', dist).href);
    const s = config.settings;
    const thread = new BrokerThread({
      directory: app.directory,
      repo: app.devicesRepo,
      ingest: app.ingest,
      log: app.log,
      metrics: app.metrics,
      worker: {
        communities: config.communities,
        dataDir: s.dataDir,
        settings: { host: '127.0.0.1', port: 0, wsPort: null, maxPacketBytes: s.mqtt.maxPayloadBytes + 65536, fairReads: s.mqtt.fairReads, tlsPort: null },
        adminToken: s.adminToken,
        log: { level: s.log.level, format: 'json' },
        urgentKinds: deviceKinds.filter((k) => k.urgent).map((k) => k.kind),
      },
    });
    await thread.start();
    port = thread.ports.mqtt;
    close = async () => {
      await thread.stop();
      await app.stop();
    };
  }
}

let gcMs = 0;
let gcCounting = false;
new PerformanceObserver((list) => {
  if (!gcCounting) return;
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
void perf;

/** CPU time of the main thread so far, ns (Linux schedstat: time on a CPU, not time waiting for one). */
function mainThreadNs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

let session = null;
async function post(method, params) {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
}

process.on('message', async (msg) => {
  if (msg === 'go') {
    if (opts.profile) {
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
    }
    count = 0;
    gcMs = 0;
    gcCounting = true;
    measuring = { cpu: process.cpuUsage(), main: mainThreadNs(), t0: process.hrtime.bigint() };
    send({ started: true });
  } else if (msg === 'stop') {
    await close();
    process.exit(0);
  }
});

async function finish() {
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(measuring.cpu);
  const mainUs = (mainThreadNs() - measuring.main) / 1000;
  gcCounting = false;
  const secs = Number(t1 - measuring.t0) / 1e9;
  let profile;
  if (session) {
    const { profile: p } = await post('Profiler.stop');
    session.disconnect();
    profile = split(p);
    if (opts.profileFile) writeFileSync(opts.profileFile, JSON.stringify(p));
  }
  send({ done: true, secs, cpuUs: cpu.user + cpu.system, mainUs, gcMs, rssMb: process.memoryUsage.rss() / 2 ** 20, profile });
}

send({ ready: true, port });
