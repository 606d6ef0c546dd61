// AI cameras over HTTP (issue 17): a Hikvision camera's ISAPI push — multipart with the EventNotificationAlert XML
// and its JPEG, as the camera's HTTP listening setting sends it — posted over a real socket to the real service
// through the sample integration cj-cams, into the inbox, decoded, run through the rules; the snapshot stored
// through the photo store and attached to the alert, visible to the grid's staff only. A hostile picture is refused
// and the event kept; heartbeats keep the camera's health; a wrong key or no camera in the URL is refused, coded.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { startApp, waitFor, auth, provisionCamera, sampleSecrets, type TestApp } from '../helpers.js';

const KEY = sampleSecrets.integrations['cj-cams'];
const EX = 'devices/ai-camera/examples/hikvision-isapi/valid/';
const SHED = 'cj-cam-shed';
const LIFT = 'cj-cam-lift';

let t: TestApp;
async function push(body: Buffer | string, query: string, contentType = 'multipart/form-data; boundary=boundary') {
  const res = await fetch(`${t.httpUrl}/ingest/cj-cams?${query}`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const api = async (url: string, token?: string) => (await t.app.api.inject({ url, headers: auth(token) })).json();
const alertsOf = async (deviceId: string, kind: string) => (await api(`/api/alerts?kind=${kind}&deviceId=${deviceId}`)).items as Array<Record<string, any>>;

/** A multipart push like the camera's, with these picture bytes. */
function multipart(xml: string, picture: Buffer): Buffer {
  const x = Buffer.from(xml);
  return Buffer.concat([
    Buffer.from(`--boundary\r\nContent-Disposition: form-data; name="fireDetection"\r\nContent-Type: application/xml; charset="UTF-8"\r\nContent-Length: ${x.length}\r\n\r\n`),
    x,
    Buffer.from(`\r\n--boundary\r\nContent-Disposition: form-data; name="fireDetection"; filename="fireDetection.jpg";\r\nContent-Type: image/jpeg\r\nContent-Length: ${picture.length}\r\n\r\n`),
    picture,
    Buffer.from('\r\n--boundary--\r\n'),
  ]);
}
const fireXml = (at: string) =>
  `<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><channelID>1</channelID><dateTime>${at}</dateTime><activePostCount>1</activePostCount><eventType>fireDetection</eventType><eventState>active</eventState><eventDescription>fireDetection alarm</eventDescription></EventNotificationAlert>`;

beforeAll(async () => {
  t = await startApp();
  await provisionCamera(t, SHED, '3号楼旁 电动车棚');
  await provisionCamera(t, LIFT, '3号楼 1号电梯');
});
afterAll(async () => {
  await t?.stop();
});

describe('POST /ingest/{integration} with Hikvision ISAPI pushes', () => {
  it('a fire push with its JPEG opens a critical 烟火报警 with the snapshot, stored re-encoded and fetchable by the grid only', async () => {
    const body = readFileSync(`${EX}fire-multipart-with-picture.bin`);
    expect(await push(body, `device=${SHED}&key=${KEY}`)).toEqual({ status: 202, body: { status: 'accepted', deviceId: SHED } });
    const [a] = await waitFor(async () => {
      const items = await alertsOf(SHED, 'camera_fire');
      return items.length > 0 && typeof items[0].details.snapshot === 'string' && items;
    }, 'a camera_fire alert with its snapshot');
    expect(a).toMatchObject({ kind: 'camera_fire', severity: 'critical', status: 'open', title: '3号楼旁 电动车棚 烟火报警', details: { temperatureC: 101, event: 'fireDetection' } });
    expect(a.details.snapshotPending).toBe(false);
    const photo = await t.app.api.inject({ url: `/api/photos/${a.details.snapshot}`, headers: auth() });
    expect(photo.statusCode).toBe(200);
    expect(photo.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(photo.rawPayload).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    expect(meta.exif).toBeUndefined();
    expect((await t.app.api.inject({ url: `/api/photos/${a.details.snapshot}?size=thumb`, headers: auth() })).statusCode).toBe(200);
    // A volunteer sees no alert of the shed, so not its picture either.
    const outsider = await t.app.api.inject({ url: `/api/photos/${a.details.snapshot}`, headers: auth(sampleSecrets.people['cj-vol-1']) });
    expect(outsider.statusCode).toBe(404);
  });

  it('a burst of events from the same camera is one alert with a count', async () => {
    for (const at of ['2026-03-02T21:16:00+08:00', '2026-03-02T21:16:05+08:00']) {
      const pic = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#f60' } }).jpeg().toBuffer();
      expect((await push(multipart(fireXml(at), pic), `device=${SHED}&key=${KEY}`)).status).toBe(202);
    }
    const items = await waitFor(async () => {
      const x = await alertsOf(SHED, 'camera_fire');
      return x.length === 1 && x[0].count >= 3 && (x[0].details.snapshots as string[]).length >= 2 && x;
    }, 'the repeats counted, their snapshots kept');
    expect(items).toHaveLength(1);
  });

  it('a hostile picture (a zip named .jpg, a truncated JPEG) is refused and the event still opens its alert, saying why', async () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 1)]);
    const xml = fireXml('2026-03-02T19:42:10+08:00').replace('fireDetection</eventType>', 'fielddetection</eventType>').replace(
      '</eventDescription>',
      '</eventDescription><DetectionRegionList><DetectionRegionEntry><regionID>1</regionID><detectionTarget>nonMotorVehicle</detectionTarget></DetectionRegionEntry></DetectionRegionList>',
    );
    expect((await push(multipart(xml, zip), `device=${LIFT}&key=${KEY}`)).status).toBe(202);
    const [a] = await waitFor(async () => {
      const x = await alertsOf(LIFT, 'ebike_in_lift');
      return x.length > 0 && x[0].details.snapshotError && x;
    }, 'an ebike_in_lift alert with the reason it has no picture');
    expect(a).toMatchObject({ severity: 'major', title: '3号楼 1号电梯 电动车进电梯', details: { snapshotPending: false } });
    expect(a.details.snapshot).toBeUndefined();
    expect(a.details.snapshotError).toMatch(/只能上传照片/);
    const good = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#08f' } }).jpeg().toBuffer();
    expect((await push(multipart(xml, good.subarray(0, good.length - 40)), `device=${LIFT}&key=${KEY}`)).status).toBe(202);
    await waitFor(async () => (await alertsOf(LIFT, 'ebike_in_lift'))[0].count === 2, 'the second event counted');
    await t.app.snapshots.idle();
    const [b] = await alertsOf(LIFT, 'ebike_in_lift');
    expect(b.details.snapshot).toBeUndefined();
    expect(b.details.snapshotError).toMatch(/损坏或不完整/);
  });

  it('a heartbeat keeps the camera healthy and opens nothing', async () => {
    // Now, so it is the camera's newest message (an older one does not replace what the state shows).
    const hb = readFileSync(`${EX}heartbeat-videoloss-inactive.xml`, 'utf8').replace(/<dateTime>[^<]*</, `<dateTime>${new Date().toISOString()}<`);
    expect((await push(hb, `device=${LIFT}&key=${KEY}`, 'application/xml')).status).toBe(202);
    const d = await waitFor(async () => {
      const r = await api(`/api/devices/${LIFT}`);
      return r.state?.last?.type === 'heartbeat' && r;
    }, 'the heartbeat processed');
    expect(d.state.last).toMatchObject({ type: 'heartbeat', event: 'videoloss' });
    expect(d.status).toBe('ok');
    expect(await alertsOf(LIFT, 'device_offline')).toEqual([]);
  });

  it('an event type it does not act on is kept as a rejection naming it', async () => {
    const vmd = readFileSync('devices/ai-camera/examples/hikvision-isapi/invalid/vmd-unmapped.xml');
    expect((await push(vmd, `device=${LIFT}&key=${KEY}`, 'application/xml')).status).toBe(202);
    const rej = await waitFor(async () => {
      const items = (await api(`/api/rejections?deviceId=${LIFT}`)).items as Array<Record<string, unknown>>;
      return items.find((r) => String(r.message).includes("'VMD'"));
    }, 'the rejection');
    expect(rej).toMatchObject({ code: 'decode_failed' });
  });

  it('refuses a wrong key, a push that names no camera, and a camera of another community, coded', async () => {
    const body = readFileSync(`${EX}fire-multipart-with-picture.bin`);
    expect(await push(body, `device=${SHED}&key=wrong`)).toMatchObject({ status: 401, body: { code: 'SB_UNAUTHORIZED' } });
    expect(await push(body, `key=${KEY}`)).toMatchObject({ status: 400, body: { code: 'SB_BAD_REQUEST' } });
    expect(await push(body, `device=gh-sd-6-302&key=${KEY}`)).toMatchObject({ status: 404, body: { code: 'SB_UNKNOWN_DEVICE' } });
  });

  it('is in the OpenAPI document: the camera push, its ?device= and ?key=, and camera events in the digest', async () => {
    const doc = (await t.app.api.inject({ url: '/docs/json' })).json();
    const op = doc.paths['/ingest/{integration}'].post;
    expect(op.summary).toContain('Hikvision');
    expect(op.description).toContain('hikvision-isapi');
    expect(op.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort()).toEqual(['device', 'key']);
    const daily = doc.paths['/api/reports/daily'].get.responses['200'].content['application/json'].schema;
    expect(daily.properties.cameras.description).toContain('camera_fire');
  });
});
