// What an operator watching the service's log sees (issue #13 item 5): every alert opened, escalated and
// resolved with kind, place and severity — no names, phones or plates — and every refused login: console
// sign-in, MQTT CONNECT with a wrong secret, a client id that is not the device id, the operator's wrong
// password, MQTT 5. The real app writes JSON lines through the real logger (redaction included) into a stream
// the test reads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { startAlertsApp, T0, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { connectDevice, sampleSecrets, waitFor } from '../helpers.js';
import { createLogger } from '../../src/log.js';

const lines: Array<Record<string, any>> = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
    cb();
  },
});
let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp(undefined, {}, { log: createLogger({ level: 'info', format: 'json' }, sink) });
});
afterAll(() => env.close());

const find = (msg: RegExp, where: Record<string, unknown> = {}) =>
  waitFor(() => lines.find((l) => msg.test(l.msg) && Object.entries(where).every(([k, v]) => l[k] === v)), `log line ${msg} ${JSON.stringify(where)}`);

describe('the log', () => {
  it('says when an alert opens, escalates and resolves, with kind, place and severity and nothing personal', async () => {
    const sd = await env.device('gh-sd-6-302'); // 王婆婆's flat
    await sd.send({ type: 'alarm', ts: at(T0), smokePct: 40 });
    const a = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302' });
    const opened = await find(/^alert opened: smoke \(critical\) at guihuayuan\/gh-g2\/gh-6-302$/);
    expect(opened).toMatchObject({ level: 40, alertId: a.id, event: 'opened', kind: 'smoke', severity: 'critical', communityId: 'guihuayuan', gridId: 'gh-g2', householdId: 'gh-6-302', deviceId: 'gh-sd-6-302' });

    await env.advance(T0 + 3 * MIN); // the default smoke ladder: +3 min grid head and committee
    expect(await find(/^alert escalated: smoke/, { alertId: a.id })).toMatchObject({ step: 1, afterMinutes: 3, severity: 'critical' });

    await env.post(`/api/alerts/${a.id}/resolve`, { note: '王婆婆忘关煤气，已处理' });
    expect(await find(/^alert resolved: smoke/, { alertId: a.id })).toMatchObject({ level: 30, by: 'person', kind: 'smoke' });

    // A plate alert: the plate stays out of the log.
    const gate = await env.device('gh-gt-out');
    await gate.send({ type: 'plate', plate: '渝B77777', direction: 'in', ts: at(T0 + 5 * MIN), confidence: 95 });
    await env.waitAlert({ kind: 'unregistered_vehicle', plate: '渝B77777' });
    expect(await find(/^alert opened: unregistered_vehicle \(minor\)/)).toMatchObject({ level: 30, communityId: 'guihuayuan' });

    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain('王婆婆');
    expect(text).not.toContain('渝B77777');
    expect(text).not.toMatch(/1[3-9]\d{9}/); // no mobile number
  });

  it('logs every refused login, MQTT and console', async () => {
    const url = env.t.mqttUrl;
    const meter = 'gh-wm-5-203';
    await expect(connectDevice(url, meter, 'not-the-secret')).rejects.toThrow();
    expect(await find(/^mqtt connect refused: bad username or password$/, { username: meter })).toMatchObject({ level: 40, reason: 'bad_credentials', clientId: meter });
    expect(JSON.stringify(lines)).not.toContain('not-the-secret');

    await expect(connectDevice(url, 'gh-wm-5-302', sampleSecrets.devices['gh-wm-5-302'], { clientId: 'mosquitto_sub-1234' })).rejects.toThrow();
    expect(await find(/^mqtt connect refused: client id must equal the device id$/)).toMatchObject({ reason: 'client_id', clientId: 'mosquitto_sub-1234', username: 'gh-wm-5-302' });

    await expect(connectDevice(url, 'ops', 'wrong', { username: 'shaobing-operator' })).rejects.toThrow();
    expect(await find(/^mqtt connect refused: bad operator password$/)).toMatchObject({ reason: 'bad_credentials', username: 'shaobing-operator' });

    const v5 = mqtt.connect(url, { protocolVersion: 5, clientId: meter, username: meter, password: sampleSecrets.devices[meter], reconnectPeriod: 0, connectTimeout: 3000 });
    v5.on('error', () => {});
    try {
      expect(await find(/^mqtt connect refused: unacceptable protocol version/)).toMatchObject({ level: 40, reason: 'protocol_version' });
    } finally {
      v5.end(true);
    }

    const res = await env.t.app.api.inject({ method: 'POST', url: '/api/session', payload: { username: 'wang.jianguo', password: 'wrong-password' } });
    expect(res.statusCode).toBe(401);
    expect(await find(/^console sign-in refused: wrong username or password$/)).toMatchObject({ level: 40, reason: 'bad_credentials' });
    expect(JSON.stringify(lines)).not.toContain('wrong-password');
  });
});
