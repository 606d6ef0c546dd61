// Device traffic through an external broker (src/transport/externalBroker.ts): a real mosquitto 2 from Debian
// authenticates the devices (password file, ACL), shaobing takes each community's uplinks from a persistent
// MQTT 5 session and acknowledges a QoS 1 message only after its inbox commit. Devices speak MQTT 5 here, which
// the embedded broker does not.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { sampleSecrets, startApp, tempDir, ADMIN_TOKEN, type TestApp } from '../helpers.js';
import { startChild, killChildren } from '../child.js';
import { Mosquitto, requireMosquitto, type MosquittoUser } from '../mosquitto.js';

const SERVICE_PASSWORD = 'service-password-0123456789';
const COMMUNITY = 'chunjiang';
const METER = 'cj-wm-1-103';
const SMOKE = 'cj-sd-1-602';
/** A smoke detector of the other community (its own session): an alarm takes the fast lane. */
const GH_SMOKE = 'gh-sd-5-303';
const ts0 = Date.parse('2026-03-01T08:00:00+08:00');

const device = (id: string, community = COMMUNITY): MosquittoUser => ({
  username: id,
  password: sampleSecrets.devices[id],
  acl: [
    { access: 'write', topic: `iot/${community}/${id}/up` },
    { access: 'read', topic: `iot/${community}/${id}/errors` },
  ],
});
const users: MosquittoUser[] = [
  device(METER),
  device(SMOKE),
  device(GH_SMOKE, 'guihuayuan'),
  {
    username: 'shaobing-service',
    password: SERVICE_PASSWORD,
    acl: [
      { access: 'read', topic: 'iot/+/+/up' },
      { access: 'write', topic: 'iot/+/+/errors' },
      { access: 'write', topic: 'iot/+/+/down' },
    ],
  },
];

