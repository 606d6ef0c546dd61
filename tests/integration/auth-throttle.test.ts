// Nobody guesses their way in (issue 12): console sign-ins and bearer tokens are counted before the secret is
// checked, slowed per account and per address with a backoff (not a flat lock-out), refused, and shown in
// /metrics. Real service, real HTTP for the concurrent burst.
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { startApp, auth, sampleSecrets, type TestApp } from '../helpers.js';
import { SIGN_IN_REQUESTS_PER_MINUTE } from '../../src/api/session.js';
import { hashPassword } from '../../src/api/passwords.js';

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

const pw = sampleSecrets.passwords;
const signIn = (username: string, password: string, ip: string) =>
  t.app.api.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });
const metric = async (line: RegExp) => {
  const text = (await t.app.api.inject({ url: '/metrics' })).body;
  return Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? 0);
};

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
