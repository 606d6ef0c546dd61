// The default (SQLite) telemetry sink end to end: real devices publish over MQTT into the real app, the
// history API answers from the `readings` table, and the retention job deletes what is too old.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openDb } from '../../src/store/db.js';
import type { SqliteSink } from '../../src/telemetry/sqlite.js';
import { startApp, connectDevice, waitFor, auth, sampleSecrets, type TestApp } from '../helpers.js';

const H = 3_600_000;
const METER = 'gh-wm-5-302'; // grid gh-g1, canonical, sends intervals here
const METER_REGISTER = 'gh-wm-5-303'; // gh-g1, register only
const SPACE = 'gh-ps-01'; // gh-g1
const SMOKE = 'gh-sd-5-303'; // gh-g1

/** Publish canonical payloads (QoS 1) as a device and wait until all of them are processed. */
async function send(t: TestApp, deviceId: string, payloads: object[]): Promise<void> {
  const before = t.app.states.get(deviceId)?.accepted ?? 0;
  const c = await connectDevice(t.mqttUrl, deviceId);
  for (const p of payloads) await c.publishAsync(`iot/guihuayuan/${deviceId}/up`, JSON.stringify(p), { qos: 1 });
  await waitFor(() => (t.app.states.get(deviceId)?.accepted ?? 0) >= before + payloads.length, `${deviceId} readings processed`);
  await c.endAsync();
}

