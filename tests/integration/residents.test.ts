// Residents in the loop (issue 17): a household invited by its signed link files a report or a request from the
// phone page's API; it becomes an alert in the grid of the place it names, the grid's staff are notified and
// work it (派单, 接单, 办结), and only the filing household rates it. Over the real app: invites, scope, limits,
// revocation, coded errors in Chinese, and nothing personal in the logs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startApp, waitFor, ADMIN_TOKEN, sampleSecrets, type TestApp } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';
import { LIMITS } from '../../src/residents/workOrders.js';

const HEAD_G1 = sampleSecrets.people['gh-head-g1'];
const HEAD_G2 = sampleSecrets.people['gh-head-g2'];
const MEMBER_G1 = sampleSecrets.people['gh-member-g1-1'];
const VOLUNTEER = sampleSecrets.people['gh-vol-g1-1'];
const COMMITTEE = sampleSecrets.people['gh-rc-1'];

let t: TestApp;
let rx: RobotReceiver;
let logs = '';

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs += chunk.toString();
      cb();
    },
  });
  rx = await new RobotReceiver({ secrets: {} }).start();
  // The grid's staff chat group (a local stand-in for the WeCom robot).
  const notify = {
    destinations: [{ id: 'gh-grid', type: 'wecom', url: rx.robotUrl('wecom', 'gh-grid'), reaches: { communities: ['guihuayuan'], roles: ['grid_head', 'grid_member'] } }],
  };
  t = await startApp({ clock: 'event', notify }, undefined, { log: pino({ level: 'debug' }, sink) });
});
afterAll(async () => {
  await t?.stop();
  await rx?.stop();
});

