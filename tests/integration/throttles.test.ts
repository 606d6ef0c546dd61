// Nobody guesses their way in (issue 12): console sign-ins, bearer tokens and MQTT connects are counted before
// the secret is checked, slowed with a backoff (not a flat lock-out), refused, and shown in /metrics; a
// device's reconnect storm starves nobody. The real service, real HTTP and MQTT clients; wall time is moved
// with a faked Date (timers and sockets stay real).
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { startApp, auth, connectDevice, sampleDevices, sampleSecrets, ADMIN_TOKEN, type TestApp } from '../helpers.js';
import { SIGN_IN_REQUESTS_PER_MINUTE } from '../../src/api/session.js';
import { hashPassword } from '../../src/api/passwords.js';
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

const metric = async (line: RegExp) => {
  const text = (await t.app.api.inject({ url: '/metrics' })).body;
  return Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? 0);
};

const pw = sampleSecrets.passwords;
const signIn = (username: string, password: string, ip: string) =>
  t.app.api.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });

describe('console sign-in throttle', () => {
  it('answers a burst of 200 concurrent wrong sign-ins with 429 before checking the password, and lets none in', async () => {
    const before = await metric(/^shaobing_auth_failures_total\{reason="bad_password"\}/);
    // The wall clock stands still for the burst (only Date is faked; timers and sockets are real), so a slow
    // machine cannot stretch it past the first backoff wait and make the count depend on timing.
    vi.useFakeTimers({ toFake: ['Date'] });
    // Over real HTTP from one address (127.0.0.1), all at once; the 151st carries the right password.
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${t.httpUrl}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'gh-duty-1', password: i === 150 ? pw['gh-duty-1'] : `guess-${i}` }),
        }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { code: string } })),
      ),
    );
    vi.useRealTimers();
    const by = (s: number) => responses.filter((r) => r.status === s);
    expect(by(201)).toEqual([]);
    expect(responses[150].status).toBe(429);
    expect(by(401).length).toBeLessThanOrEqual(5);
    expect(by(429).length).toBeGreaterThanOrEqual(195);
    expect(by(429).every((r) => Number(r.retryAfter) > 0 && /^SB_TOO_MANY_(ATTEMPTS|REQUESTS)$/.test(r.body.code))).toBe(true);
    // Only the few let through reached scrypt.
    expect((await metric(/^shaobing_auth_failures_total\{reason="bad_password"\}/)) - before).toBeLessThanOrEqual(5);
    expect(await metric(/^shaobing_auth_throttled_total\{surface="login"\}/)).toBeGreaterThanOrEqual(195);
    expect(SIGN_IN_REQUESTS_PER_MINUTE).toBeLessThan(200);
  });

  it('slows the failing account from that address only: a colleague behind the same NAT signs in at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const office = '10.20.30.40';
    for (let i = 0; i < 5; i++) expect((await signIn('gh-head-g1', `typo-${i}`, office)).statusCode).toBe(401);
    const slowed = await signIn('gh-head-g1', pw['gh-head-g1'], office);
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    // Same address, another person: not affected. Same person, another address: not affected.
    expect((await signIn('gh-head-g2', pw['gh-head-g2'], office)).statusCode).toBe(201);
    expect((await signIn('gh-head-g1', pw['gh-head-g1'], '10.20.30.41')).statusCode).toBe(201);
    // A backoff, not a 15-minute lock-out: after the wait the right password works from the office too.
    vi.setSystemTime(Date.now() + 1001);
    expect((await signIn('gh-head-g1', pw['gh-head-g1'], office)).statusCode).toBe(201);
    // …and the success forgave the earlier typos.
    expect((await signIn('gh-head-g1', 'one-more-typo', office)).statusCode).toBe(401);
    vi.useRealTimers();
  });

  it('slows one address spraying many accounts', async () => {
    const sprayer = '10.99.0.1';
    const names = Object.keys(pw);
    let limited = 0;
    for (let i = 0; i < 31; i++) {
      const res = await signIn(names[i % names.length], `spray-${i}`, sprayer);
      if (res.statusCode === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
  });
});

describe('bearer token throttle', () => {
  it('slows, then refuses, an address that keeps sending wrong tokens; known tokens and other addresses carry on', async () => {
    const ip = '10.50.0.9';
    const staff = auth(sampleSecrets.people['gh-duty-1']);
    // A token already known good from this address (cached) keeps working whatever happens below.
    expect((await t.app.api.inject({ url: '/api/me', headers: staff, remoteAddress: ip })).statusCode).toBe(200);
    const wrong = (i: number, from = ip) => t.app.api.inject({ url: '/api/alerts', headers: auth(`not-a-token-${i}-xxxxxxxx`), remoteAddress: from });
    for (let i = 0; i < 20; i++) expect((await wrong(i)).statusCode).toBe(401);
    const refused = await wrong(20);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('SB_TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // While refused, even a real token never used from here is not searched for (an attacker's lucky guess is refused too).
    const unseen = await t.app.api.inject({ url: '/api/me', headers: auth(sampleSecrets.people['gh-emerg-2']), remoteAddress: ip });
    expect(unseen.statusCode).toBe(429);
    expect((await t.app.api.inject({ url: '/api/me', headers: staff, remoteAddress: ip })).statusCode).toBe(200);
    expect((await wrong(99, '10.50.0.10')).statusCode).toBe(401);
    // No token at all is not a guess.
    expect((await t.app.api.inject({ url: '/api/me', remoteAddress: ip })).statusCode).toBe(401);
    expect(await metric(/^shaobing_auth_blocked\{surface="token"\}/)).toBe(1);
    expect(await metric(/^shaobing_auth_throttled_total\{surface="token"\}/)).toBeGreaterThanOrEqual(2);
    expect(await metric(/^shaobing_auth_failures_total\{reason="bad_token"\}/)).toBeGreaterThanOrEqual(21);
  });

  it('does not count a session that has ended as a guess, but does count a forged one', async () => {
    const ip = '10.60.0.1';
    const { token } = (await signIn('gh-vol-g2-1', pw['gh-vol-g2-1'], ip)).json();
    // The password changes: the console left open elsewhere still sends the old session, signed by us.
    const person = t.app.directory.people.get('gh-vol-g2-1')!;
    t.app.directory.people.set('gh-vol-g2-1', { ...person, passwordHash: hashPassword('a brand new password', Buffer.alloc(16, 7), 1024) });
    for (let i = 0; i < 25; i++) {
      const res = await t.app.api.inject({ url: '/api/me', headers: auth(token), remoteAddress: ip });
      expect(res.statusCode).toBe(401);
    }
    t.app.directory.people.set('gh-vol-g2-1', person);
    // A session token with a signature of the caller's own making is a guess.
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await t.app.api.inject({ url: '/api/me', headers: auth(`${token.slice(0, -4)}AAA${i % 10}`), remoteAddress: ip })).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });
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
