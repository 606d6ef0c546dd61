// The issue's failover test, as far as the per-instance SQLite store allows (docs/cluster.md): mosquitto 2,
// PostgreSQL 15 and three shaobing processes sharing both communities; two water meters publish a steady QoS 1
// stream and smoke detectors alarm while the owner of a community is SIGKILLed, several times, different owners
// (each killed instance restarted on its data directory, as a supervisor would). At the end nothing the broker
// acknowledged to a device is lost and every smoke alarm is notified (a local WeCom robot); each takeover is
// measured (≤ 30 s). Not yet exactly once: a message committed by an owner killed before its PUBACK left is
// processed again by the instance that resumes the session, since the record that would recognise it is in the
// dead owner's SQLite (docs/cluster.md) — at most one such message per kill, which is what is asserted; graceful
// handovers (leases rebalanced when an instance comes back) lose and repeat nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { sampleSecrets, tempDir, ADMIN_TOKEN } from '../helpers.js';
import { startChild, killChildren, type Child } from '../child.js';
import { Mosquitto, requireMosquitto, type MosquittoUser } from '../mosquitto.js';
import { Postgres, requirePostgres } from '../postgres.js';
import { RobotReceiver } from '../robotReceiver.js';
import { leases } from '../../src/store/pgLeases.js';

const SERVICE_PASSWORD = 'service-password-0123456789';
const TTL = 4000;
const RENEW = 800;
const METERS: Record<string, string> = { chunjiang: 'cj-wm-1-103', guihuayuan: 'gh-wm-5-302' };
/** Canonical smoke detectors of guihuayuan, one alarm each. */
const SMOKE = ['gh-sd-5-303', 'gh-sd-6-302', 'gh-sd-6-stair2'];
const KILLS: string[] = ['guihuayuan', 'chunjiang', 'guihuayuan'];

const device = (id: string, community: string): MosquittoUser => ({
  username: id,
  password: sampleSecrets.devices[id],
  acl: [{ access: 'write', topic: `iot/${community}/${id}/up` }],
});
const users: MosquittoUser[] = [
  ...Object.entries(METERS).map(([c, id]) => device(id, c)),
  ...SMOKE.map((id) => device(id, 'guihuayuan')),
  { username: 'shaobing-service', password: SERVICE_PASSWORD, acl: [{ access: 'read', topic: 'iot/+/+/up' }, { access: 'write', topic: 'iot/+/+/errors' }] },
];

