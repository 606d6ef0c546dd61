// The real servers the cluster tests stand on (tests/mosquitto.ts, tests/postgres.ts) behave as those tests
// assume: mosquitto checks the password and ACL files we write and reloads them on SIGHUP, and hands each
// message of an MQTT 5 shared subscription to one member only; PostgreSQL 15 starts in a temp dir, gives each
// test its own database, and comes back after a crash with what was committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import pg from 'pg';
import { Mosquitto, requireMosquitto, type MosquittoUser } from '../mosquitto.js';
import { Postgres, requirePostgres } from '../postgres.js';

const users: MosquittoUser[] = [
  { username: 'dev-1', password: 'secret-1', acl: [{ access: 'write', topic: 'iot/c1/dev-1/up' }, { access: 'read', topic: 'iot/c1/dev-1/down' }] },
  { username: 'svc', password: 'svc-secret', acl: [{ access: 'read', topic: 'iot/c1/+/up' }, { access: 'write', topic: 'iot/c1/+/down' }] },
];

function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

describe.runIf(requireMosquitto('the mosquitto test helper'))('mosquitto helper', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start({ users });
  });
  afterAll(async () => broker?.close());

  it('takes the right password and refuses a wrong one or an unknown user', async () => {
    const ok = await connect(broker.url, { clientId: 'dev-1', username: 'dev-1', password: 'secret-1' });
    await ok.endAsync();
    await expect(connect(broker.url, { clientId: 'dev-1', username: 'dev-1', password: 'wrong' })).rejects.toThrow(/Bad User Name or Password|Not authorized/i);
    await expect(connect(broker.url, { clientId: 'x', username: 'nobody', password: 'secret-1' })).rejects.toThrow();
  });

  it('applies the ACL: a device publishes only to its uplink; a QoS 1 publish elsewhere is refused (PUBACK 0x87)', async () => {
    const svc = await connect(broker.url, { clientId: 'svc', username: 'svc', password: 'svc-secret' });
    const got: string[] = [];
    svc.on('message', (topic) => got.push(topic));
    await svc.subscribeAsync('iot/c1/+/up', { qos: 1 });
    const dev = await connect(broker.url, { clientId: 'dev-1', username: 'dev-1', password: 'secret-1' });
    await dev.publishAsync('iot/c1/dev-1/up', '{"n":1}', { qos: 1 });
    const refused = await dev.publishAsync('iot/c1/dev-2/up', '{"n":2}', { qos: 1 }).then(
      (p) => (p as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      (err: Error & { code?: number }) => err.code ?? -1,
    );
    expect(refused).toBe(0x87);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['iot/c1/dev-1/up']);
    await dev.endAsync();
    await svc.endAsync();
  });

  it('hands each message of a shared subscription to exactly one member', async () => {
    const members = await Promise.all(
      [1, 2].map((i) => connect(broker.url, { clientId: `svc-${i}`, username: 'svc', password: 'svc-secret' })),
    );
    const seen = members.map(() => [] as number[]);
    members.forEach((m, i) => m.on('message', (_t, payload) => seen[i].push(JSON.parse(payload.toString()).n)));
    for (const m of members) await m.subscribeAsync('$share/shaobing/iot/c1/+/up', { qos: 1 });
    const dev = await connect(broker.url, { clientId: 'dev-1', username: 'dev-1', password: 'secret-1' });
    for (let n = 0; n < 40; n++) await dev.publishAsync('iot/c1/dev-1/up', JSON.stringify({ n }), { qos: 1 });
    const end = Date.now() + 5000;
    while (seen[0].length + seen[1].length < 40 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect([...seen[0], ...seen[1]].sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    expect(seen[0].length).toBeGreaterThan(0);
    expect(seen[1].length).toBeGreaterThan(0);
    await dev.endAsync();
    for (const m of members) await m.endAsync();
  });

  it('reloads users on SIGHUP: a device added later connects, one removed is refused', async () => {
    await expect(connect(broker.url, { clientId: 'dev-3', username: 'dev-3', password: 'secret-3' })).rejects.toThrow();
    await broker.setUsers([
      users[1],
      { username: 'dev-3', password: 'secret-3', acl: [{ access: 'write', topic: 'iot/c1/dev-3/up' }] },
    ]);
    const c = await connect(broker.url, { clientId: 'dev-3', username: 'dev-3', password: 'secret-3' });
    await c.endAsync();
    await expect(connect(broker.url, { clientId: 'dev-1', username: 'dev-1', password: 'secret-1' })).rejects.toThrow();
  });
});

describe.runIf(requirePostgres('the PostgreSQL test helper'))('postgres helper', () => {
  let server: Postgres;
  beforeAll(async () => {
    server = await Postgres.start();
  });
  afterAll(async () => server?.close());

  it('is PostgreSQL 15 and gives each test its own database', async () => {
    const a = new pg.Client({ connectionString: await server.createDatabase() });
    const b = new pg.Client({ connectionString: await server.createDatabase() });
    await a.connect();
    await b.connect();
    try {
      const { rows } = await a.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
      expect(Number(rows[0].v)).toBeGreaterThanOrEqual(150000);
      expect(Number(rows[0].v)).toBeLessThan(160000);
      await a.query('CREATE TABLE t (x int)');
      await a.query('INSERT INTO t VALUES (1)');
      await expect(b.query('SELECT * FROM t')).rejects.toThrow(/does not exist/);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('keeps committed rows across a crash (SIGQUIT) and restart', async () => {
    const url = await server.createDatabase();
    const a = new pg.Client({ connectionString: url });
    a.on('error', () => {}); // the crash below ends this connection
    await a.connect();
    await a.query('CREATE TABLE t (x int)');
    await a.query('INSERT INTO t VALUES (42)');
    await server.stop('SIGQUIT');
    await expect(a.query('SELECT 1')).rejects.toThrow();
    await server.start();
    const b = new pg.Client({ connectionString: url });
    await b.connect();
    try {
      const { rows } = await b.query<{ x: number }>('SELECT x FROM t');
      expect(rows).toEqual([{ x: 42 }]);
    } finally {
      await b.end();
    }
  });
});
