// The broker on a thread of its own (src/transport/brokerThread.ts, issue 18): the real service's ingest fed
// by a BrokerThread on a port of its own — real aedes in a worker thread, real sockets, real SQLite. Most tests
// start the thread beside the app's in-thread broker; the last starts the app with settings.mqtt.thread. Under
// vitest the worker compiles its TypeScript with tsx first: 90 s per test on a loaded machine.
import { describe, it, expect, afterEach } from 'vitest';
import { connect } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { BrokerThread } from '../../src/transport/brokerThread.js';
import { deviceKinds } from '../../devices/index.js';
import { hashSecret } from '../../src/broker/secrets.js';
import { startApp, connectDevice, sampleDevices, sampleSecrets, waitFor, ADMIN_TOKEN, type TestApp } from '../helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const [meter, meter2] = sampleDevices('water-meter', 'canonical', 'chunjiang');
const [smoke] = sampleDevices('smoke-detector', 'canonical', 'chunjiang');

async function withThread(): Promise<{ t: TestApp; thread: BrokerThread; url: string }> {
  const t = await startApp();
  cleanups.push(() => t.stop());
  const s = t.app.config.settings;
  const thread = new BrokerThread({
    directory: t.app.directory,
    repo: t.app.devicesRepo,
    ingest: t.app.ingest,
    log: t.app.log,
    metrics: t.app.metrics,
    worker: {
      communities: t.app.config.communities,
      dataDir: s.dataDir,
      settings: { host: '127.0.0.1', port: 0, wsPort: null, maxPacketBytes: s.mqtt.maxPayloadBytes + 65536, fairReads: s.mqtt.fairReads, tlsPort: null },
      adminToken: ADMIN_TOKEN,
      log: { level: 'silent', format: 'json' },
      urgentKinds: deviceKinds.filter((k) => k.urgent).map((k) => k.kind),
    },
  });
  await thread.start();
  cleanups.push(() => thread.stop());
  expect(thread.up).toBe(true);
  return { t, thread, url: `mqtt://127.0.0.1:${thread.ports.mqtt}` };
}

