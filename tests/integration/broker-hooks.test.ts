// The EMQX 5 HTTP authentication and authorization hooks (src/api/brokerHooks.ts), called over real HTTP the way
// EMQX 5 calls them: POST, JSON body from the configured template (placeholders rendered as strings), the shared
// secret in a header; answers HTTP 200 with {"result": …, "is_superuser": false}. The rules are the embedded
// broker's (src/broker/access.ts), so the same devices, secrets and topics are allowed and refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, sampleSecrets, startApp, type TestApp } from '../helpers.js';
import { hashSecret } from '../../src/broker/secrets.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { EMQX_AUTHN_BODY, EMQX_AUTHZ_BODY } from '../../src/api/brokerHooks.js';

const HOOK_SECRET = 'hook-secret-0123456789abcdef';
const SERVICE_SECRET = 'service-secret-0123456789abcdef';
const DEVICE = 'cj-sd-1-602';
const OTHER = 'cj-wm-1-103';
const TTL = 400;

let t: TestApp;
let community: string;

beforeAll(async () => {
  t = await startApp({
    brokerHooks: { secretHash: hashSecret(HOOK_SECRET), serviceSecretHash: hashSecret(SERVICE_SECRET), cacheTtlMs: TTL },
  });
  community = t.app.directory.devices.get(DEVICE)!.communityId;
});
afterAll(async () => t?.stop());

/** What EMQX sends: the template with its placeholders filled in, every value a string. */
function render(template: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v.replace(/\$\{(\w+)\}/g, (_m, name: string) => values[name] ?? '')]));
}

