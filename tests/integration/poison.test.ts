// One bad message never stops the others (issue 11): the payloads that used to stall all ingestion for good
// (a time of 1e300, a year-0001 string, 6,000 levels of nesting, 1e309, bad UTF-8, a message whose processing
// throws), sent over real MQTT among normal traffic from other devices, each end as exactly one rejection
// with its reason and its bytes, and every other message is processed.
import { describe, it, expect, afterEach } from 'vitest';
import type { MqttClient } from 'mqtt';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startApp, connectDevice, sampleDevices, waitFor, auth, type TestApp } from '../helpers.js';
import { POISON_MARKER } from '../../src/failpoints.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const topicOf = (t: TestApp, id: string) => {
  const d = t.app.directory.devices.get(id)!;
  return `iot/${d.communityId}/${id}/up`;
};

interface Poison {
  name: string;
  device: string;
  payload: string | Buffer;
  code: string;
}

const [smoke, smoke2] = sampleDevices('smoke-detector', 'canonical');
const [meter] = sampleDevices('water-meter', 'canonical');
const [space] = sampleDevices('parking-sensor', 'canonical');
const [gate] = sampleDevices('smart-gate', 'canonical');
const [tuya] = sampleDevices('smoke-detector', 'tuya-smoke');
const [nb] = sampleDevices('water-meter', 'nb-batch');
const [nwave] = sampleDevices('parking-sensor', 'nwave');
const [vzenith] = sampleDevices('smart-gate', 'vzenith');

const deep = `{"type":"heartbeat","x":${'['.repeat(6000)}${']'.repeat(6000)}}`;