async function call(method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) {
  const res = await t.app.api.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

/** The household's token, as the staff's printable list carries it. */
async function inviteOf(householdId: string, staff = HEAD_G1): Promise<string> {
  const r = await call('GET', '/api/invites', staff);
  expect(r.status).toBe(200);
  const item = r.body.items.find((i: { householdId: string }) => i.householdId === householdId);
  expect(item, householdId).toBeTruthy();
  return decodeURIComponent(item.path.split('#')[1]);
}

describe('invites', () => {
  it('lists the households of the caller’s grids with a link and a QR code, for who runs the grid only', async () => {
    const r = await call('GET', '/api/invites', HEAD_G1);
    expect(r.status).toBe(200);
    const ids = r.body.items.map((i: { householdId: string }) => i.householdId);
    expect(ids).toContain('gh-5-101');
    expect(ids.some((id: string) => id.startsWith('gh-6-'))).toBe(false); // grid gh-g2
    const one = r.body.items.find((i: { householdId: string }) => i.householdId === 'gh-5-101');
    expect(one.path).toMatch(/^\/r\/#sbi1\.[A-Za-z0-9_-]+\.1\.[A-Za-z0-9_-]{22}$/);
    expect(one.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(one.url).toBe(`http://localhost:8080${one.path}`);
    // Grid members, volunteers and committees do not print invites.
    for (const token of [MEMBER_G1, VOLUNTEER, COMMITTEE]) expect((await call('GET', '/api/invites', token)).body.code).toBe('SB_FORBIDDEN');
    // Another grid's head: not even told the household exists.
    expect((await call('POST', '/api/households/gh-5-101/invite/revoke', HEAD_G2)).status).toBe(404);
  });

  it('a wrong or missing token is 401 in Chinese; a revoked one says so (410) and the new one works', async () => {
    expect((await call('GET', '/api/resident/me')).status).toBe(401);
    const good = (await inviteOf('gh-5-102')).split('.');
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    // Another MAC, and the same MAC re-encoded (the last base64 character also carries unused bits): neither is ours.
    for (const mac of [flip(good[3][0]) + good[3].slice(1), good[3].slice(0, -1) + String.fromCharCode(good[3].charCodeAt(21) ^ 1)])
      expect((await call('GET', '/api/resident/me', [...good.slice(0, 3), mac].join('.'))).status).toBe(401);
    const forged = [...good.slice(0, 3), flip(good[3][0]) + good[3].slice(1)].join('.');
    const bad = await call('GET', '/api/resident/me', forged);
    expect([bad.status, bad.body.code]).toEqual([401, 'SB_UNAUTHORIZED']);
    expect(bad.body.message).toMatch(/二维码/);
    // A staff token is not a household's.
    expect((await call('GET', '/api/resident/me', HEAD_G1)).status).toBe(401);

    const old = await inviteOf('gh-5-102');
    expect((await call('GET', '/api/resident/me', old)).status).toBe(200);
    const revoked = await call('POST', '/api/households/gh-5-102/invite/revoke', HEAD_G1);
    expect(revoked.status).toBe(200);
    expect(revoked.body.generation).toBe(2);
    const gone = await call('GET', '/api/resident/me', old);
    expect([gone.status, gone.body.code]).toEqual([410, 'SB_INVITE_REVOKED']);
    const fresh = decodeURIComponent(revoked.body.path.split('#')[1]);
    expect(fresh).not.toBe(old);
    expect((await call('GET', '/api/resident/me', fresh)).status).toBe(200);
    // The revocation is kept: a restart does not bring the old link back.
    expect(t.app.db.prepare('SELECT generation FROM resident_invites WHERE household_id = ?').pluck().get('gh-5-102')).toBe(2);
  });
});

describe('a report, worked and rated', () => {
  it('goes to the grid of the place it names, is worked by its staff, and is rated by the household alone', async () => {
    const token = await inviteOf('gh-5-101');
    const me = await call('GET', '/api/resident/me', token);
    expect(me.body.household).toMatchObject({ building: '5号楼', room: '101' });
    expect(me.body.places.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(['gh-b5', 'gh-b6', 'gh-lot-1']));
    expect(me.body.categories.report.parking).toBe('乱停放');

    // A phone number typed into the text never reaches the logs.
    const filed = await call('POST', '/api/resident/orders', token, { type: 'report', category: 'parking', text: '消防通道停了白色轿车，车主电话13912345678', placeId: 'gh-lot-1' });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body).toMatchObject({ type: 'report', categoryZh: '乱停放', status: 'open', place: expect.any(String), canRate: false });
    const id = filed.body.id as number;

    // The grid's staff see it as an alert, with what the resident wrote; another grid's staff do not.
    const a = await call('GET', `/api/alerts/${id}`, HEAD_G1);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ kind: 'resident_report', gridId: 'gh-g1', householdId: 'gh-5-101', severity: 'minor' });
    expect(a.body.details).toMatchObject({ category: 'parking', text: expect.stringContaining('消防通道'), placeId: 'gh-lot-1' });
    expect(a.body.timeline[0]).toMatchObject({ type: 'opened', actor: 'resident:gh-5-101' });
    expect((await call('GET', `/api/alerts/${id}`, HEAD_G2)).status).toBe(404);
    // …and were told in their chat group through the usual routing, without the resident's words or number.
    const told = await waitFor(() => rx.accepted().find((r) => r.text.includes(a.body.title)), 'grid group told', 8000);
    expect(told.text).toContain('乱停放');
    expect(told.text).not.toContain('13912345678');

    // Another household cannot see it.
    const other = await inviteOf('gh-5-104');
    expect((await call('GET', `/api/resident/orders/${id}`, other)).status).toBe(404);
    expect((await call('GET', '/api/resident/orders', other)).body.items).toEqual([]);
    expect((await call('POST', `/api/resident/orders/${id}/rate`, other, { score: 1 })).status).toBe(404);

    // Not rated before it is resolved.
    const early = await call('POST', `/api/resident/orders/${id}/rate`, token, { score: 5 });
    expect([early.status, early.body.code]).toEqual([409, 'SB_ILLEGAL_TRANSITION']);

    // 派单 → 接单 → 办结, by the grid's staff.
    expect((await call('POST', `/api/alerts/${id}/dispatch`, HEAD_G1, { assignee: 'gh-member-g1-1' })).status).toBe(200);
    expect((await call('GET', `/api/resident/orders/${id}`, token)).body.statusZh).toBe('已派单');
    expect((await call('POST', `/api/alerts/${id}/accept`, MEMBER_G1)).status).toBe(200);
    expect((await call('POST', `/api/alerts/${id}/resolve`, MEMBER_G1, { note: '已联系车主挪车' })).status).toBe(200);

    // Staff do not rate a resident's order, not even the one who dispatched it or the committee.
    for (const staff of [HEAD_G1, COMMITTEE, ADMIN_TOKEN]) {
      const r = await call('POST', `/api/alerts/${id}/rate`, staff, { score: 5 });
      expect(r.body.code).toBe('SB_STEP_NOT_ALLOWED');
    }
    expect((await call('GET', `/api/alerts/${id}`, HEAD_G1)).body.actions).not.toContain('rate');

    const seen = await call('GET', `/api/resident/orders/${id}`, token);
    expect(seen.body).toMatchObject({ status: 'resolved', resolution: '已联系车主挪车', canRate: true });
    expect(seen.body.steps.map((s: { what: string }) => s.what)).toEqual(['已提交', '已派给工作人员', '工作人员已接单', '已办结']);
    // Who on the staff did it is not the household's business.
    expect(JSON.stringify(seen.body)).not.toMatch(/gh-member|gh-head/);

    const rated = await call('POST', `/api/resident/orders/${id}/rate`, token, { score: 4, comment: '挪得很快' });
    expect(rated.status).toBe(200);
    expect(rated.body).toMatchObject({ rating: { score: 4, comment: '挪得很快' }, canRate: false, statusZh: '已办结，已评价' });
    expect((await call('GET', `/api/alerts/${id}`, HEAD_G1)).body.rating).toMatchObject({ score: 4, by: 'resident:gh-5-101' });
    expect((await call('POST', `/api/resident/orders/${id}/rate`, token, { score: 5 })).body.code).toBe('SB_ALREADY_RATED');

    expect(logs).toContain('resident filed');
    expect(logs).not.toContain('13912345678');
    expect(logs).not.toContain(token);
  });

  it('a request goes to the grid of the household’s own building by default', async () => {
    const token = await inviteOf('gh-6-101', HEAD_G2);
    const r = await call('POST', '/api/resident/orders', token, { type: 'request', category: 'elder_help', text: '请帮忙代买降压药' });
    expect(r.status).toBe(201);
    expect(r.body.categoryZh).toBe('助老');
    const a = await call('GET', `/api/alerts/${r.body.id}`, HEAD_G2);
    expect(a.body).toMatchObject({ kind: 'resident_request', gridId: 'gh-g2' });
  });
});