async function hook(path: 'authn' | 'authz' | 'events', body: unknown, secret: string | null = HOOK_SECRET) {
  const res = await fetch(`${t.httpUrl}/hooks/emqx/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret === null ? {} : { 'x-shaobing-hook-secret': secret }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const authn = (username: string, password: string, clientid = username, peerhost = '10.1.2.3') =>
  hook('authn', render(EMQX_AUTHN_BODY, { username, password, clientid, peerhost }));
const authz = (username: string, action: string, topic: string, clientid = username) =>
  hook('authz', render(EMQX_AUTHZ_BODY, { username, clientid, action, topic, peerhost: '10.1.2.3', qos: '1', retain: 'false' }));

describe('EMQX 5 authentication hook', () => {
  it('allows a device with its secret and client id; denies a wrong secret, another client id, an unknown user', async () => {
    expect(await authn(DEVICE, sampleSecrets.devices[DEVICE])).toEqual({ status: 200, body: { result: 'allow', is_superuser: false }, headers: expect.anything() });
    for (const [u, p, c] of [
      [DEVICE, 'wrong-secret', DEVICE],
      [DEVICE, sampleSecrets.devices[DEVICE], OTHER],
      [DEVICE, sampleSecrets.devices[OTHER], DEVICE],
      ['no-such-device', 'whatever', 'no-such-device'],
      ['', '', ''],
    ]) {
      const r = await authn(u, p, c, '10.9.9.9');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ result: 'deny', is_superuser: false });
    }
  });

  it('knows the operator (admin token) and the service login (service secret), never with a wrong password', async () => {
    expect((await authn('shaobing-operator', ADMIN_TOKEN, 'recorder-1')).body.result).toBe('allow');
    expect((await authn('shaobing-operator', 'not-the-token', 'recorder-1', '10.7.7.7')).body.result).toBe('deny');
    expect((await authn('shaobing-service', SERVICE_SECRET, 'shaobing-a')).body.result).toBe('allow');
    expect((await authn('shaobing-service', HOOK_SECRET, 'shaobing-a', '10.7.7.8')).body.result).toBe('deny');
  });

  it('throttles failed connects per username and address like the embedded broker: then even the right secret waits', async () => {
    const ip = '10.5.5.5';
    for (let i = 0; i < 5; i++) expect((await authn(OTHER, 'wrong', OTHER, ip)).body.result).toBe('deny');
    // The pair is in its backoff now: refused before the secret is looked at.
    expect((await authn(OTHER, sampleSecrets.devices[OTHER], OTHER, ip)).body.result).toBe('deny');
    // The same device from another address is not held back by the guesser.
    expect((await authn(OTHER, sampleSecrets.devices[OTHER], OTHER, '10.5.5.6')).body.result).toBe('allow');
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/shaobing_auth_throttled_total\{surface="mqtt"\} [1-9]/);
  });

  it('sees a device provisioned through the API at once, and one written to the store by the CLI after the cache TTL', async () => {
    const before = await authn('cj-sd-new-1', 'x', 'cj-sd-new-1', '10.6.0.1');
    expect(before.body.result).toBe('deny');
    const res = await t.app.api.inject({
      method: 'POST',
      url: '/api/devices',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { id: 'cj-sd-new-1', kind: 'smoke-detector', communityId: community, format: 'canonical', buildingId: t.app.directory.devices.get(DEVICE)!.buildingId },
    });
    expect(res.statusCode).toBe(201);
    expect((await authn('cj-sd-new-1', res.json().secret, 'cj-sd-new-1', '10.6.0.2')).body.result).toBe('allow');

    // Another process (npm run provision) writes the row: within the TTL the remembered "no such user" holds,
    // after it the store is asked again.
    const id = 'cj-sd-cli-1';
    expect((await authn(id, 'cli-secret', id, '10.6.0.3')).body.result).toBe('deny');
    t.app.devicesRepo.insert({ id, kind: 'smoke-detector', communityId: community, format: 'canonical', secretHash: hashSecret('cli-secret-0123456789') }, Date.now());
    expect((await authn(id, 'cli-secret-0123456789', id, '10.6.0.4')).body.result).toBe('deny');
    await new Promise((r) => setTimeout(r, TTL + 100));
    expect((await authn(id, 'cli-secret-0123456789', id, '10.6.0.5')).body.result).toBe('allow');
  });
});

describe('EMQX 5 authorization hook', () => {
  it("allows a device its own uplink and downlink/errors topics and nothing else, as the embedded broker's ACL", async () => {
    const up = `iot/${community}/${DEVICE}/up`;
    const cases: Array<[string, string, string, 'allow' | 'deny', string?]> = [
      [DEVICE, 'publish', up, 'allow'],
      [DEVICE, 'publish', `iot/${community}/${OTHER}/up`, 'deny'],
      [DEVICE, 'publish', `iot/${community}/${DEVICE}/down`, 'deny'],
      [DEVICE, 'subscribe', `iot/${community}/${DEVICE}/down`, 'allow'],
      [DEVICE, 'subscribe', `iot/${community}/${DEVICE}/errors`, 'allow'],
      [DEVICE, 'subscribe', `iot/${community}/+/down`, 'deny'],
      [DEVICE, 'subscribe', '#', 'deny'],
      // The client id must be the device's (EMQX passes what the client sent).
      [DEVICE, 'publish', up, 'deny', OTHER],
      ['no-such-device', 'publish', 'iot/x/no-such-device/up', 'deny'],
      [DEVICE, 'retain', up, 'deny'],
      ['shaobing-operator', 'subscribe', 'iot/#', 'allow'],
      ['shaobing-operator', 'publish', up, 'deny'],
      ['shaobing-service', 'subscribe', `$share/shaobing/iot/${community}/+/up`, 'allow'],
      ['shaobing-service', 'subscribe', `iot/${community}/+/up`, 'allow'],
      ['shaobing-service', 'subscribe', `iot/${community}/+/down`, 'deny'],
      ['shaobing-service', 'publish', `iot/${community}/${DEVICE}/errors`, 'allow'],
      ['shaobing-service', 'publish', `iot/${community}/${DEVICE}/down`, 'allow'],
      ['shaobing-service', 'publish', `iot/${community}/${DEVICE}/up`, 'deny'],
    ];
    for (const [user, action, topic, want, clientid] of cases) {
      const r = await authz(user, action, topic, clientid ?? user);
      expect({ user, action, topic, clientid, status: r.status, result: r.body.result }).toEqual({ user, action, topic, clientid, status: 200, result: want });
    }
  });

  it('takes qos and retain as EMQX renders them (strings) or as JSON values', async () => {
    const r = await hook('authz', { clientid: DEVICE, username: DEVICE, action: 'publish', topic: `iot/${community}/${DEVICE}/up`, qos: 1, retain: false });
    expect(r.body).toEqual({ result: 'allow' });
  });
});

describe('the hooks themselves', () => {
  it('answer 401 without the shared secret and 429 to an address that keeps guessing; the right secret still passes', async () => {
    const body = render(EMQX_AUTHN_BODY, { username: DEVICE, password: sampleSecrets.devices[DEVICE], clientid: DEVICE, peerhost: '10.1.2.3' });
    const none = await hook('authn', body, null);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 'SB_UNAUTHORIZED' });
    let last = none;
    for (let i = 0; i < 25 && last.status !== 429; i++) last = await hook('authz', body, `guess-${i}`);
    expect(last.status).toBe(429);
    expect(last.body).toMatchObject({ code: 'SB_TOO_MANY_ATTEMPTS' });
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await hook('authn', body)).body).toEqual({ result: 'allow', is_superuser: false });
  });

  it('answer a body without the template fields with a coded 400 (EMQX takes it as ignore), never a stack trace', async () => {
    const r = await hook('authn', { username: DEVICE });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'SB_VALIDATION' });
    expect(JSON.stringify(r.body)).not.toContain('    at ');
  });

  it('are in the OpenAPI document with their own security scheme', async () => {
    const doc = (await t.app.api.inject({ url: '/docs/json' })).json();
    for (const path of ['/hooks/emqx/authn', '/hooks/emqx/authz', '/hooks/emqx/events']) {
      const op = doc.paths[path].post;
      expect(op.security).toEqual([{ brokerHookSecret: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
    }
    expect(doc.components.securitySchemes.brokerHookSecret).toMatchObject({ type: 'apiKey', in: 'header' });
  });

  it('are not there unless configured, and their settings are checked strictly at start-up', async () => {
    const plain = await startApp();
    try {
      const r = await fetch(`${plain.httpUrl}/hooks/emqx/authn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(404);
    } finally {
      await plain.stop();
    }
    let errors: string[] = [];
    try {
      loadConfig({ settingsPath: 'config/settings.yaml', env: {}, overrides: { brokerHooks: { header: 'X Bad', cacheTTL: 5 } } });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors = err.errors;
    }
    expect(errors.join('\n')).toMatch(/brokerHooks.*secretHash/);
    expect(errors.join('\n')).toMatch(/brokerHooks.*cacheTTL/);
    expect(errors.join('\n')).toMatch(/brokerHooks.*header/);
  });
});