const poisons: Poison[] = [
  { name: 'heartbeat ts 1e300', device: smoke, payload: '{"type":"heartbeat","ts":1e300}', code: 'bad_timestamp' },
  { name: 'water reading ts 8.64e15', device: meter, payload: '{"type":"reading","totalM3":1.5,"ts":8640000000000000}', code: 'bad_timestamp' },
  { name: 'parking ts just past Date range', device: space, payload: '{"type":"heartbeat","ts":8640000000000001}', code: 'bad_timestamp' },
  { name: 'gate ts 9e15', device: gate, payload: '{"type":"heartbeat","ts":9000000000000000}', code: 'bad_timestamp' },
  { name: 'smoke alarm dated year 0001', device: smoke, payload: '{"type":"alarm","smokePct":50,"ts":"0001-01-01T00:00:00Z"}', code: 'bad_timestamp' },
  { name: 'smoke ts year 1999 (numeric)', device: smoke, payload: '{"type":"heartbeat","ts":915148800000}', code: 'bad_timestamp' },
  { name: 'tuya t 1e300', device: tuya, payload: '{"smoke_sensor_status":"normal","battery_percentage":80,"t":1e300}', code: 'bad_timestamp' },
  { name: 'nb-batch ts 1e300', device: nb, payload: '{"deviceType":"water_meter","imei":"869975031234571","ts":1e300,"batteryV":3.5}', code: 'bad_timestamp' },
  {
    name: 'nwave ts 1e300',
    device: nwave,
    payload: '{"devEui":"70B3D5E0500012AB","ts":1e300,"port":2,"heartbeat":{"occupied":false,"hw_health_status":0,"battery_voltage":3.3,"temperature":21}}',
    code: 'bad_timestamp',
  },
  { name: 'vzenith Timeval.sec 1e300', device: vzenith, payload: '{"heartbeat":{"countid":1,"serialno":"x","timeStamp":{"Timeval":{"sec":1e300,"usec":0}}}}', code: 'bad_timestamp' },
  { name: 'vzenith Timeval.usec 1e21', device: vzenith, payload: '{"heartbeat":{"countid":2,"serialno":"x","timeStamp":{"Timeval":{"sec":1740787500,"usec":1e21}}}}', code: 'bad_timestamp' },
  { name: '24 KB nested 6,000 levels', device: smoke2, payload: deep, code: 'decode_failed' },
  { name: 'totalM3 1e309', device: meter, payload: '{"type":"reading","totalM3":1e309}', code: 'invalid_payload' },
  { name: 'unknown extra field -1e999', device: space, payload: '{"type":"heartbeat","extra":-1e999}', code: 'invalid_payload' },
  {
    name: 'invalid UTF-8',
    device: gate,
    payload: Buffer.concat([Buffer.from('{"type":"heartbeat","lane":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
    code: 'decode_failed',
  },
  { name: 'processing throws (failpoint)', device: smoke2, payload: `{"type":"alarm","smokePct":60,"note":"${POISON_MARKER}"}`, code: 'processing_failed' },
];

/** Normal traffic for a device of each kind and format (no `ts`: receive time). */
const normal: Record<string, (i: number) => string> = {
  [smoke]: () => '{"type":"heartbeat","batteryPct":90}',
  [smoke2]: () => '{"type":"heartbeat","batteryPct":91}',
  [meter]: (i) => JSON.stringify({ type: 'reading', totalM3: 10 + i / 1000 }),
  [space]: (i) => JSON.stringify({ type: 'state', occupied: i % 2 === 0 }),
  [gate]: () => '{"type":"heartbeat"}',
  [tuya]: () => '{"smoke_sensor_status":"normal","battery_percentage":80}',
  [nb]: () => '{"deviceType":"water_meter","imei":"869975031234571","batteryV":3.5}',
  [nwave]: () => '{"devEui":"70B3D5E0500012AB","port":2,"heartbeat":{"occupied":false,"hw_health_status":0,"battery_voltage":3.3,"temperature":21}}',
  [vzenith]: () => '{"heartbeat":{"countid":1821,"serialno":"fe71e106-57263272"}}',
};

async function accepted(t: TestApp, id: string): Promise<{ accepted: number; rejected: number; lastType: string | null }> {
  const res = await fetch(`${t.httpUrl}/api/devices/${id}`, { headers: auth() });
  return ((await res.json()) as { state: { accepted: number; rejected: number; lastType: string | null } }).state;
}

describe('poison messages among normal traffic over MQTT', () => {
  it('ends each poison as one rejection with its reason and bytes, and processes every other message', async () => {
    t = await startApp({}, undefined, { failpoints: 'ingest.poison' });
    const app = t;
    const ids = Object.keys(normal);
    const clients = new Map<string, MqttClient>();
    for (const id of ids) clients.set(id, await connectDevice(app.mqttUrl, id));
    const sent = new Map(ids.map((id) => [id, 0]));
    const sends: Promise<unknown>[] = [];
    const sendNormal = (round: number) => {
      for (const id of ids) {
        sends.push(clients.get(id)!.publishAsync(topicOf(app, id), normal[id](round), { qos: 1 }));
        sent.set(id, sent.get(id)! + 1);
      }
    };
    // Every poison lands in the middle of a batch: normal messages of every device before and after it,
    // published without waiting, so they share the processing transaction.
    let round = 0;
    for (const p of poisons) {
      sendNormal(round++);
      sends.push(clients.get(p.device)!.publishAsync(topicOf(app, p.device), p.payload, { qos: 1 }));
      sendNormal(round++);
    }
    await Promise.all(sends);
    for (const id of ids)
      await waitFor(async () => (await accepted(app, id)).accepted === sent.get(id), `${id}: all ${sent.get(id)} normal messages processed`, 15_000);

    const rows = app.app.db.prepare('SELECT device_id, code, message, payload, payload_bytes FROM rejections ORDER BY id').all() as Array<{
      device_id: string;
      code: string;
      message: string;
      payload: Buffer;
      payload_bytes: number;
    }>;
    // Devices publish on their own connections, so only each device's own order is kept.
    expect(rows.length).toBe(poisons.length);
    for (const id of ids) {
      const mine = rows.filter((r) => r.device_id === id);
      const expected = poisons.filter((p) => p.device === id);
      expect(mine.map((r) => r.code), id).toEqual(expected.map((p) => p.code));
      for (const [i, p] of expected.entries()) {
        const bytes = Buffer.from(p.payload);
        expect(mine[i].payload_bytes, p.name).toBe(bytes.length);
        expect(mine[i].payload.equals(bytes.subarray(0, 4096)), p.name).toBe(true);
        expect(mine[i].message.length, p.name).toBeGreaterThan(5);
      }
    }
    expect(rows.find((r) => r.code === 'processing_failed')!.message).toMatch(/processing failed: Error: failpoint ingest.poison/);
    // Nothing was left unprocessed, and every device counts its rejections.
    expect(app.app.db.prepare('SELECT COUNT(*) FROM inbox').pluck().get()).toBe(0);
    for (const id of ids) expect((await accepted(app, id)).rejected).toBe(poisons.filter((p) => p.device === id).length);
    for (const c of clients.values()) c.end(true);
  });

  it('keeps memory as the store has it: a set-aside alarm opens nothing, moves no state, and the next alarm opens normally', async () => {
    t = await startApp({}, undefined, { failpoints: 'ingest.poison' });
    const app = t;
    const c = await connectDevice(app.mqttUrl, smoke2);
    const other = await connectDevice(app.mqttUrl, smoke);
    // The poisoned alarm's rules run (and would open a smoke alert) before processing throws.
    await Promise.all([
      other.publishAsync(topicOf(app, smoke), '{"type":"heartbeat"}', { qos: 1 }),
      c.publishAsync(topicOf(app, smoke2), `{"type":"alarm","smokePct":70,"note":"${POISON_MARKER}"}`, { qos: 1 }),
      other.publishAsync(topicOf(app, smoke), '{"type":"heartbeat"}', { qos: 1 }),
    ]);
    await waitFor(async () => (await accepted(app, smoke)).accepted === 2, 'heartbeats processed');
    const state = await accepted(app, smoke2);
    expect(state).toMatchObject({ accepted: 0, rejected: 1 });
    expect(state.lastType).toBeNull();
    expect(app.app.rules.alerts.openFor('smoke', smoke2)).toBeUndefined();
    expect(app.app.db.prepare("SELECT COUNT(*) FROM alerts WHERE device_id = ?").pluck().get(smoke2)).toBe(0);
    expect(app.app.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(0);

    await c.publishAsync(topicOf(app, smoke2), '{"type":"alarm","smokePct":70}', { qos: 1 });
    await waitFor(async () => (await accepted(app, smoke2)).accepted === 1, 'real alarm processed');
    expect(app.app.rules.alerts.openFor('smoke', smoke2)).toMatchObject({ count: 1, status: 'open' });
    expect(app.app.db.prepare("SELECT COUNT(*) FROM alerts WHERE device_id = ? AND kind = 'smoke'").pluck().get(smoke2)).toBe(1);
    c.end(true);
    other.end(true);
  });

  it('on the event clock, a set-aside message does not move time', async () => {
    t = await startApp({ clock: 'event' }, undefined, { failpoints: 'ingest.poison' });
    const app = t;
    const c = await connectDevice(app.mqttUrl, smoke2);
    const at = Date.parse('2026-03-01T08:00:00Z');
    await c.publishAsync(topicOf(app, smoke2), JSON.stringify({ type: 'heartbeat', ts: at }), { qos: 1 });
    await c.publishAsync(topicOf(app, smoke2), JSON.stringify({ type: 'heartbeat', ts: Date.parse('2099-01-01T00:00:00Z'), note: POISON_MARKER }), { qos: 1 });
    await c.publishAsync(topicOf(app, smoke2), JSON.stringify({ type: 'heartbeat', ts: at + 1000 }), { qos: 1 });
    await waitFor(async () => (await accepted(app, smoke2)).accepted === 2, 'both good heartbeats processed');
    expect(app.app.clock.now()).toBe(at + 1000);
    expect((await accepted(app, smoke2)).rejected).toBe(1);
    c.end(true);
  });
});

describe('a busy store is waited out, not taken for poison', () => {
  it('retries the batch in order once the write lock is free, and sets nothing aside', async () => {
    t = await startApp();
    const app = t;
    app.app.db.pragma('busy_timeout = 20');
    // Another connection holds SQLite's write lock, as a backup or an operator's sqlite3 shell might.
    const other = new Database(join(app.dataDir, 'shaobing.db'));
    const c = await connectDevice(app.mqttUrl, meter);
    other.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 1; i <= 5; i++) await c.publishAsync(topicOf(app, meter), JSON.stringify({ type: 'reading', totalM3: 20 + i, seq: i }), { qos: 0 });
      await new Promise((r) => setTimeout(r, 300));
      expect((await accepted(app, meter)).accepted).toBe(0);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    await waitFor(async () => (await accepted(app, meter)).accepted === 5, 'the batch processed once the lock is free', 10_000);
    expect(app.app.db.prepare('SELECT COUNT(*) FROM rejections').pluck().get()).toBe(0);
    const seqs = (app.app.db.prepare('SELECT payload FROM readings WHERE device_id = ? ORDER BY rowid').pluck().all(meter) as string[]).map((p) => JSON.parse(p).seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    c.end(true);
  });
});

describe('a stuck inbox is visible', () => {
  it('shows in shaobing_inbox_depth, shaobing_inbox_oldest_seconds, /healthz (503 degraded) and the log', async () => {
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    // The failpoint holds processing after the inbox commit: acknowledged, never processed.
    t = await startApp({ ingest: { stuckAfterSeconds: 1 } }, undefined, { failpoints: 'ingest.afterInbox', log });
    const app = t;
    expect((await fetch(`${app.httpUrl}/healthz`)).status).toBe(200);
    const c = await connectDevice(app.mqttUrl, smoke);
    for (let i = 0; i < 5; i++) await c.publishAsync(topicOf(app, smoke), '{"type":"heartbeat"}', { qos: 1 });
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${app.httpUrl}/metrics`)).text())?.[1]);
    expect(await metric('shaobing_inbox_depth')).toBe(5);
    await waitFor(async () => (await metric('shaobing_inbox_oldest_seconds')) > 1, 'oldest message older than 1 s', 5000);
    const res = await fetch(`${app.httpUrl}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; broker: boolean; inbox: { depth: number; oldestSeconds: number } };
    expect(body).toMatchObject({ status: 'degraded', broker: true, inbox: { depth: 5 } });
    expect(body.inbox.oldestSeconds).toBeGreaterThan(1);
    await waitFor(() => lines.some((l) => l.includes('ingest inbox is stuck')), 'the stuck inbox in the log', 5000);
    c.end(true);
  });
});
