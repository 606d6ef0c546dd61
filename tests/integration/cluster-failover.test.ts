// Two shaobing processes sharing the communities of one external broker (mosquitto 2) through leases in
// PostgreSQL 15 (settings.cluster): each community's session is held by one of them; the owner of a community is
// SIGKILLed mid-stream and the other takes its traffic over within the bound, every message sent meanwhile
// processed once. (Each process keeps its own SQLite store for now: counts are read from the one that processed.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { sampleSecrets, tempDir, ADMIN_TOKEN } from '../helpers.js';
import { startChild, killChildren, type Child } from '../child.js';
import { Mosquitto, requireMosquitto, type MosquittoUser } from '../mosquitto.js';
import { Postgres, requirePostgres } from '../postgres.js';
import { leases } from '../../src/store/pgLeases.js';

const SERVICE_PASSWORD = 'service-password-0123456789';
const COMMUNITY = 'chunjiang';
const METER = 'cj-wm-1-103';
const TTL = 2000;
const RENEW = 400;
const ts0 = Date.parse('2026-03-02T08:00:00+08:00');

const users: MosquittoUser[] = [
  { username: METER, password: sampleSecrets.devices[METER], acl: [{ access: 'write', topic: `iot/${COMMUNITY}/${METER}/up` }] },
  {
    username: 'shaobing-service',
    password: SERVICE_PASSWORD,
    acl: [
      { access: 'read', topic: 'iot/+/+/up' },
      { access: 'write', topic: 'iot/+/+/errors' },
    ],
  },
];

async function accepted(c: Child): Promise<number> {
  const r = await fetch(`${c.httpUrl}/api/devices/${METER}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await r.json()) as { state: { accepted: number } }).state.accepted;
}

async function until<T>(what: string, fn: () => Promise<T | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(requireMosquitto('the cluster failover test') && requirePostgres('the cluster failover test'))('two instances, one killed', () => {
  let broker: Mosquitto;
  let server: Postgres;
  let db: pg.Pool;
  let url = '';
  const dirs = [tempDir(), tempDir()];
  beforeAll(async () => {
    [broker, server] = await Promise.all([Mosquitto.start({ users, persistence: true }), Postgres.start()]);
    url = await server.createDatabase('cluster');
    db = new pg.Pool({ connectionString: url });
  });
  afterAll(async () => {
    killChildren();
    await db?.end();
    await broker?.close();
    await server?.close();
    for (const d of dirs) d.remove();
  });

  it("takes a killed owner's community over within the bound and processes what was sent meanwhile", async () => {
    const env = {
      SHAOBING_EXTERNAL_BROKER_URL: broker.url,
      SHAOBING_EXTERNAL_BROKER_PASSWORD: SERVICE_PASSWORD,
      SHAOBING_CLUSTER_POSTGRES_URL: url,
      SHAOBING_CLUSTER_LEASE_TTL_MS: String(TTL),
      SHAOBING_CLUSTER_RENEW_MS: String(RENEW),
    };
    const children = await Promise.all(dirs.map((d) => startChild(d.path, '', env)));
    const byPid = (holder: string) => children.find((c) => holder.includes(`-${c.proc.pid}-`));
    // Both communities are owned, one each (two communities, two instances).
    const owners = await until('each instance to own one community', async () => {
      const live = (await leases(db)).filter((l) => l.live && l.name.startsWith('community:'));
      const holders = new Set(live.map((l) => l.holder));
      return live.length === 2 && holders.size === 2 ? live : false;
    });
    const owner = byPid(owners.find((l) => l.name === `community:${COMMUNITY}`)!.holder)!;
    const heir = children.find((c) => c !== owner)!;
    expect(owner).toBeDefined();

    const dev: MqttClient = await new Promise((resolve, reject) => {
      const c = mqtt.connect(broker.url, { protocolVersion: 5, clientId: METER, username: METER, password: sampleSecrets.devices[METER] });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    let n = 0;
    const send = () => dev.publishAsync(`iot/${COMMUNITY}/${METER}/up`, JSON.stringify({ type: 'reading', ts: ts0 + ++n * 60_000, totalM3: 50 + n / 100 }), { qos: 1 });
    // Before: the owner processes them.
    for (let i = 0; i < 5; i++) await send();
    await until('the owner to process the first five', async () => (await accepted(owner)) >= 5 || false);
    const heirBefore = await accepted(heir);

    owner.proc.kill('SIGKILL');
    const t0 = performance.now();
    const K = 10;
    for (let i = 0; i < K; i++) {
      await send();
      await new Promise((r) => setTimeout(r, 100));
    }
    await until('the heir to process what was sent after the kill', async () => (await accepted(heir)) - heirBefore >= K || false, TTL + RENEW + 15_000);
    const takeover = performance.now() - t0;
    console.log(`[cluster] owner SIGKILLed; its community's messages processed by the other instance after ${Math.round(takeover)} ms (lease ttl ${TTL} ms, renew ${RENEW} ms)`);
    expect(takeover).toBeLessThan(TTL + RENEW + 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await accepted(heir)) - heirBefore).toBe(K);
    const after = (await leases(db)).find((l) => l.name === `community:${COMMUNITY}`)!;
    expect(byPid(after.holder)).toBe(heir);
    expect(after.token).toBeGreaterThan(owners.find((l) => l.name === `community:${COMMUNITY}`)!.token);
    await dev.endAsync();
  }, 60_000);
});
