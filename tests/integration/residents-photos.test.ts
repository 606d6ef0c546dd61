// Photos over the real API (issue 17): a household uploads up to 3 photos and files a report with them; the
// grid's staff see them, attach one photo of the fix before 办结, and the household sees that too. Nobody else
// fetches any of them; hostile uploads are refused in Chinese with nothing stored or attached.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { startApp, sampleSecrets, type TestApp } from '../helpers.js';

const HEAD_G1 = sampleSecrets.people['gh-head-g1'];
const HEAD_G2 = sampleSecrets.people['gh-head-g2'];
const MEMBER_G1 = sampleSecrets.people['gh-member-g1-1'];
const VOLUNTEER_G1 = sampleSecrets.people['gh-vol-g1-1']; // paired with 5-203 only

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ clock: 'event' });
});
afterAll(() => t?.stop());

async function call(method: 'GET' | 'POST', url: string, token?: string, payload?: unknown, contentType?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (contentType) headers['content-type'] = contentType;
  const res = await t.app.api.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const json = (res.headers['content-type'] ?? '').toString().startsWith('application/json') ? JSON.parse(res.body) : undefined;
  return { status: res.statusCode, body: json, raw: res.rawPayload, type: res.headers['content-type'] };
}

async function inviteOf(householdId: string): Promise<string> {
  const r = await call('GET', '/api/invites', HEAD_G1);
  return decodeURIComponent(r.body.items.find((i: { householdId: string }) => i.householdId === householdId).path.split('#')[1]);
}

const photo = (colour: string) =>
  sharp({ create: { width: 1200, height: 900, channels: 3, background: colour } })
    .jpeg()
    .withExifMerge({ IFD0: { Make: 'LeakyPhone' } })
    .toBuffer();
const photoFiles = () => readdirSync(join(t.dataDir, 'photos'), { recursive: true }).filter((f) => String(f).endsWith('.jpg')).length;