async function accepted(c: Child, id: string): Promise<number> {
  const r = await fetch(`${c.httpUrl}/api/devices/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await r.json()) as { state: { accepted: number } }).state.accepted;
}

async function until<T>(what: string, fn: () => Promise<T | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** As a supervisor does: start again until it is up (on a loaded machine a start-up can time out on PostgreSQL). */
async function restart(dir: string, env: Record<string, string>): Promise<Child> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startChild(dir, '', env);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

const connect = (url: string, id: string): Promise<MqttClient> =>
  mqtt.connectAsync(url, { protocolVersion: 5, clientId: id, username: id, password: sampleSecrets.devices[id], reconnectPeriod: 500 });

describe.runIf(requireMosquitto('the repeated failover test') && requirePostgres('the repeated failover test'))('three instances, owners killed in turn', () => {
  let broker: Mosquitto;
  let server: Postgres;
  let db: pg.Pool;
  let rx: RobotReceiver;
  let url = '';
  const dirs = [tempDir(), tempDir(), tempDir()];
  beforeAll(async () => {
    [broker, server, rx] = await Promise.all([Mosquitto.start({ users, persistence: true }), Postgres.start(), new RobotReceiver().start()]);
    url = await server.createDatabase('failover');
    db = new pg.Pool({ connectionString: url });
  });
  afterAll(async () => {
    killChildren();
    await db?.end();
    await rx?.stop();
    await broker?.close();
    await server?.close();
    for (const d of dirs) d.remove();
  });

  it('loses nothing acknowledged and notifies every smoke alarm across repeated SIGKILLs of owners (at most one message repeated per kill)', async () => {
    const settings = join(dirs[0].path, 'settings.yaml');
    writeFileSync(
      settings,
      [
        'communities:',
        `  - ${resolve('config/communities/chunjiang.yaml')}`,
        `  - ${resolve('config/communities/guihuayuan.yaml')}`,
        'notify:',
        '  destinations:',
        `    - { id: gh-duty, type: wecom, url: "${rx.robotUrl('wecom', 'gh-duty')}", reaches: { communities: [guihuayuan], roles: [property_duty] } }`,
      ].join('\n') + '\n',
    );
    const env = {
      SHAOBING_CONFIG: settings,
      SHAOBING_EXTERNAL_BROKER_URL: broker.url,
      SHAOBING_EXTERNAL_BROKER_PASSWORD: SERVICE_PASSWORD,
      SHAOBING_CLUSTER_POSTGRES_URL: url,
      SHAOBING_CLUSTER_LEASE_TTL_MS: String(TTL),
      SHAOBING_CLUSTER_RENEW_MS: String(RENEW),
    };
    const data = dirs.map((d) => join(d.path, 'data'));
    const instances: Child[] = await Promise.all(data.map((d) => startChild(d, '', env)));
    const ownerOf = async (community: string) => {
      const l = (await leases(db)).find((x) => x.name === `community:${community}` && x.live);
      return l && instances.find((c) => c.proc.exitCode === null && c.proc.signalCode === null && l.holder.includes(`-${c.proc.pid}-`));
    };
    await until('both communities owned', async () => ((await ownerOf('chunjiang')) && (await ownerOf('guihuayuan')) ? true : false));
    const total = async (id: string) => (await Promise.all(instances.map((c) => accepted(c, id)))).reduce((a, b) => a + b, 0);

    // The steady stream: each meter publishes a reading every 100 ms; what the broker acknowledged is counted.
    const acked: Record<string, number> = {};
    let streaming = true;
    const streams = Object.entries(METERS).map(async ([community, id]) => {
      const dev = await connect(broker.url, id);
      acked[id] = 0;
      let n = 0;
      while (streaming) {
        n++;
        await dev.publishAsync(`iot/${community}/${id}/up`, JSON.stringify({ type: 'reading', ts: Date.now(), totalM3: 100 + n / 1000 }), { qos: 1 });
        acked[id]++;
        await new Promise((r) => setTimeout(r, 100));
      }
      await dev.endAsync();
    });

    const alarms: string[] = [];
    const alarm = async (id: string) => {
      const dev = await connect(broker.url, id);
      await dev.publishAsync(`iot/guihuayuan/${id}/up`, JSON.stringify({ type: 'alarm', ts: Date.now(), smokePct: 40, batteryPct: 90 }), { qos: 1 });
      alarms.push(id);
      await dev.endAsync();
    };

    const takeovers: number[] = [];
    for (let k = 0; k < KILLS.length; k++) {
      const community = KILLS[k];
      const meter = METERS[community];
      await new Promise((r) => setTimeout(r, 1500));
      const owner = (await until(`an owner of ${community}`, async () => (await ownerOf(community)) ?? false))!;
      // A smoke alarm just before the kill (guihuayuan): in flight or committed when the owner dies.
      if (community === 'guihuayuan') await alarm(SMOKE[k]);
      const others = instances.filter((c) => c !== owner);
      const before = (await Promise.all(others.map((c) => accepted(c, meter)))).reduce((a, b) => a + b, 0);
      owner.proc.kill('SIGKILL');
      const t0 = performance.now();
      await owner.exited;
      // Taken over: another instance processes the community's stream.
      await until(`takeover of ${community}`, async () => (await Promise.all(others.map((c) => accepted(c, meter)))).reduce((a, b) => a + b, 0) > before || false, 30_000);
      takeovers.push(performance.now() - t0);
      // A supervisor restarts the killed instance on its data directory (its inbox and outbox carry on).
      const i = instances.indexOf(owner);
      instances[i] = await restart(data[i], env);
    }
    await alarm(SMOKE[1]);
    streaming = false;
    await Promise.all(streams);

    // Every acknowledged message processed, across the three stores; at most one twice per kill of its owner.
    for (const id of Object.values(METERS)) await until(`${id}'s messages processed`, async () => (await total(id)) >= acked[id] || false);
    await new Promise((r) => setTimeout(r, 1500));
    const twice: string[] = [];
    const kills = (community: string) => KILLS.filter((k) => k === community).length;
    for (const [community, id] of Object.entries(METERS)) {
      const processed = await total(id);
      expect(processed).toBeGreaterThanOrEqual(acked[id]);
      expect(processed - acked[id]).toBeLessThanOrEqual(kills(community));
      twice.push(`${id} ${processed - acked[id]} of ${acked[id]}`);
    }
    for (const id of alarms) expect(await total(id)).toBeGreaterThanOrEqual(1);

    // Every smoke alarm notified (one alert per detector), and no more often than it was processed.
    const smokeMessages = () => rx.accepted('wecom').filter((r) => r.text.includes('烟感报警'));
    await until('every alarm notified', async () => smokeMessages().length >= alarms.length || false);
    await new Promise((r) => setTimeout(r, 3000));
    expect(smokeMessages().length).toBeLessThanOrEqual(alarms.length + kills('guihuayuan'));

    console.log(`[cluster] ${KILLS.length} owners SIGKILLed; takeovers ${takeovers.map((t) => `${Math.round(t)} ms`).join(', ')} (leases ${TTL} ms, renewed every ${RENEW} ms); ${Object.values(acked).reduce((a, b) => a + b, 0)} readings and ${alarms.length} alarms processed; processed twice: ${twice.join(', ')}; smoke messages ${smokeMessages().length} for ${alarms.length} alarms`);
    for (const t of takeovers) expect(t).toBeLessThan(30_000);
  }, 420_000);
});
