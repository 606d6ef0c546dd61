// The broker's front door over real MQTT: credentials, the topic ACL, acceptance, rejection and the
// errors topic, MQTT over WebSocket.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import mqtt from 'mqtt';
import { startApp, connectDevice, waitFor, auth, sampleSecrets, sampleDevices, ADMIN_TOKEN, type TestApp } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.stop();
});

const [meter, victim, other, wsMeter] = sampleDevices('water-meter', 'canonical', 'chunjiang');
const uplink = (id: string, community = 'chunjiang') => `iot/${community}/${id}/up`;

async function device(id: string) {
  const res = await t.app.api.inject({ url: `/api/devices/${id}`, headers: auth() });
  return res.json();
}

function closed(client: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

describe('MQTT authentication', () => {
  it('refuses a wrong secret with "bad username or password" (3.1.1 code 4)', async () => {
    const err = await connectDevice(t.mqttUrl, meter, 'not-the-secret').then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(4);
    const metrics = (await t.app.api.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/shaobing_auth_failures_total\{reason="bad_credentials"\} [1-9]/);
  });

  it('refuses an unknown device and a missing password the same way', async () => {
    for (const [id, secret] of [['no-such-device', 'whatever'], [meter, '']] as const) {
      const err = await connectDevice(t.mqttUrl, id, secret).then(() => null, (e: Error & { code?: number }) => e);
      expect(err?.code).toBe(4);
    }
  });

  it("refuses a client id that is not the device's own", async () => {
    const err = await new Promise<Error & { code?: number }>((resolve) => {
      const c = mqtt.connect(t.mqttUrl, { clientId: victim, username: meter, password: sampleSecrets.devices[meter], reconnectPeriod: 0 });
      c.once('error', (e) => {
        c.end(true);
        resolve(e);
      });
    });
    expect(err.code).toBe(2);
  });

  it('accepts the right secret and takes a canonical reading into the device state', async () => {
    const c = await connectDevice(t.mqttUrl, meter);
    await c.publishAsync(uplink(meter), JSON.stringify({ type: 'reading', totalM3: 12.345, batteryPct: 88, rssi: -91 }), { qos: 1 });
    const d = await waitFor(async () => {
      const v = await device(meter);
      return v.state.accepted === 1 && v;
    }, 'reading processed');
    expect(d).toMatchObject({ id: meter, kind: 'water-meter', communityId: 'chunjiang', online: true, batteryPct: 88, rssi: -91 });
    expect(d.state.meterTotalM3).toBe(12.345);
    expect(d.state.last).toMatchObject({ type: 'reading', totalM3: 12.345 });
    c.end(true);
  });
});

describe('MQTT topic ACL (deny by default)', () => {
  it("disconnects a device that publishes to another device's uplink, and takes nothing from it", async () => {
    const before = (await device(victim)).state.accepted;
    const c = await connectDevice(t.mqttUrl, meter);
    const gone = closed(c);
    c.publish(uplink(victim), JSON.stringify({ type: 'reading', totalM3: 1 }), { qos: 1 });
    await gone;
    expect((await device(victim)).state.accepted).toBe(before);
    c.end(true);
  });

  it("disconnects a device that subscribes to another device's topics, but lets it have its own", async () => {
    const c = await connectDevice(t.mqttUrl, meter);
    const granted = await c.subscribeAsync([`iot/chunjiang/${meter}/down`, `iot/chunjiang/${meter}/errors`]);
    expect(granted.map((g) => g.qos)).toEqual([0, 0]);
    const gone = closed(c);
    c.subscribe('iot/chunjiang/#');
    await gone;
    c.end(true);
  });
});

describe('bad input is answered, kept and never fatal', () => {
  it("lets an operator watch every device's errors topic with a standard client, beside the device's own session", async () => {
    // The documented way (README "Operators"): the operator login on iot/+/+/errors. A second connection with
    // the device's id would take over its session; one with another id is refused.
    const op = await mqtt.connectAsync(t.mqttUrl, { clientId: `ops-${process.pid}`, username: 'shaobing-operator', password: ADMIN_TOKEN, reconnectPeriod: 0 });
    try {
      await op.subscribeAsync('iot/+/+/errors', { qos: 1 });
      const seen = new Promise<[string, Record<string, string>]>((resolve) => op.once('message', (topic, payload) => resolve([topic, JSON.parse(payload.toString())])));
      const [sensor] = sampleDevices('parking-sensor', 'canonical', 'chunjiang');
      const c = await connectDevice(t.mqttUrl, sensor);
      await c.publishAsync(uplink(sensor), Buffer.from('{"type":"state","occupied":"maybe"}'), { qos: 1 });
      const [topic, body] = await seen;
      expect(topic).toBe(`iot/chunjiang/${sensor}/errors`);
      expect(body).toMatchObject({ error: 'invalid_payload' });
      expect(c.connected).toBe(true); // the device keeps its own connection
      await c.endAsync();
    } finally {
      await op.endAsync(true);
    }
  });

  it('keeps a bad payload with its reason in /api/rejections and publishes the reason on the errors topic', async () => {
    const c = await connectDevice(t.mqttUrl, meter);
    await c.subscribeAsync(`iot/chunjiang/${meter}/errors`);
    const errorMsg = new Promise<Record<string, string>>((resolve) => c.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))));
    // totalM3 must be >= 0 (CONTRACT.md); the payload is acknowledged all the same.
    await c.publishAsync(uplink(meter), JSON.stringify({ type: 'reading', totalM3: -3 }), { qos: 1 });
    const body = await errorMsg;
    expect(body.error).toBe('invalid_payload');
    expect(body.message).toContain('/totalM3');
    expect(new Date(body.at).getTime()).not.toBeNaN();

    await c.publishAsync(uplink(meter), Buffer.from('{not json'), { qos: 0 });
    const rejections = await waitFor(async () => {
      const res = await t.app.api.inject({ url: `/api/rejections?deviceId=${meter}`, headers: auth() });
      const items = res.json().items as Array<Record<string, unknown>>;
      return items.length >= 2 && items;
    }, 'two rejections');
    expect(rejections[0]).toMatchObject({ deviceId: meter, code: 'decode_failed', payloadText: '{not json', topic: uplink(meter) });
    expect(rejections[1]).toMatchObject({ deviceId: meter, code: 'invalid_payload', payloadText: '{"type":"reading","totalM3":-3}' });
    expect(Buffer.from(rejections[1].payloadBase64 as string, 'base64').toString()).toBe('{"type":"reading","totalM3":-3}');

    // The device stays connected and its next good reading is taken.
    await c.publishAsync(uplink(meter), JSON.stringify({ type: 'reading', totalM3: 12.5 }), { qos: 1 });
    await waitFor(async () => (await device(meter)).state.meterTotalM3 === 12.5, 'good reading after bad ones');
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/shaobing_messages_total\{kind="water-meter",result="rejected"\} 2/);
    c.end(true);
  });

  it('rejects a payload over the size limit without losing the connection', async () => {
    const id = other;
    const c = await connectDevice(t.mqttUrl, id);
    await c.publishAsync(uplink(id), Buffer.alloc(70_000, 0x20), { qos: 1 });
    const items = await waitFor(async () => {
      const res = await t.app.api.inject({ url: `/api/rejections?deviceId=${id}`, headers: auth() });
      return res.json().items.length > 0 && res.json().items;
    }, 'size rejection');
    expect(items[0]).toMatchObject({ code: 'payload_too_large', payloadBytes: 70_000 });
    expect(c.connected).toBe(true);
    c.end(true);
  });
});

describe('MQTT over WebSocket', () => {
  it('serves /mqtt on the HTTP port with the same credentials and ACL', async () => {
    const id = wsMeter;
    const c = await connectDevice(t.httpUrl.replace('http', 'ws') + '/mqtt', id);
    await c.publishAsync(uplink(id), JSON.stringify({ type: 'reading', totalM3: 3.2 }), { qos: 1 });
    await waitFor(async () => (await device(id)).state.meterTotalM3 === 3.2, 'websocket reading');
    c.end(true);
    const err = await connectDevice(t.httpUrl.replace('http', 'ws') + '/mqtt', id, 'wrong').then(() => null, (e: Error & { code?: number }) => e);
    expect(err?.code).toBe(4);
  });
});