describe('broker thread', () => {
  it('takes QoS 1 readings to the store in each device\'s order, acknowledged only after the inbox commit', async () => {
    const { t, url } = await withThread();
    const seen: Array<[string, number]> = [];
    t.app.bus.on('reading', 'test', (r) => seen.push([r.deviceId, r.payload.totalM3 as number]));
    const a = await connectDevice(url, meter);
    const b = await connectDevice(url, meter2);
    cleanups.push(() => a.end(true), () => b.end(true));
    await waitFor(() => t.app.states.get(meter)?.connected && t.app.states.get(meter2)?.connected, 'both connected (state on the main thread)');
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      sends.push(a.publishAsync(`iot/chunjiang/${meter}/up`, JSON.stringify({ type: 'reading', totalM3: 100 + i }), { qos: 1 }));
      sends.push(b.publishAsync(`iot/chunjiang/${meter2}/up`, JSON.stringify({ type: 'reading', totalM3: 200 + i }), { qos: 1 }));
    }
    await Promise.all(sends); // every PUBACK came back
    // Acknowledged means committed: the rows are there as soon as the last PUBACK is.
    const rows = t.app.db.prepare('SELECT device_id, payload FROM readings WHERE device_id IN (?, ?) ORDER BY rowid').all(meter, meter2) as Array<{ device_id: string; payload: string }>;
    const count = t.app.db.prepare('SELECT COUNT(*) FROM inbox').pluck().get() as number;
    expect(count).toBe(0);
    await waitFor(() => seen.length === 100, 'every reading on the bus');
    for (const id of [meter, meter2]) {
      const mine = rows.filter((r) => r.device_id === id).map((r) => (JSON.parse(r.payload) as { totalM3: number }).totalM3);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => (id === meter ? 100 : 200) + i));
    }
    a.end(true);
    await waitFor(() => t.app.states.get(meter)?.connected === false, 'the disconnect reaching the main thread');
  }, 90_000);

  it('refuses a wrong secret and another device\'s topic, keeps a refused payload, and publishes to a device from the main thread', async () => {
    const { t, thread, url } = await withThread();
    await expect(connectDevice(url, meter, 'wrong-secret')).rejects.toThrow(/Bad username or password|Not authorized/i);
    const c = await connectDevice(url, meter);
    cleanups.push(() => c.end(true));
    await c.publishAsync(`iot/chunjiang/${meter}/up`, '{"type":"reading","totalM3":"lots"}', { qos: 1 });
    expect(t.app.db.prepare('SELECT code FROM rejections WHERE device_id = ?').pluck().all(meter)).toEqual(['invalid_payload']);
    // A device's channels are served by the broker thread; what goes to them is decided here.
    await c.subscribeAsync(`iot/chunjiang/${meter}/errors`);
    const got = new Promise<string>((resolve) => c.once('message', (_topic, body) => resolve(body.toString())));
    thread.publish(t.app.directory.devices.get(meter)!, 'errors', '{"error":"invalid_payload"}');
    expect(JSON.parse(await got)).toEqual({ error: 'invalid_payload' });
    // Publishing on another device's uplink: refused, disconnected, nothing stored for either.
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`iot/chunjiang/${meter2}/up`, '{"type":"reading","totalM3":1}', { qos: 0 });
    await closed;
    expect(t.app.db.prepare('SELECT COUNT(*) FROM readings WHERE device_id = ?').pluck().get(meter2)).toBe(0);
    const failures = await t.app.metrics.authFailures.get();
    const reasons = failures.values.map((v) => v.labels.reason);
    expect(reasons).toEqual(expect.arrayContaining(['bad_credentials', 'publish_denied']));
  }, 90_000);

  it('lets a device provisioned while running connect through the thread (its read-only store lookup) and refuses an unknown one', async () => {
    const { t, url } = await withThread();
    const id = 'cj-sd-thread-new-1';
    const secret = 'thread-secret-0123456789';
    await expect(connectDevice(url, id, secret)).rejects.toThrow(/Bad username or password|Not authorized/i);
    // Written by the main thread's store (as the API or `npm run provision` does): the thread finds it in its lookup.
    t.app.store.transaction(() => t.app.store.devices.insert({ id, kind: 'smoke-detector', communityId: 'chunjiang', format: 'canonical', secretHash: hashSecret(secret) }, Date.now()));
    const c = await connectDevice(url, id, secret);
    cleanups.push(() => c.end(true));
    const seen = new Promise<number>((resolve) => t.app.bus.on('reading', 'test', (r) => r.deviceId === id && resolve(r.payload.batteryPct as number)));
    await c.publishAsync(`iot/chunjiang/${id}/up`, '{"type":"heartbeat","batteryPct":88}', { qos: 1 });
    expect(await seen).toBe(88);
    expect(t.app.db.prepare('SELECT COUNT(*) FROM readings WHERE device_id = ?').pluck().get(id)).toBe(1);
  }, 90_000);

  it('puts a smoke alarm ahead of a flood of bulk readings sent through the same thread', async () => {
    const { t, url } = await withThread();
    let readings = 0;
    let before = -1;
    t.app.bus.on('reading', 'test', (r) => {
      if (r.deviceId === smoke) before = readings;
      else readings++;
    });
    const alarm = await connectDevice(url, smoke);
    cleanups.push(() => alarm.end(true));
    const { port } = new URL(url);
    const sock = connect(Number(port), '127.0.0.1');
    cleanups.push(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: meter, keepalive: 60, username: meter, password: Buffer.from(sampleSecrets.devices[meter]) }));
    await new Promise((r) => sock.once('data', r));
    const flood = 20_000;
    const topic = `iot/chunjiang/${meter}/up`;
    sock.write(Buffer.concat(Array.from({ length: flood }, (_, i) => mqttPacket.generate({ cmd: 'publish', topic, qos: 0, retain: false, dup: false, payload: `{"type":"reading","totalM3":${(100 + i / 1000).toFixed(3)}}` }))));
    await waitFor(() => readings > 0, 'the flood arriving', 10_000);
    await alarm.publishAsync(`iot/chunjiang/${smoke}/up`, '{"type":"alarm","smokePct":60}', { qos: 1 });
    await waitFor(() => before >= 0, 'the alarm processed', 20_000);
    await waitFor(() => readings === flood, 'the whole flood processed', 60_000);
    // Ahead of most of the flood (fair reads in the broker thread, the fast lane on the main thread).
    expect(before).toBeLessThan(flood / 2);
    await waitFor(() => t.app.db.prepare("SELECT COUNT(*) FROM alerts WHERE kind = 'smoke' AND device_id = ?").pluck().get(smoke), 'the smoke alert');
  }, 90_000);

  it('serves the app with settings.mqtt.thread: readings, a refusal on the errors channel, healthz, connected devices', async () => {
    const t = await startApp({ mqtt: { port: 0, host: '127.0.0.1', thread: true } });
    cleanups.push(() => t.stop());
    expect(t.app.broker).toBeInstanceOf(BrokerThread);
    const c = await connectDevice(t.mqttUrl, meter);
    cleanups.push(() => c.end(true));
    await c.publishAsync(`iot/chunjiang/${meter}/up`, '{"type":"reading","totalM3":123.456}', { qos: 1 });
    // QoS 1 is acknowledged after the inbox commit: the state is there when the PUBACK has come.
    expect(t.app.states.get(meter)?.meterTotalM3).toBe(123.456);
    await c.subscribeAsync(`iot/chunjiang/${meter}/errors`);
    const got = new Promise<string>((resolve) => c.once('message', (_topic, body) => resolve(body.toString())));
    await c.publishAsync(`iot/chunjiang/${meter}/up`, 'not json', { qos: 1 });
    expect(JSON.parse(await got)).toMatchObject({ error: 'decode_failed' });
    const health = (await (await fetch(`${t.httpUrl}/healthz`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(health)).toMatch(/"broker":\s*(true|"ok"|\{[^}]*"ok":\s*true)/);
    const connected = (await t.app.metrics.connectedDevices.get()).values[0]?.value;
    expect(connected).toBe(1);
  }, 90_000);
});
