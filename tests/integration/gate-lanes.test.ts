// A gate camera's direction comes from its lane (inventory parkingLots[].gates[].lanes[]), not from the Vzenith
// `channel`, which the vendor documents as reserved and which both vendor samples carry as 0. Over real MQTT to the
// real service: the vendor's own sample pushed by the exit camera of 春江小区's 正门 is a car leaving — no
// unregistered_vehicle, the lot count goes down — and the same push from the entry camera is a car coming in.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startApp, connectDevice, waitFor, auth, type TestApp } from '../helpers.js';

let t: TestApp;
const clients: MqttClient[] = [];
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await t?.stop();
});

/** The szymzh HTTP push sample (DOMAIN.md §4) with a plate of our choosing and the time now: channel 0, as sent. */
function vendorPush(plate: string): string {
  const now = Date.now();
  return JSON.stringify({
    AlarmInfoPlate: {
      channel: 0,
      deviceName: 'IVS',
      ipaddr: '192.168.55.131',
      serialno: 'fe71e106-57263272',
      result: {
        PlateResult: {
          license: plate,
          colorType: 1,
          type: 1,
          confidence: 96,
          direction: 0,
          triggerType: 4,
          plateid: now % 100000,
          isoffline: 0,
          timeStamp: { Timeval: { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 } },
        },
      },
    },
  });
}

async function push(deviceId: string, plate: string): Promise<Record<string, unknown>> {
  const before = (await t.app.api.inject({ url: `/api/devices/${deviceId}`, headers: auth() })).json().state.accepted as number;
  const c = await connectDevice(t.mqttUrl, deviceId);
  clients.push(c);
  await c.publishAsync(`iot/chunjiang/${deviceId}/up`, vendorPush(plate), { qos: 1 });
  const d = await waitFor(async () => {
    const r = (await t.app.api.inject({ url: `/api/devices/${deviceId}`, headers: auth() })).json();
    return r.state.accepted > before && r;
  }, `${deviceId}'s plate processed`);
  return d.state.last as Record<string, unknown>;
}

const unregistered = async (plate: string) =>
  ((await t.app.api.inject({ url: '/api/alerts?kind=unregistered_vehicle', headers: auth() })).json().items as Array<{ plate?: string }>).filter(
    (a) => a.plate === plate,
  );
const lot = async () =>
  ((await t.app.api.inject({ url: '/api/parking/lots', headers: auth() })).json().items as Array<{ id: string; occupied: number }>).find(
    (l) => l.id === 'cj-lot-1',
  )!;

describe("a gate camera's direction comes from its lane", () => {
  it('the exit camera sends channel 0 and the car is leaving; the entry camera sends the same and the car is coming in', async () => {
    const start = (await lot()).occupied;
    // An unknown car driving out (it came in before the service knew of it): never "an unregistered car entering".
    const out = await push('cj-gt-main-out', '苏E5M21K');
    expect(out).toMatchObject({ type: 'plate', direction: 'out', lane: '正门出口', channel: 0 });
    expect(await unregistered('苏E5M21K')).toEqual([]);

    const entering = await push('cj-gt-main', '浙A3K77Z');
    expect(entering).toMatchObject({ direction: 'in', lane: '正门入口', channel: 0 });
    await waitFor(async () => (await unregistered('浙A3K77Z')).length === 1, 'unregistered_vehicle for the car coming in');
    expect((await lot()).occupied).toBe(start + 1);
    // It leaves through the exit lane: the lot count comes back.
    await push('cj-gt-main-out', '浙A3K77Z');
    await waitFor(async () => (await lot()).occupied === start, 'the lot count back after the exit');
  });

  it('provisions a Vzenith camera no lane lists, and refuses its plates with the reason until one does', async () => {
    const res = await t.app.api.inject({
      method: 'POST',
      url: '/api/devices',
      headers: auth(),
      payload: { id: 'cj-gt-side', kind: 'smart-gate', format: 'vzenith', communityId: 'chunjiang', gateId: 'cj-gate-main' },
    });
    expect(res.statusCode).toBe(201);
    const c = await connectDevice(t.mqttUrl, 'cj-gt-side', res.json().secret);
    clients.push(c);
    await c.publishAsync('iot/chunjiang/cj-gt-side/up', vendorPush('沪C55821'), { qos: 1 });
    const rejected = await waitFor(async () => {
      const items = (await t.app.api.inject({ url: '/api/rejections?deviceId=cj-gt-side', headers: auth() })).json().items as Array<{ code: string; message: string }>;
      return items[0];
    }, 'the plate refused');
    expect(rejected.code).toBe('decode_failed');
    expect(rejected.message).toContain('watches no configured lane');
    expect(await unregistered('沪C55821')).toEqual([]);
  });
});
