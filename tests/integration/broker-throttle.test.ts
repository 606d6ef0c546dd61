// Nobody guesses a device's password, and no device's reconnect storm starves the others (issue 12): the real
// broker, real MQTT clients. Wall time is moved with a faked Date (timers and sockets stay real).
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { startApp, connectDevice, sampleDevices, sampleSecrets, ADMIN_TOKEN, type TestApp } from '../helpers.js';
import { MqttAuthGuard, MQTT_PAIR, MQTT_FLAP } from '../../src/broker/authGuard.js';
import { createMetrics } from '../../src/metrics.js';
import { OPERATOR_USERNAME } from '../../src/broker/broker.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.stop();
});
afterEach(() => {
  vi.useRealTimers();
});

const [victim, neighbour, stormy, calm] = sampleDevices('water-meter', 'canonical', 'chunjiang');
type Refusal = Error & { code?: number };
const tryConnect = async (id: string, secret = sampleSecrets.devices[id], extra = {}) => {
  const started = performance.now();
  const result = await connectDevice(t.mqttUrl, id, secret, extra).then(
    (c) => {
      c.end(true);
      return 0;
    },
    (e: Refusal) => e.code ?? -1,
  );
  return { code: result, ms: performance.now() - started };
};
const metric = async (line: RegExp) => {
  const text = (await t.app.api.inject({ url: '/metrics' })).body;
  return Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? 0);
};

describe('MQTT CONNECT throttle', () => {
  it('slows a wrong password, then refuses the device from that address — even the right secret — while others connect', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    for (let i = 0; i < MQTT_PAIR.free; i++) expect((await tryConnect(victim, `guess-${i}`)).code).toBe(4);
    // Inside the backoff (here the clock stands still; a sequential guesser's answer is held back for the wait,
    // so only parallel tries meet it): refused at once, before the secret is looked at ("server unavailable",
    // 3.1.1 code 3).
    expect((await tryConnect(victim, `guess-x`)).code).toBe(3);
    expect((await tryConnect(victim)).code).toBe(3);
    // Another device from the same address is not affected.
    expect((await tryConnect(neighbour)).code).toBe(0);
    // After the wait a new guess is let through, and its refusal is held back: slowed.
    vi.setSystemTime(Date.now() + 1001);
    const slow = await tryConnect(victim, 'guess-late');
    expect(slow.code).toBe(4);
    expect(slow.ms).toBeGreaterThanOrEqual(900);
    expect(await metric(/^shaobing_auth_throttled_total\{surface="mqtt"\}/)).toBeGreaterThanOrEqual(2);
    expect(await metric(/^shaobing_auth_blocked\{surface="mqtt"\}/)).toBeGreaterThanOrEqual(1);
    // The wait over, the real device connects and is forgiven.
    vi.setSystemTime(Date.now() + 2001);
    expect((await tryConnect(victim)).code).toBe(0);
    expect((await tryConnect(victim, 'one-more-guess')).code).toBe(4);
  });

  it('throttles guesses at the operator login (the admin token) the same way', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const op = (password: string) => tryConnect(OPERATOR_USERNAME, password, { clientId: `rec-${Math.random().toString(36).slice(2)}`, username: OPERATOR_USERNAME });
    for (let i = 0; i < MQTT_PAIR.free; i++) expect((await op(`guess-${i}`)).code).toBe(4);
    expect((await op(ADMIN_TOKEN)).code).toBe(3);
  });

  it('refuses a device that reconnects in a storm, and only that device', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const codes: number[] = [];
    for (let i = 0; i < MQTT_FLAP.free + 5; i++) codes.push((await tryConnect(stormy)).code);
    expect(codes.slice(0, MQTT_FLAP.free).every((c) => c === 0)).toBe(true);
    expect(codes.slice(MQTT_FLAP.free).every((c) => c === 3)).toBe(true);
    // The others are not starved: they connect and publish during the storm.
    const c = await connectDevice(t.mqttUrl, calm);
    await c.publishAsync(`iot/chunjiang/${calm}/up`, JSON.stringify({ type: 'heartbeat' }), { qos: 1 });
    c.end(true);
    expect(await metric(/^shaobing_auth_throttled_total\{surface="mqtt_flap"\}/)).toBeGreaterThanOrEqual(5);
    expect(await metric(/^shaobing_auth_blocked\{surface="mqtt_flap"\}/)).toBe(1);
    // A minute of quiet and it is welcome again.
    vi.setSystemTime(Date.now() + 61_000);
    expect((await tryConnect(stormy)).code).toBe(0);
  });
});

describe('MqttAuthGuard', () => {
  it('refuses a pair for 15 minutes from 30 failures, then lets it try again', () => {
    let now = 0;
    const guard = new MqttAuthGuard(createMetrics(), { now: () => now });
    let failures = 0;
    while (failures < MQTT_PAIR.banAfter!) {
      if (guard.refuse('d1', '1.2.3.4')) now += 1000;
      else {
        guard.failed('d1', '1.2.3.4');
        failures++;
      }
    }
    expect(guard.pair.banned('d1\n1.2.3.4')).toBe(true);
    now += 14 * 60_000;
    expect(guard.refuse('d1', '1.2.3.4')).toMatch(/too many failed/);
    expect(guard.refuse('d2', '1.2.3.4')).toBeUndefined(); // other names from the address are fine (50 free)
    now += 61_000;
    expect(guard.refuse('d1', '1.2.3.4')).toBeUndefined();
  });
});