describe('bad input and limits', () => {
  it('refuses bad fields with coded errors and a place outside the community with SB_UNKNOWN_PLACE', async () => {
    const token = await inviteOf('gh-5-201');
    const bad = async (body: unknown) => (await call('POST', '/api/resident/orders', token, body)).body.code;
    expect(await bad({ type: 'report', category: 'parking', text: 'x'.repeat(201) })).toBe('SB_VALIDATION');
    expect(await bad({ type: 'report', category: 'errand', text: '乱堆' })).toBe('SB_VALIDATION'); // a request's category
    expect(await bad({ type: 'complaint', category: 'other', text: '乱堆' })).toBe('SB_VALIDATION');
    expect(await bad({ type: 'report', category: 'other', text: '   ' })).toBe('SB_VALIDATION');
    expect(await bad({ type: 'report', category: 'other', text: '乱堆', placeId: 'cj-b1' })).toBe('SB_UNKNOWN_PLACE'); // another community's
    expect(await bad({ type: 'report', category: 'other', text: '乱堆', extra: 1 })).toBe('SB_VALIDATION');
    expect((await call('POST', '/api/resident/orders/0/rate', token, { score: 3 })).body.code).toBe('SB_VALIDATION');
    expect((await call('POST', '/api/resident/orders/1/rate', token, { score: 6 })).body.code).toBe('SB_VALIDATION');
  });

  it(`limits a household to ${LIMITS.unresolved} unresolved orders, with a Chinese message`, async () => {
    const token = await inviteOf('gh-5-202');
    for (let i = 0; i < LIMITS.unresolved; i++)
      expect((await call('POST', '/api/resident/orders', token, { type: 'report', category: 'garbage', text: `垃圾 ${i}` })).status).toBe(201);
    const over = await call('POST', '/api/resident/orders', token, { type: 'report', category: 'garbage', text: '又一堆' });
    expect([over.status, over.body.code]).toEqual([429, 'SB_RESIDENT_LIMIT']);
    expect(over.body.message).toMatch(/未办结/);
    // Another household is not affected.
    const other = await inviteOf('gh-5-203');
    expect((await call('POST', '/api/resident/orders', other, { type: 'request', category: 'repair', text: '水龙头漏水' })).status).toBe(201);
  });
});
