// A camera alert's chat message links its snapshot (issue 17): signed, expiring, opened only for a destination that
// reaches the staff of the alert's grid. A Hikvision fire push over HTTP → 烟火报警 → the property group's WeCom robot
// (a local receiver) gets the message with 抓拍照片 and 一键确认 links; the snapshot link opens the stored JPEG, a
// group of volunteers only gets no link, and neither a forged token nor an acknowledge link opens the picture.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { startApp, waitFor, provisionCamera, sampleSecrets, type TestApp } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';

const KEY = sampleSecrets.integrations['cj-cams'];
const CAM = 'cj-cam-shed-n';
const PUBLIC = 'https://sb.example.cn';
let rx: RobotReceiver;
let t: TestApp;

beforeAll(async () => {
  rx = await new RobotReceiver({ secrets: {} }).start();
  t = await startApp({
    http: { port: 0, host: '127.0.0.1', publicUrl: PUBLIC },
    notify: {
      destinations: [
        { id: 'cj-duty', type: 'wecom', url: rx.robotUrl('wecom', 'cj-duty'), reaches: { communities: ['chunjiang'], roles: ['property_duty'] } },
        { id: 'cj-vols', type: 'wecom', url: rx.robotUrl('wecom', 'cj-vols'), reaches: { communities: ['chunjiang'], roles: ['volunteer'] } },
      ],
    },
  });
  await provisionCamera(t, CAM, '北门 电动车棚');
});
afterAll(async () => {
  await t?.stop();
  await rx?.stop();
});

const local = (url: string) => url.replace(PUBLIC, t.httpUrl);

describe('snapshot links in chat messages', () => {
  it("the property group's message links the snapshot; the link opens the stored JPEG", async () => {
    const body = readFileSync('devices/ai-camera/examples/hikvision-isapi/valid/fire-multipart-with-picture.bin');
    const res = await fetch(`${t.httpUrl}/ingest/cj-cams?device=${CAM}&key=${KEY}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=boundary' }, body: new Uint8Array(body) });
    expect(res.status).toBe(202);
    const msg = await waitFor(() => rx.accepted().find((r) => r.text.includes('北门 电动车棚 烟火报警')), 'the WeCom message', 8000);
    expect(msg.text).toContain('【紧急】北门 电动车棚 烟火报警');
    const link = /抓拍照片：(\S+)/.exec(msg.text)?.[1];
    expect(link).toMatch(/^https:\/\/sb\.example\.cn\/snapshot\/\S+$/);
    const pic = await waitFor(async () => {
      const r = await fetch(local(link!));
      return r.status === 200 && r;
    }, 'the snapshot stored and served', 8000);
    expect(pic.headers.get('content-type')).toBe('image/jpeg');
    expect(pic.headers.get('cache-control')).toContain('no-store');
    expect((await sharp(Buffer.from(await pic.arrayBuffer())).metadata()).format).toBe('jpeg');
    // Only the message to a group of staff carries the link (a camera alert reaches no volunteer group at all).
    expect(rx.accepted().filter((r) => r.text.includes('北门 电动车棚') && !r.text.includes('抓拍照片'))).toEqual([]);
    const place = { communityId: 'chunjiang', gridId: 'cj-g1' };
    expect(t.app.notifier.reachesGridStaff('cj-duty', place)).toBe(true);
    // A group of volunteers is no staff of the grid: a link issued to it would not open.
    expect(t.app.notifier.reachesGridStaff('cj-vols', place)).toBe(false);
    expect(t.app.notifier.reachesGridStaff('cj-duty', { communityId: 'guihuayuan', gridId: 'gh-g1' })).toBe(false);
  });

  it('a forged or altered token, and an acknowledge link, do not open the picture', async () => {
    const msg = rx.accepted().find((r) => r.text.includes('北门 电动车棚 烟火报警'))!;
    const link = /抓拍照片：(\S+)/.exec(msg.text)![1];
    const ack = /一键确认：(\S+)/.exec(msg.text)![1];
    const [body, mac] = link.split('/snapshot/')[1].split('.');
    const forged = `${PUBLIC}/snapshot/${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const url of [forged, `${PUBLIC}/snapshot/${ack.split('/ack/')[1]}`, `${PUBLIC}/snapshot/nonsense`]) {
      const r = await fetch(local(url));
      expect(r.status, url).toBe(410);
      expect(r.headers.get('content-type')).toContain('text/html');
      expect(await r.text()).toContain('链接无效');
    }
  });
});