function connectDevice(url: string, id: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 5, clientId: id, username: id, password: sampleSecrets.devices[id], reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

const reading = (n: number) => JSON.stringify({ type: 'reading', ts: ts0 + n * 60_000, totalM3: 100 + n / 100 });

async function accepted(httpUrl: string, id: string): Promise<number> {
  const r = await fetch(`${httpUrl}/api/devices/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await r.json()) as { state: { accepted: number } }).state.accepted;
}

// Generous: each child process compiles the app with tsx at start (seconds on a busy machine).
async function until<T>(what: string, fn: () => Promise<T | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(requireMosquitto('the external broker transport'))('external broker transport (mosquitto 2)', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start({ users, persistence: true });
  });
  afterAll(async () => {
    killChildren();
    await broker?.close();
  });
  // A child left by a failed test would hold the communities' sessions against the next test's.
  afterEach(() => killChildren());

  describe('one instance', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ externalBroker: { url: broker.url, password: SERVICE_PASSWORD, clientIdPrefix: 'inproc-' } });
    });
    afterAll(async () => t?.stop());

    it('processes each QoS 1 message a device publishes through the broker exactly once', async () => {
      expect(t.app.external?.attached().sort()).toEqual([...t.app.directory.communities.keys()].sort());
      const before = await accepted(t.httpUrl, METER);
      const dev = await connectDevice(broker.url, METER);
      const N = 50;
      for (let n = 1; n <= N; n++) await dev.publishAsync(`iot/${COMMUNITY}/${METER}/up`, reading(n), { qos: 1 });
      await until('every message processed', async () => (await accepted(t.httpUrl, METER)) - before >= N || false);
      await new Promise((r) => setTimeout(r, 300));
      expect((await accepted(t.httpUrl, METER)) - before).toBe(N);
      await dev.endAsync();
    });

    it("tells a device why its payload was refused on its errors topic, through the broker", async () => {
      const dev = await connectDevice(broker.url, SMOKE);
      const errors: string[] = [];
      dev.on('message', (_t, payload) => errors.push(payload.toString()));
      await dev.subscribeAsync(`iot/${COMMUNITY}/${SMOKE}/errors`, { qos: 0 });
      await dev.publishAsync(`iot/${COMMUNITY}/${SMOKE}/up`, '{"not":"a smoke reading"', { qos: 1 });
      const body = await until('the error message', async () => errors[0] ?? false, 10_000);
      expect(body).toMatch(/invalid_json|json/i);
      await dev.endAsync();
    });
  });

  it('redelivers a QoS 1 message that was in flight when shaobing was killed, and one sent while it was down', async () => {
    const dir = tempDir();
    const env = { SHAOBING_EXTERNAL_BROKER_URL: broker.url, SHAOBING_EXTERNAL_BROKER_PASSWORD: SERVICE_PASSWORD };
    // The first instance takes uplinks but never gets them into its inbox (as if it crashed right before).
    const first = await startChild(dir.path, 'externalBroker.hold', env);
    const before = await accepted(first.httpUrl, METER);
    const dev = await connectDevice(broker.url, METER);
    // mosquitto acknowledges the device: from here the broker answers for the message.
    await dev.publishAsync(`iot/${COMMUNITY}/${METER}/up`, reading(1001), { qos: 1 });
    await until('the first instance to hold it', async () => first.stdout.some((l) => l.includes('failpoint externalBroker.hold')) || false);
    first.proc.kill('SIGKILL');
    await first.exited;
    // While no instance is up, another message: queued in the community's session.
    await dev.publishAsync(`iot/${COMMUNITY}/${METER}/up`, reading(1002), { qos: 1 });

    const second = await startChild(dir.path, '', env);
    await until('both messages processed by the next instance', async () => (await accepted(second.httpUrl, METER)) - before >= 2 || false);
    await new Promise((r) => setTimeout(r, 500));
    expect((await accepted(second.httpUrl, METER)) - before).toBe(2);
    await dev.endAsync();
    second.proc.kill('SIGTERM');
    await second.exited;
    dir.remove();
  }, 150_000);

  it('acknowledges without processing again a message committed before a crash whose PUBACK never reached the broker', async () => {
    const dir = tempDir();
    const env = { SHAOBING_EXTERNAL_BROKER_URL: broker.url, SHAOBING_EXTERNAL_BROKER_PASSWORD: SERVICE_PASSWORD };
    // The first instance commits uplinks and never acknowledges them to the broker, as if it died in between.
    const first = await startChild(dir.path, 'externalBroker.holdAck', env);
    const meterBefore = await accepted(first.httpUrl, METER);
    const smokeBefore = await accepted(first.httpUrl, GH_SMOKE);
    const meter = await connectDevice(broker.url, METER);
    const smoke = await connectDevice(broker.url, GH_SMOKE);
    // A meter reading (the inbox, then processing) and a smoke alarm (the fast lane: processed in one commit).
    await meter.publishAsync(`iot/${COMMUNITY}/${METER}/up`, reading(3001), { qos: 1 });
    const alarm = JSON.stringify({ type: 'alarm', ts: ts0 + 3001 * 60_000, smokePct: 35, temperatureC: 41.5, batteryPct: 80 });
    await smoke.publishAsync(`iot/guihuayuan/${GH_SMOKE}/up`, alarm, { qos: 1 });
    await until('both processed by the first instance', async () =>
      (await accepted(first.httpUrl, METER)) - meterBefore === 1 && (await accepted(first.httpUrl, GH_SMOKE)) - smokeBefore === 1);
    await until('both PUBACKs held', async () => first.stdout.filter((l) => l.includes('failpoint externalBroker.holdAck')).length === 2 || false);
    first.proc.kill('SIGKILL');
    await first.exited;

    // The next instance resumes both sessions: the broker sends both again, flagged DUP.
    const second = await startChild(dir.path, '', env);
    await until('both redeliveries recognised', async () => second.stdout.filter((l) => l.includes('redelivery of a message committed before a crash')).length === 2 || false);
    // They were acknowledged: the sessions go on with the next messages.
    await meter.publishAsync(`iot/${COMMUNITY}/${METER}/up`, reading(3002), { qos: 1 });
    await smoke.publishAsync(`iot/guihuayuan/${GH_SMOKE}/up`, JSON.stringify({ type: 'heartbeat', ts: ts0 + 3002 * 60_000, batteryPct: 80 }), { qos: 1 });
    await until('the next messages processed', async () =>
      (await accepted(second.httpUrl, METER)) - meterBefore >= 2 && (await accepted(second.httpUrl, GH_SMOKE)) - smokeBefore >= 2);
    await new Promise((r) => setTimeout(r, 300));
    // Each processed once: the held ones by the first instance, the next ones by the second.
    expect((await accepted(second.httpUrl, METER)) - meterBefore).toBe(2);
    expect((await accepted(second.httpUrl, GH_SMOKE)) - smokeBefore).toBe(2);
    const r = await fetch(`${second.httpUrl}/api/alerts?kind=smoke&deviceId=${GH_SMOKE}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    const alerts = ((await r.json()) as { items: Array<{ deviceId: string }> }).items.filter((a) => a.deviceId === GH_SMOKE);
    expect(alerts).toHaveLength(1);
    await meter.endAsync();
    await smoke.endAsync();
    second.proc.kill('SIGTERM');
    await second.exited;
    dir.remove();
  }, 150_000);
});