describe("EMQX 5 client events (a rule's HTTP action): devices' connects and disconnects", () => {
  const METER = 'cj-wm-1-103';
  // The columns EMQX 5 puts in the event (emqx_rule_events eventmsg_connected / eventmsg_disconnected, plus
  // event, timestamp and node), which the HTTP action's default body sends as they are.
  const connectedEvent = (clientid: string, connectedAt: number, username = clientid) => ({
    event: 'client.connected',
    clientid,
    username,
    mountpoint: 'undefined',
    peername: '10.20.0.7:53122',
    sockname: '172.18.0.3:1883',
    proto_name: 'MQTT',
    proto_ver: 5,
    keepalive: 60,
    clean_start: true,
    receive_maximum: 32,
    expiry_interval: 0,
    is_bridge: false,
    conn_props: { 'Session-Expiry-Interval': 0 },
    connected_at: connectedAt,
    client_attrs: {},
    timestamp: connectedAt + 2,
    node: 'emqx@emqx1.shaobing.local',
  });
  const disconnectedEvent = (clientid: string, connectedAt: number, reason = 'normal') => ({
    event: 'client.disconnected',
    reason,
    clientid,
    username: clientid,
    peername: '10.20.0.7:53122',
    sockname: '172.18.0.3:1883',
    proto_name: 'MQTT',
    proto_ver: 5,
    disconn_props: {},
    disconnected_at: connectedAt + 60_000,
    connected_at: connectedAt,
    client_attrs: {},
    timestamp: connectedAt + 60_001,
    node: 'emqx@emqx2.shaobing.local',
  });
  const connected = async (id: string) => {
    const r = await fetch(`${t.httpUrl}/api/devices/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return ((await r.json()) as { connected: boolean }).connected;
  };
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('marks a device connected and disconnected, and ignores the late disconnect of a connection already replaced', async () => {
    const t0 = Date.now();
    expect(await hook('events', connectedEvent(METER, t0))).toMatchObject({ status: 200, body: { applied: true } });
    await settle();
    expect(await connected(METER)).toBe(true);
    expect(await hook('events', disconnectedEvent(METER, t0))).toMatchObject({ status: 200, body: { applied: true } });
    await settle();
    expect(await connected(METER)).toBe(false);
    // It reconnects to another node; the old connection's disconnect ('takenover') arrives after the new connect.
    expect((await hook('events', connectedEvent(METER, t0 + 120_000))).body).toEqual({ applied: true });
    expect((await hook('events', disconnectedEvent(METER, t0 + 60_000, 'takenover'))).body).toEqual({ applied: false });
    // A repeated connect changes nothing either.
    expect((await hook('events', connectedEvent(METER, t0 + 120_000))).body).toEqual({ applied: false });
    await settle();
    expect(await connected(METER)).toBe(true);
    // A disconnect that arrives before its own connect: the connect, late, does not bring the device back.
    expect((await hook('events', disconnectedEvent(METER, t0 + 180_000))).body).toEqual({ applied: true });
    expect((await hook('events', connectedEvent(METER, t0 + 180_000))).body).toEqual({ applied: false });
    await settle();
    expect(await connected(METER)).toBe(false);
  });

  it('leaves alone clients that are no device, and refuses a body that is no client event or lacks the secret', async () => {
    expect((await hook('events', connectedEvent('shaobing-c-chunjiang', Date.now(), 'shaobing-service'))).body).toEqual({ applied: false });
    expect((await hook('events', connectedEvent('no-such-device', Date.now()))).body).toEqual({ applied: false });
    // A device id as client id with another username is not that device's login.
    expect((await hook('events', connectedEvent(DEVICE, Date.now(), OTHER))).body).toEqual({ applied: false });
    const bad = await hook('events', { event: 'message.publish', clientid: DEVICE, connected_at: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'SB_VALIDATION' });
    expect((await hook('events', { ...connectedEvent(DEVICE, Date.now()), connected_at: 'yesterday' })).status).toBe(400);
    expect((await hook('events', connectedEvent(DEVICE, Date.now()), null)).status).toBe(401);
  });
});
