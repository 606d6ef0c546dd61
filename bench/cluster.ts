// bench/cluster: ingest through an external broker with 1, 2 and 3 shaobing instances sharing the communities
// (issue 16), beside the embedded broker, in one run; then the takeover time of a SIGKILLed owner's community.
// Loopback only: Debian's mosquitto 2 and PostgreSQL 15 are started into temp dirs (tests/mosquitto.ts,
// tests/postgres.ts), the instances are `node --import tsx src/main.ts` processes, the load is bench/load.ts
// (pre-encoded QoS 1 publishes from its own process). Everything stops by itself.
//   npx tsx bench/cluster.ts [--communities 6] [--devices 10] [--messages 50] [--rounds 1] [--write]
// --devices is per community; --messages per device. --write puts the tables into BENCHMARKS.md.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import pg from 'pg';
import { arg, benchDevices, writeBenchInventory, writeBenchmarkSection } from './lib.js';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { Mosquitto, type MosquittoUser } from '../tests/mosquitto.js';
import { Postgres } from '../tests/postgres.js';
import { startChild, killChildren, type Child } from '../tests/child.js';
import { leases } from '../src/store/pgLeases.js';

const COMMUNITIES = arg('communities', 6);
const PER = arg('devices', 10);
const MESSAGES = arg('messages', 50);
const ROUNDS = arg('rounds', 1);
const SERVICE_PASSWORD = 'bench-service-password-0123456789';
const TOTAL = COMMUNITIES * PER * MESSAGES;

const communities = Array.from({ length: COMMUNITIES }, (_, i) => `bc${i}`);
const devices: Array<[string, string, string]> = communities.flatMap((c) => benchDevices(PER, `${c}-wm`).map(([id, s]) => [id, s, c] as [string, string, string]));
const dir = mkdtempSync(join(tmpdir(), 'shaobing-bench-cluster-'));
const inventories = communities.map((c) => writeBenchInventory(dir, [{ kind: 'water-meter', devices: devices.filter((d) => d[2] === c).map(([id, s]) => [id, s]) }], { loneElder: true, communityId: c }));
const settingsPath = join(dir, 'settings.yaml');
writeFileSync(settingsPath, `communities:\n${inventories.map((p) => `  - ${p}`).join('\n')}\nstore:\n  synchronous: full\n`);

const users: MosquittoUser[] = [
  ...devices.map(([id, secret, c]) => ({ username: id, password: secret, acl: [{ access: 'write' as const, topic: `iot/${c}/${id}/up` }] })),
  { username: 'shaobing-service', password: SERVICE_PASSWORD, acl: [{ access: 'read', topic: 'iot/+/+/up' }, { access: 'write', topic: 'iot/+/+/errors' }] },
];

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Readings accepted by one instance so far (its /metrics). */
async function accepted(c: Child): Promise<number> {
  try {
    const text = await (await fetch(`${c.httpUrl}/metrics`)).text();
    let n = 0;
    for (const m of text.matchAll(/^shaobing_messages_total\{[^}]*result="accepted"[^}]*\} (\d+)/gm)) n += Number(m[1]);
    return n;
  } catch {
    return 0;
  }
}

/** Run the load child against `url` until `counted()` reaches the total; answers msg/s from the first packet. */
async function drive(url: string, counted: () => Promise<number>): Promise<number> {
  const child = fork(new URL('./load.ts', import.meta.url).pathname, [url, JSON.stringify(devices), String(MESSAGES), '1', 'unused'], { execArgv: ['--import', 'tsx'] });
  await new Promise((r) => child.once('message', r));
  const base = await counted();
  const t0 = performance.now();
  child.send('go');
  const deadline = Date.now() + 300_000;
  for (;;) {
    const n = (await counted()) - base;
    if (n >= TOTAL) break;
    if (Date.now() > deadline) throw new Error(`timed out: ${n}/${TOTAL}`);
    await sleep(20);
  }
  const secs = (performance.now() - t0) / 1000;
  child.kill();
  return TOTAL / secs;
}

