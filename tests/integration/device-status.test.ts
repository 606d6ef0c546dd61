// Honest device status by cadence (issue #13 item 2, #10 item 7), end to end: real MQTT in, GET /api/devices
// out, on the event clock. NB meters connect, upload and hang up: between reports they are 正常 (ok), not
// 离线; an hourly meter one upload late is 迟报 (late) with no alert; three missed uploads are offline and
// device_offline opens. What the status is judged on survives a restart.
import { describe, it, expect, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, HOUR, at, type AlertsEnv } from './alertsHarness.js';
import { tempDir, waitFor, auth } from '../helpers.js';
import { digestNotice } from '../../src/jobs/digest.js';

const dir = tempDir('shaobing-status-');
let env: AlertsEnv;
afterAll(async () => {
  await env?.close();
  dir.remove();
});

const getJson = async (url: string) => {
  const res = await env.t.app.api.inject({ method: 'GET', url, headers: auth() });
  expect(res.statusCode).toBe(200);
  return JSON.parse(res.body);
};
const view = (id: string) => getJson(`/api/devices/${id}`);

describe('device status by cadence', () => {
  it('an NB meter uploading every 6 h and hanging up is 正常 between reports, then 迟报, then 离线', async () => {
    env = await startAlertsApp(dir.path);
    const id = 'gh-wm-5-203';
    for (let i = 0; i < 4; i++) {
      const t = T0 + i * 6 * HOUR;
      const m = await env.device(id); // connect, upload, hang up
      await m.send({ deviceType: 'water_meter', imei: '869975031234567', ts: at(t), cumulativeM3: 12.3 + i / 100, batteryV: 3.5 });
      await m.end();
    }
    const last = T0 + 18 * HOUR;
    await waitFor(async () => (await view(id)).connected === false, 'meter disconnected');
    await env.advance(last + 5 * HOUR);
    expect(await view(id)).toMatchObject({
      status: 'ok',
      online: true,
      connected: false,
      lastSeenAt: at(last),
      cadence: { intervalSeconds: 6 * 3600, observed: true, nextDueAt: at(last + 6 * HOUR), lateAt: at(last + 7.5 * HOUR), offlineAt: at(last + 19.5 * HOUR) },
    });
    await env.advance(last + 8 * HOUR);
    expect(await view(id)).toMatchObject({ status: 'late', online: true });
    expect((await getJson('/api/devices?status=late&kind=water-meter')).items.map((d: { id: string }) => d.id)).toContain(id);
    expect(await env.alerts({ kind: 'device_offline', deviceId: id })).toEqual([]);
    await env.advance(last + 19.5 * HOUR);
    expect(await view(id)).toMatchObject({ status: 'offline', online: false });
    expect(await env.waitAlert({ kind: 'device_offline', deviceId: id })).toMatchObject({ details: { offlineAfterMinutes: 19.5 * 60 } });
  });

  it('an hourly meter one upload late is 迟报 with no alert; silent for three uploads it is offline and alerts', async () => {
    const id = 'gh-wm-5-302';
    const base = T0 + 40 * HOUR;
    const m = await env.device(id);
    for (let i = 0; i < 4; i++) await m.send({ type: 'reading', ts: at(base + i * HOUR), totalM3: 20 + i / 100 });
    const last = base + 3 * HOUR;
    expect(await view(id)).toMatchObject({ status: 'ok', connected: true, cadence: { intervalSeconds: 3600, observed: true } });

    await env.advance(last + 2 * HOUR); // the next upload missed, the one after not yet in
    expect(await view(id)).toMatchObject({ status: 'late', online: true });
    expect(await env.alerts({ kind: 'device_offline', deviceId: id })).toEqual([]); // a fixed 2 h used to alert here
    await m.send({ type: 'reading', ts: at(last + 2 * HOUR + 5 * MIN), totalM3: 20.05 });
    const back = last + 2 * HOUR + 5 * MIN;
    expect(await view(id)).toMatchObject({ status: 'ok' });

    await env.advance(back + 3 * HOUR);
    expect(await view(id)).toMatchObject({ status: 'late' });
    expect(await env.alerts({ kind: 'device_offline', deviceId: id })).toEqual([]);
    await env.advance(back + 3 * HOUR + 15 * MIN);
    expect(await view(id)).toMatchObject({ status: 'offline', online: false, connected: true });
    const a = await env.waitAlert({ kind: 'device_offline', deviceId: id });
    expect(a).toMatchObject({ openedAt: at(back + 3 * HOUR + 15 * MIN), details: { offlineAfterMinutes: 195, lastSeenAt: at(back) } });
    await m.end();
  });

  it('the daily digest counts devices by the same status as GET /api/devices', async () => {
    const { items } = await getJson('/api/devices?communityId=guihuayuan');
    const count = (s: string) => items.filter((d: { status: string }) => d.status === s).length;
    const digest = await getJson('/api/reports/daily?communityId=guihuayuan');
    expect(digest.devices).toEqual({ ok: count('ok'), late: count('late'), offline: count('offline') });
    expect(digest.devices.offline).toBeGreaterThanOrEqual(2); // the two meters above
    expect(digest.devices.ok + digest.devices.late + digest.devices.offline).toBe(items.length);
    const notice = digestNotice(digest, 480);
    expect(notice.lines).toContain(`设备：正常${count('ok')}台，迟报${count('late')}台，离线${count('offline')}台`);
  });

  it('keeps what it learnt across a restart', async () => {
    await env.close({ keepData: true });
    env = await startAlertsApp(dir.path);
    expect(await view('gh-wm-5-203')).toMatchObject({ status: 'offline', connected: false, cadence: { intervalSeconds: 6 * 3600, observed: true } });
  });
});
