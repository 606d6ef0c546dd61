// Device messages over HTTP (POST /ingest/{integration}): The Things Stack v3 webhook uplinks of Nwave NPS405
// parking sensors, posted over a real socket to the real service with the sample integration gh-tts, through
// the same inbox → decoder → rules path as MQTT. Authentication per integration, a 202 only once the message
// is in the inbox, coded errors for everything else, and a payload that fails kept as a rejection.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startApp, waitFor, auth, sampleSecrets, sampleDevices, type TestApp } from '../helpers.js';
import { hashSecret } from '../../src/broker/secrets.js';

const SECRET = sampleSecrets.integrations['gh-tts'];
const sensors = sampleDevices('parking-sensor', 'nwave', 'guihuayuan');

/** A TTS v3 uplink message as its webhook posts it (https://www.thethingsindustries.com/docs/integrations/data-formats/). */
function uplink(deviceId: string, port: number, bytes: number[], extra: { devEui?: string; at?: string } = {}) {
  const at = extra.at ?? new Date().toISOString();
  return {
    end_device_ids: { device_id: deviceId, application_ids: { application_id: 'guihuayuan-parking' }, dev_eui: extra.devEui ?? '70B3D5E05000FFFF' },
    correlation_ids: ['as:up:01HQ2Z8Y5Q7M1V8C9T4B3K2J1N'],
    received_at: at,
    uplink_message: {
      f_port: port,
      f_cnt: 7,
      frm_payload: Buffer.from(bytes).toString('base64'),
      rx_metadata: [{ gateway_ids: { gateway_id: 'gh-gw-1' }, rssi: -97, channel_rssi: -97, snr: 4.5 }],
      received_at: at,
    },
  };
}

let t: TestApp;
async function post(integration: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${SECRET}` }) {
  const res = await fetch(`${t.httpUrl}/ingest/${integration}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const api = async (url: string) => (await t.app.api.inject({ url, headers: auth() })).json();
const deviceAlerts = async (deviceId: string, kind: string) => (await api(`/api/alerts?kind=${kind}&deviceId=${deviceId}`)).items as unknown[];

beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t?.stop();
});