describe('photos of a report and of its fix', () => {
  it('are seen by the grid’s staff and the filing household only', async () => {
    const token = await inviteOf('gh-5-101');
    const ids: string[] = [];
    for (const c of ['#c33', '#3c3', '#33c']) {
      const up = await call('POST', '/api/resident/photos', token, await photo(c), 'image/jpeg');
      expect(up.status, JSON.stringify(up.body)).toBe(201);
      ids.push(up.body.id);
    }
    // A fourth is one too many for a report.
    const extra = (await call('POST', '/api/resident/photos', token, await photo('#999'), 'image/jpeg')).body.id as string;
    expect((await call('POST', '/api/resident/orders', token, { type: 'report', category: 'facility', text: '路灯坏了', photos: [...ids, extra] })).body.code).toBe('SB_VALIDATION');

    const filed = await call('POST', '/api/resident/orders', token, { type: 'report', category: 'facility', text: '路灯坏了', photos: ids });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.photos).toEqual(ids);
    // An upload belongs to one report only.
    expect((await call('POST', '/api/resident/orders', token, { type: 'report', category: 'facility', text: '又坏了', photos: [ids[0]] })).body.code).toBe('SB_VALIDATION');
    // Another household cannot attach this household's uploads either.
    const other = await inviteOf('gh-5-104');
    expect((await call('POST', '/api/resident/orders', other, { type: 'report', category: 'other', text: '借用照片', photos: [extra] })).body.code).toBe('SB_VALIDATION');

    const alert = await call('GET', `/api/alerts/${filed.body.id}`, HEAD_G1);
    expect(alert.body.details.photos).toEqual(ids);
    const full = await call('GET', `/api/photos/${ids[0]}`, HEAD_G1);
    expect([full.status, full.type]).toEqual([200, 'image/jpeg']);
    expect(full.raw.includes(Buffer.from('LeakyPhone'))).toBe(false);
    const thumb = await call('GET', `/api/photos/${ids[0]}?size=thumb`, MEMBER_G1);
    expect((await sharp(thumb.raw).metadata()).width).toBe(320);
    // Not another grid's head, not a volunteer of another household, not another household, nobody without a token.
    expect((await call('GET', `/api/photos/${ids[0]}`, HEAD_G2)).status).toBe(404);
    expect((await call('GET', `/api/photos/${ids[0]}`, VOLUNTEER_G1)).status).toBe(404);
    expect((await call('GET', `/api/resident/photos/${ids[0]}`, other)).status).toBe(404);
    expect((await call('GET', `/api/photos/${ids[0]}`)).status).toBe(401);
    expect((await call('GET', `/api/resident/photos/${ids[0]}`, token)).status).toBe(200);
    // An upload not attached to any alert is the household's alone, not the staff's.
    expect((await call('GET', `/api/photos/${extra}`, HEAD_G1)).status).toBe(404);

    // The photo of the fix: by whoever may resolve, one, before 办结.
    const id = filed.body.id as number;
    expect((await call('POST', `/api/alerts/${id}/dispatch`, HEAD_G1, { assignee: 'gh-member-g1-1' })).status).toBe(200);
    expect((await call('POST', `/api/alerts/${id}/photo`, HEAD_G2, await photo('#fff'), 'image/jpeg')).status).toBe(404);
    const fixed = await call('POST', `/api/alerts/${id}/photo`, MEMBER_G1, await photo('#0f0'), 'image/jpeg');
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    const fixPhoto = fixed.body.details.resolutionPhoto as string;
    expect(fixPhoto).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('POST', `/api/alerts/${id}/photo`, MEMBER_G1, await photo('#0f1'), 'image/jpeg')).body.code).toBe('SB_CONFLICT');
    expect((await call('GET', `/api/alerts/${id}`, HEAD_G1)).body.timeline.some((e: { type: string }) => e.type === 'photo')).toBe(true);
    expect((await call('POST', `/api/alerts/${id}/resolve`, MEMBER_G1, { note: '已换灯泡' })).status).toBe(200);
    expect((await call('POST', `/api/alerts/${id}/photo`, MEMBER_G1, await photo('#0f2'), 'image/jpeg')).body.code).toBe('SB_ILLEGAL_TRANSITION');

    const seen = await call('GET', `/api/resident/orders/${id}`, token);
    expect(seen.body.resolutionPhoto).toBe(fixPhoto);
    expect((await call('GET', `/api/resident/photos/${fixPhoto}`, token)).status).toBe(200);
    expect((await call('GET', `/api/resident/photos/${fixPhoto}`, other)).status).toBe(404);
  });

  it('refuses hostile uploads in Chinese, and stores nothing of them', async () => {
    const token = await inviteOf('gh-5-201');
    const before = photoFiles();
    const zip = Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(300, 1)]);
    const asJpeg = await call('POST', '/api/resident/photos', token, zip, 'image/jpeg');
    expect([asJpeg.status, asJpeg.body.code]).toEqual([415, 'SB_PHOTO_TYPE']);
    expect(asJpeg.body.message).toMatch(/只能上传照片/);
    const whole = await photo('#abc');
    const cut = await call('POST', '/api/resident/photos', token, whole.subarray(0, whole.length >> 1), 'image/jpeg');
    expect([cut.status, cut.body.code]).toEqual([400, 'SB_PHOTO_INVALID']);
    expect((await call('POST', '/api/resident/photos', token, zip, 'application/zip')).body.code).toBe('SB_UNSUPPORTED_MEDIA_TYPE');
    const tooBig = await call('POST', '/api/resident/photos', token, Buffer.alloc(11 * 1024 * 1024, 0xff), 'image/jpeg');
    expect([tooBig.status, tooBig.body.code]).toEqual([413, 'SB_PAYLOAD_TOO_LARGE']);
    expect(photoFiles()).toBe(before);
    expect(t.app.db.prepare("SELECT COUNT(*) FROM photos WHERE household_id = 'gh-5-201'").pluck().get()).toBe(0);
  });
});