async function embedded(): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'shaobing-bench-emb-'));
  const config = loadConfig({
    settingsPath: null,
    env: {},
    overrides: { dataDir: data, communities: inventories, mqtt: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' }, log: { level: 'warn', format: 'json' }, store: { synchronous: 'full' } },
  });
  const app = buildApp(config);
  await app.start();
  let count = 0;
  app.bus.on('reading', 'bench', () => count++);
  try {
    return await drive(`mqtt://127.0.0.1:${app.ports.mqtt}`, async () => count);
  } finally {
    await app.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

interface Cluster {
  broker: Mosquitto;
  db: pg.Pool;
  children: Child[];
  dirs: string[];
}

async function startCluster(server: Postgres, n: number, lease: { ttl: number; renew: number }): Promise<Cluster> {
  const broker = await Mosquitto.start({ users });
  const url = await server.createDatabase('bench');
  const db = new pg.Pool({ connectionString: url });
  // An idle connection the server ends (a restart, a shutdown) must not crash the bench: the next query reconnects.
  db.on('error', (err) => console.error(`bench: PostgreSQL pool: ${err.message}`));
  const dirs = Array.from({ length: n }, () => mkdtempSync(join(tmpdir(), 'shaobing-bench-inst-')));
  const env = {
    SHAOBING_CONFIG: settingsPath,
    SHAOBING_EXTERNAL_BROKER_URL: broker.url,
    SHAOBING_EXTERNAL_BROKER_PASSWORD: SERVICE_PASSWORD,
    SHAOBING_CLUSTER_POSTGRES_URL: url,
    SHAOBING_CLUSTER_LEASE_TTL_MS: String(lease.ttl),
    SHAOBING_CLUSTER_RENEW_MS: String(lease.renew),
  };
  // One after another: the fair share is worked out from the members seen, so late starters take over the excess.
  const children: Child[] = [];
  for (const d of dirs) children.push(await startChild(d, '', env));
  // Every community owned, by n instances, and its session attached.
  const end = Date.now() + 60_000;
  for (;;) {
    const live = (await leases(db)).filter((l) => l.live && l.name.startsWith('community:'));
    const attached = children.reduce((s, c) => s + c.stdout.filter((l) => l.includes('community attached')).length - c.stdout.filter((l) => l.includes('community detached')).length, 0);
    if (live.length === COMMUNITIES && new Set(live.map((l) => l.holder)).size === n && attached === COMMUNITIES) break;
    if (Date.now() > end) throw new Error(`cluster of ${n} did not settle: ${live.length} leases, ${attached} sessions`);
    await sleep(100);
  }
  return { broker, db, children, dirs };
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const ch of c.children) if (ch.proc.exitCode === null && ch.proc.signalCode === null) ch.proc.kill('SIGTERM');
  await Promise.all(c.children.map((ch) => ch.exited));
  await c.db.end();
  await c.broker.close();
  for (const d of c.dirs) rmSync(d, { recursive: true, force: true });
}

async function external(server: Postgres, n: number): Promise<number> {
  const c = await startCluster(server, n, { ttl: 10_000, renew: 2_000 });
  try {
    return await drive(c.broker.url, async () => (await Promise.all(c.children.map(accepted))).reduce((a, b) => a + b, 0));
  } finally {
    await stopCluster(c);
  }
}

/** SIGKILL the owner of one community mid-stream; ms until a message sent right after is processed elsewhere. */
async function takeover(server: Postgres, lease: { ttl: number; renew: number }): Promise<number> {
  const c = await startCluster(server, 3, lease);
  try {
    const community = communities[0];
    const holder = (await leases(c.db)).find((l) => l.name === `community:${community}` && l.live)!.holder;
    const owner = c.children.find((ch) => holder.includes(`-${ch.proc.pid}-`))!;
    const rest = c.children.filter((ch) => ch !== owner);
    const [id, secret] = devices.find((d) => d[2] === community)!;
    const dev = await mqtt.connectAsync(c.broker.url, { clientId: id, username: id, password: secret, protocolVersion: 5 });
    const before = (await Promise.all(rest.map(accepted))).reduce((a, b) => a + b, 0);
    owner.proc.kill('SIGKILL');
    const t0 = performance.now();
    await dev.publishAsync(`iot/${community}/${id}/up`, JSON.stringify({ type: 'reading', totalM3: 2000, batteryPct: 90 }), { qos: 1 });
    const end = Date.now() + lease.ttl * 3 + 30_000;
    for (;;) {
      if ((await Promise.all(rest.map(accepted))).reduce((a, b) => a + b, 0) > before) break;
      if (Date.now() > end) throw new Error('no takeover');
      await sleep(20);
    }
    const ms = performance.now() - t0;
    await dev.endAsync();
    return ms;
  } finally {
    await stopCluster(c);
  }
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  console.log(`bench/cluster: ${COMMUNITIES} communities × ${PER} water meters × ${MESSAGES} QoS 1 messages = ${TOTAL} per run, ${ROUNDS} round(s)`);
  console.log(`machine: ${machine}`);
  const server = await Postgres.start();
  const variants: Array<[string, () => Promise<number>]> = [
    ['embedded broker (aedes in the process), 1 instance', () => embedded()],
    ['mosquitto 2 + PostgreSQL leases, 1 instance', () => external(server, 1)],
    ['mosquitto 2 + PostgreSQL leases, 2 instances', () => external(server, 2)],
    ['mosquitto 2 + PostgreSQL leases, 3 instances', () => external(server, 3)],
  ];
  const results = new Map<string, number[]>();
  const takeovers: Array<[string, number]> = [];
  try {
    for (let round = 0; round < ROUNDS; round++)
      for (const [name, fn] of variants) {
        const rate = await fn();
        results.set(name, [...(results.get(name) ?? []), rate]);
        console.log(`  round ${round + 1}: ${name}: ${fmt(rate)} msg/s`);
      }
    for (const lease of [
      { ttl: 10_000, renew: 2_000 },
      { ttl: 2_000, renew: 400 },
    ]) {
      const ms = await takeover(server, lease);
      takeovers.push([`${lease.ttl / 1000} s leases, renewed every ${lease.renew / 1000} s`, ms]);
      console.log(`  takeover with ${lease.ttl} ms leases: ${Math.round(ms)} ms`);
    }
  } finally {
    killChildren();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const embeddedRate = median(results.get(variants[0][0])!);
  const table = [
    '| variant | msg/s (median) | ratio to embedded |',
    '| --- | ---: | ---: |',
    ...variants.map(([name]) => `| ${name} | ${fmt(median(results.get(name)!))} | ${(median(results.get(name)!) / embeddedRate).toFixed(2)}× |`),
    '',
    '| takeover of a SIGKILLed owner (3 instances) | ms from the kill to a message sent right after it processed by another instance |',
    '| --- | ---: |',
    ...takeovers.map(([name, ms]) => `| ${name} | ${fmt(ms)} |`),
  ].join('\n');
  console.log(`\n${table}`);
  if (process.argv.includes('--write'))
    writeBenchmarkSection(
      'Cluster: ingest through an external broker, 1–3 instances (issue 16)',
      `## Cluster: ingest through an external broker, 1–3 instances (issue 16)\n\n` +
        `\`npx tsx bench/cluster.ts --communities ${COMMUNITIES} --devices ${PER} --messages ${MESSAGES} --rounds ${ROUNDS} --write\` ` +
        `(run of ${new Date().toISOString().slice(0, 10)}; ${machine}; loopback). ${COMMUNITIES} communities of ${PER} lone elders' water ` +
        `meters each publish ${MESSAGES} QoS 1 readings per meter as fast as the broker takes them (bench/load.ts, its own process); ` +
        `every variant processes all ${TOTAL} with the full pipeline (SQLite \`synchronous=full\`). The embedded broker runs in the ` +
        `instance; through mosquitto 2 each community's uplinks come from one persistent session held by the community's lease ` +
        `holder (PostgreSQL 15), whose PUBACK waits for the inbox commit.\n\n${table}\n`,
    );
}

await main();
process.exit(0);