describe('POST /ingest/{integration} with The Things Stack v3 uplinks', () => {
  it('the sample has an integration and NPS405 sensors to post for', () => {
    expect(SECRET).toBeTruthy();
    expect(sensors.length).toBeGreaterThan(1);
  });

  it('takes a heartbeat of an occupied space as healthy (no false 设备故障) and a real hardware report as a fault', async () => {
    const [id] = sensors;
    // nps405-codec.yaml's heartbeat [00 D3 D8 …] with the occupancy bit set: the codec's hw_health_status would be 1.
    const res = await post('gh-tts', uplink(id, 2, [0x01, 0xd3, 0xd8, 0x00, 0x59, 0x0b]));
    expect(res).toEqual({ status: 202, body: { status: 'accepted', deviceId: id } });
    const d = await waitFor(async () => {
      const r = await api(`/api/devices/${id}`);
      return r.state.accepted >= 1 && r;
    }, 'the heartbeat processed');
    expect(d).toMatchObject({ batteryPct: 63, rssi: -97, state: { last: { hwHealthStatus: 0, occupied: true } } });
    expect(await deviceAlerts(id, 'device_fault')).toEqual([]);

    // Byte 0 = 0x05: occupied, and a health bit set.
    expect((await post('gh-tts', uplink(id, 2, [0x05, 0xd3, 0xd8]))).status).toBe(202);
    const [fault] = await waitFor(async () => {
      const items = await deviceAlerts(id, 'device_fault');
      return items.length > 0 && items;
    }, 'a device_fault alert');
    expect(fault).toMatchObject({ kind: 'device_fault', status: 'open', deviceId: id, details: { fault: 'hw_health_status 2' } });
  });

  it('drives occupancy from a parking status (the codec example 0x95: occupied, 74 min)', async () => {
    const id = sensors[1];
    expect((await post('gh-tts', uplink(id, 1, [0x95]))).status).toBe(202);
    const d = await waitFor(async () => {
      const r = await api(`/api/devices/${id}`);
      return r.state.last?.occupied === true && r;
    }, 'the parking status processed');
    expect(d.state.last).toMatchObject({ type: 'state', previousStateMinutes: 74, fCnt: 7, snr: 4.5 });
  });

  it('finds a device by its DevEUI too, and only among its own community', async () => {
    t.app.directory.addDevice({ id: 'gh-ps-lora-9', kind: 'parking-sensor', communityId: 'guihuayuan', format: 'nwave', devEui: '70b3d5e0500012ad' });
    const res = await post('gh-tts', uplink('named-otherwise-in-tts', 3, [2, 4, 9, 2, 0], { devEui: '70B3D5E0500012AD' }));
    expect(res).toEqual({ status: 202, body: { status: 'accepted', deviceId: 'gh-ps-lora-9' } });
    const d = await waitFor(async () => {
      const r = await api('/api/devices/gh-ps-lora-9');
      return r.state.accepted >= 1 && r;
    }, 'the startup processed');
    expect(d.state.last).toMatchObject({ event: 'startup', firmwareVersion: '2.4.9', resetCause: 'power_on' });

    // A device of another community is not this integration's, whatever the body says.
    const other = sampleDevices('parking-sensor', 'canonical', 'chunjiang')[0] ?? sampleDevices('water-meter', 'canonical', 'chunjiang')[0];
    const foreign = await post('gh-tts', uplink(other, 2, [0, 0xd3, 0xd8]));
    expect(foreign).toMatchObject({ status: 404, body: { code: 'SB_UNKNOWN_DEVICE' } });
    const unknown = await post('gh-tts', uplink('gh-ps-nowhere', 2, [0, 0xd3, 0xd8]));
    expect(unknown).toMatchObject({ status: 404, body: { statusCode: 404, code: 'SB_UNKNOWN_DEVICE' } });
    expect(String(unknown.body.message)).toContain('gh-ps-nowhere');
    // Both bodies are kept as unknown_device rejections of the integration's community (the platform's rows:
    // no device owns them), so a sensor added to the network server but not here shows up.
    const kept = ((await api('/api/rejections?limit=20')).items as Array<Record<string, unknown>>).filter((r) => r.code === 'unknown_device');
    expect(kept).toHaveLength(2);
    expect(kept[0]).toMatchObject({ deviceId: null, communityId: 'guihuayuan', topic: '/ingest/gh-tts' });
    expect(String(kept[0].message)).toContain('gh-ps-nowhere');
    expect(String(kept[1].message)).toContain(other);
    expect(JSON.parse(String(kept[0].payloadText)).end_device_ids.device_id).toBe('gh-ps-nowhere');
  });

  it('keeps an uplink its decoder refuses as a rejection, like an MQTT payload', async () => {
    const id = sensors[0];
    const res = await post('gh-tts', uplink(id, 6, [1, 2, 3])); // port 6: the NPS405 debug message
    expect(res.status).toBe(202);
    const rejected = await waitFor(async () => {
      const items = (await api(`/api/rejections?deviceId=${id}`)).items as Array<Record<string, unknown>>;
      return items.find((r) => r.code === 'decode_failed') ?? false;
    }, 'the rejection');
    expect(rejected).toMatchObject({ deviceId: id, topic: '/ingest/gh-tts' });
    expect(String(rejected.message)).toContain('port 6');
  });

  it('answers everything else with a coded error and stores nothing', async () => {
    const [id] = sensors;
    const body = uplink(id, 2, [0, 0xd3, 0xd8]);
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-secret' }, { authorization: `Bearer ${sampleSecrets.people['gh-duty-1']}` }, { authorization: SECRET }]) {
      expect(await post('gh-tts', body, headers)).toMatchObject({ status: 401, body: { code: 'SB_UNAUTHORIZED' } });
    }
    expect(await post('no-such-integration', body)).toMatchObject({ status: 401, body: { code: 'SB_UNAUTHORIZED' } });
    // Basic authentication with the secret as the password works too (senders that only do Basic).
    const basic = `Basic ${Buffer.from(`tts:${SECRET}`).toString('base64')}`;
    expect((await post('gh-tts', body, { authorization: basic })).status).toBe(202);

    expect(await post('gh-tts', 'not json')).toMatchObject({ status: 400, body: { code: 'SB_BAD_REQUEST' } });
    expect(await post('gh-tts', { uplink_message: {} })).toMatchObject({ status: 400, body: { code: 'SB_BAD_REQUEST' } });
    const join = { end_device_ids: { device_id: id }, join_accept: { session_key_id: 'AXBSH1Pk6Z0G166p1dA1jg==' } };
    expect(await post('gh-tts', join)).toEqual({ status: 200, body: { status: 'ignored', reason: 'join_accept is not device data' } });
    const huge = await post('gh-tts', { ...body, pad: 'x'.repeat(3 * 1048576) });
    expect(huge).toMatchObject({ status: 413, body: { code: 'SB_PAYLOAD_TOO_LARGE' } });
  });

  it('is in the OpenAPI document with its own security scheme and answers', async () => {
    const doc = (await t.app.api.inject({ url: '/docs/json' })).json();
    const op = doc.paths['/ingest/{integration}'].post;
    expect(op.security).toEqual([{ integrationSecret: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '202', '4XX', '503']));
    expect(doc.components.securitySchemes.integrationSecret).toBeDefined();
  });

  it('slows, then refuses, an address that keeps sending wrong secrets; a secret known right and other addresses carry on', async () => {
    const ip = '10.70.0.5';
    const body = JSON.stringify(uplink(sensors[0], 2, [0, 0xd3, 0xd8]));
    const send = (secret: string, from = ip) =>
      t.app.api.inject({ method: 'POST', url: '/ingest/gh-tts', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` }, payload: body, remoteAddress: from });
    // The network server's secret, seen right once (from anywhere), is recognised before the throttle.
    expect((await send(SECRET, '10.70.0.6')).statusCode).toBe(202);
    for (let i = 0; i < 20; i++) expect((await send(`guess-${i}-0123456789abcdef`)).statusCode).toBe(401);
    const refused = await send('guess-20-0123456789abcdef');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('SB_TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // While refused, a right secret never seen before is not checked either (a lucky guess is refused too).
    const fresh = 'fresh-secret-0123456789abcdef';
    t.app.directory.integrations.set('gh-tts-3', { id: 'gh-tts-3', type: 'tts-v3', communityId: 'guihuayuan', secretHash: hashSecret(fresh), header: 'authorization' });
    const lucky = await t.app.api.inject({ method: 'POST', url: '/ingest/gh-tts-3', headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh}` }, payload: body, remoteAddress: ip });
    expect(lucky.statusCode).toBe(429);
    expect((await send(SECRET)).statusCode).toBe(202);
    expect((await send('guess-99-0123456789abcdef', '10.70.0.7')).statusCode).toBe(401);
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^shaobing_auth_blocked\{surface="ingest"\} 1$/m);
    expect(metrics).toMatch(/^shaobing_auth_throttled_total\{surface="ingest"\} 2$/m);
  });

  it('takes the secret from the header an integration is configured with', async () => {
    const secret = 'custom-header-secret-0123456789';
    t.app.directory.integrations.set('gh-tts-2', { id: 'gh-tts-2', type: 'tts-v3', communityId: 'guihuayuan', secretHash: hashSecret(secret), header: 'x-webhook-secret' });
    const body = uplink(sensors[0], 2, [0, 0xd3, 0xd8]);
    expect((await post('gh-tts-2', body, { 'x-webhook-secret': secret })).status).toBe(202);
    expect((await post('gh-tts-2', body, { authorization: `Bearer ${secret}` })).status).toBe(401);
  });
});

describe('POST /ingest answers 2xx only once the message is in the inbox', () => {
  it('with processing held after the inbox commit, the 202 has come and the row is there; a restart processes it', async () => {
    const held = await startApp({}, undefined, { failpoints: 'ingest.afterInbox' });
    const id = sensors[0];
    try {
      const res = await fetch(`${held.httpUrl}/ingest/gh-tts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
        body: JSON.stringify(uplink(id, 1, [0x95])),
      });
      expect(res.status).toBe(202);
      const db = new Database(join(held.dataDir, 'shaobing.db'), { readonly: true });
      const rows = db.prepare('SELECT device_id, topic FROM inbox').all();
      db.close();
      expect(rows).toEqual([{ device_id: id, topic: '/ingest/gh-tts' }]);
    } finally {
      await held.stop({ keepData: true });
    }
    const again = await startApp({}, held.dataDir);
    try {
      const d = await waitFor(async () => {
        const r = (await again.app.api.inject({ url: `/api/devices/${id}`, headers: auth() })).json();
        return r.state.accepted >= 1 && r;
      }, 'the inbox row processed after the restart');
      expect(d.state.last).toMatchObject({ type: 'state', occupied: true });
    } finally {
      await again.stop();
    }
  });
});