async function history(t: TestApp, deviceId: string, query: string, token?: string) {
  const res = await fetch(`${t.httpUrl}/api/devices/${deviceId}/telemetry?${query}`, { headers: auth(token) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('telemetry history from the SQLite sink', () => {
  let t: TestApp;
  // A whole hour a day back: inside the 2-day retention window, and in the past for the wall clock.
  const base = Math.floor(Date.now() / H) * H - 24 * H;
  const iso = (ms: number) => new Date(ms).toISOString();
  const q = (from: number, to: number, rest = '') => `from=${encodeURIComponent(iso(from))}&to=${to}${rest}`;

  beforeAll(async () => {
    t = await startApp({ telemetry: { sink: 'sqlite', retentionDays: 2 } });
  });
  afterAll(async () => t?.stop());

  it('sums water use per hour from the meter intervals, an interval resent later counted once', async () => {
    const iv = (startMin: number, litres: number) => ({ start: base + startMin * 60_000, end: base + (startMin + 15) * 60_000, litres });
    await send(t, METER, [
      { type: 'reading', ts: base + 6 * H + 20 * 60_000, totalM3: 12.3, batteryPct: 90, intervals: [iv(5 * 60 + 30, 3), iv(5 * 60 + 45, 7), iv(6 * 60, 2)] },
      { type: 'reading', ts: base + 7 * H + 5 * 60_000, totalM3: 12.31, batteryPct: 89, intervals: [iv(6 * 60, 2), iv(6 * 60 + 15, 1)] },
    ]);
    const { status, body } = await history(t, METER, q(base + 5 * H, base + 8 * H, '&every=1h&field=water'));
    expect(status).toBe(200);
    expect(body).toMatchObject({ deviceId: METER, kind: 'water-meter', field: 'water', unit: 'L', sink: 'sqlite', source: 'intervals', every: '1h' });
    expect(body.buckets).toEqual([
      { start: iso(base + 5 * H), value: 10 },
      { start: iso(base + 6 * H), value: 3 },
      { start: iso(base + 7 * H), value: null },
    ]);
    // The default field of a meter is water; battery is the last level in each bucket.
    const battery = await history(t, METER, q(base + 6 * H, base + 8 * H, '&field=battery'));
    expect(battery.body.buckets.map((b: { value: number | null }) => b.value)).toEqual([90, 89]);
  });

  it('falls back to rises of the register for a meter without intervals, per day aligned to from', async () => {
    await send(t, METER_REGISTER, [
      { type: 'reading', ts: base + 1 * H, totalM3: 10 },
      { type: 'reading', ts: base + 2 * H, totalM3: 10.05 },
      { type: 'reading', ts: base + 3 * H, totalM3: 10.12 },
    ]);
    const hourly = await history(t, METER_REGISTER, q(base + 1 * H + 30 * 60_000, base + 3 * H + 30 * 60_000));
    expect(hourly.body.source).toBe('register');
    expect(hourly.body.buckets.map((b: { value: number | null }) => b.value)).toEqual([50, 70]);
    const daily = await history(t, METER_REGISTER, q(base, base + 48 * H, '&every=1d'));
    expect(daily.body.buckets).toEqual([
      { start: iso(base), value: 120 },
      { start: iso(base + 24 * H), value: null },
    ]);
  });

  it('gives the fraction of each bucket a space was occupied, and its state changes', async () => {
    const m = 60_000;
    await send(t, SPACE, [
      { type: 'state', ts: base + 30 * m, occupied: true },
      { type: 'state', ts: base + 75 * m, occupied: false },
      { type: 'heartbeat', ts: base + 80 * m, batteryPct: 77 },
      { type: 'state', ts: base + 105 * m, occupied: true },
    ]);
    const { body } = await history(t, SPACE, q(base + H, base + 3 * H));
    expect(body.field).toBe('occupancy');
    expect(body.unit).toBe('fraction');
    expect(body.buckets.map((b: { value: number | null }) => b.value)).toEqual([0.5, 1]);
    expect(body.changes).toEqual([
      { at: iso(base + 75 * m), occupied: false },
      { at: iso(base + 105 * m), occupied: true },
    ]);
  });

  it('answers 404 outside the caller grids and coded 400s for bad ranges and fields', async () => {
    const ok = await history(t, METER, q(base, base + H), sampleSecrets.people['gh-head-g1']);
    expect(ok.status).toBe(200);
    const other = await history(t, METER, q(base, base + H), sampleSecrets.people['gh-head-g2']);
    expect(other).toEqual({ status: 404, body: { statusCode: 404, code: 'SB_NOT_FOUND', message: `no device '${METER}'` } });
    expect((await history(t, 'no-such-device', q(base, base + H))).body.code).toBe('SB_NOT_FOUND');

    const bad = async (query: string, id = METER) => {
      const r = await history(t, id, query);
      return [r.status, r.body.code];
    };
    expect(await bad(q(base + H, base))).toEqual([400, 'SB_TELEMETRY_RANGE']);
    expect(await bad(`from=yesterday&to=${base}`)).toEqual([400, 'SB_TELEMETRY_RANGE']);
    expect(await bad(q(base, base + H, '&every=5x'))).toEqual([400, 'SB_TELEMETRY_RANGE']);
    expect(await bad(q(base - 30 * 24 * H, base, '&every=1m'))).toEqual([400, 'SB_TELEMETRY_RANGE']);
    expect(await bad(q(base, base + H, '&field=water'), SPACE)).toEqual([400, 'SB_TELEMETRY_FIELD']);
    expect(await bad(q(base, base + H, '&field=occupancy'), SMOKE)).toEqual([400, 'SB_TELEMETRY_FIELD']);
    expect(await bad(q(base, base + H, '&field=temperature'))).toEqual([400, 'SB_VALIDATION']);
  });

  it('deletes readings older than retentionDays in the retention job, keeping the rest', async () => {
    await send(t, SMOKE, [
      { type: 'heartbeat', ts: Date.now() - 3 * 24 * H, batteryPct: 95 },
      { type: 'heartbeat', ts: Date.now() - 47 * H, batteryPct: 94 },
      { type: 'heartbeat', ts: Date.now() - H, batteryPct: 93 },
    ]);
    const count = () => {
      const db = openDb({ dataDir: t.dataDir, synchronous: 'normal' });
      try {
        return db.prepare("SELECT json_extract(payload, '$.batteryPct') FROM readings WHERE device_id = ? ORDER BY ts").pluck().all(SMOKE);
      } finally {
        db.close();
      }
    };
    expect(count()).toEqual([95, 94, 93]);
    expect(await (t.app.telemetry as SqliteSink).sweep()).toBe(1);
    expect(count()).toEqual([94, 93]);
    expect(await (t.app.telemetry as SqliteSink).sweep()).toBe(0);
  });

  it('counts committed rows in shaobing_telemetry_points_total', async () => {
    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    // 2 + 3 + 4 + 3 readings published above (interval points are not rows of their own here).
    expect(text).toContain('shaobing_telemetry_points_total{sink="sqlite",result="written"} 12');
  });
});

describe('telemetry sink none', () => {
  it('keeps no history and says so with a coded 404', async () => {
    const t = await startApp({ telemetry: { sink: 'none' } });
    try {
      const res = await fetch(`${t.httpUrl}/api/devices/${METER}/telemetry`, { headers: auth() });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('SB_TELEMETRY_DISABLED');
    } finally {
      await t.stop();
    }
  });
});
