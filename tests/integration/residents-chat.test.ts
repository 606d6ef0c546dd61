// A household told in its own chat when its report is resolved (issue 17): a household with a destination
// (inventory households[].destinations; here the family's WeCom group, a local receiver) gets 您家提交的随手拍已办结
// with the note, once, when the grid's staff resolve it — and a household without one gets nothing. A destination a
// household names must exist in settings (checked at load with every other mistake).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startApp, waitFor, sampleSecrets, type TestApp } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';
import { notifyProblems } from '../../src/notify/check.js';
import { loadConfig } from '../../src/config/load.js';

const HEAD = sampleSecrets.people['gh-head-g1'];
const MEMBER = sampleSecrets.people['gh-member-g1-1'];
let t: TestApp;
let rx: RobotReceiver;

beforeAll(async () => {
  rx = await new RobotReceiver({ secrets: {} }).start();
  t = await startApp({
    clock: 'event',
    notify: {
      destinations: [
        { id: 'gh-grid', type: 'wecom', url: rx.robotUrl('wecom', 'gh-grid'), reaches: { communities: ['guihuayuan'], roles: ['grid_head', 'grid_member'] } },
        { id: 'gh-5-101-family', type: 'wecom', url: rx.robotUrl('wecom', 'gh-5-101-family') },
      ],
    },
  });
  // As `households: [{ id: gh-5-101, …, destinations: [gh-5-101-family] }]` in the inventory would load it.
  t.app.directory.households.get('gh-5-101')!.destinations = ['gh-5-101-family'];
});
afterAll(async () => {
  await t?.stop();
  await rx?.stop();
});

async function call(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) {
  const res = await t.app.api.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}
async function inviteOf(householdId: string): Promise<string> {
  const item = (await call('GET', '/api/invites', HEAD)).body.items.find((i: { householdId: string }) => i.householdId === householdId);
  return decodeURIComponent(item.path.split('#')[1]);
}
const family = () => rx.accepted().filter((r) => r.robot === 'gh-5-101-family');

describe('the household told on resolution', () => {
  it('in its own chat, once, with what was resolved and the note; not before', async () => {
    const filed = await call('POST', '/api/resident/orders', await inviteOf('gh-5-101'), { type: 'report', category: 'facility', text: '5号楼楼道灯不亮', placeId: 'gh-b5' });
    expect(filed.status).toBe(201);
    const id = filed.body.id as number;
    expect((await call('POST', `/api/alerts/${id}/dispatch`, HEAD, { assignee: 'gh-member-g1-1' })).status).toBe(200);
    expect((await call('POST', `/api/alerts/${id}/accept`, MEMBER)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(family()).toEqual([]);
    expect((await call('POST', `/api/alerts/${id}/resolve`, MEMBER, { note: '已更换灯泡' })).status).toBe(200);
    const msg = await waitFor(() => family()[0], 'the family group told', 8000);
    expect(msg.text).toContain('【提示】您家提交的随手拍已办结');
    expect(msg.text).toContain('事项：设施损坏 · 5号楼');
    expect(msg.text).toContain('办结说明：已更换灯泡');
    expect(msg.text).toContain('评分');
    // The resident's own words and the staff's names are not in it.
    expect(msg.text).not.toContain('楼道灯不亮');
    expect(msg.text).not.toMatch(/gh-member|gh-head/);
    const timeline = (await call('GET', `/api/alerts/${id}`, HEAD)).body.timeline as Array<{ type: string }>;
    expect(timeline.filter((e) => e.type === 'household_told')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(family()).toHaveLength(1);
  });

  it('a household without a destination is not told in any chat', async () => {
    const filed = await call('POST', '/api/resident/orders', await inviteOf('gh-5-104'), { type: 'request', category: 'repair', text: '水龙头漏水' });
    const id = filed.body.id as number;
    expect((await call('POST', `/api/alerts/${id}/resolve`, HEAD, { note: '已修好' })).status).toBe(200);
    const timeline = (await call('GET', `/api/alerts/${id}`, HEAD)).body.timeline as Array<{ type: string }>;
    expect(timeline.some((e) => e.type === 'household_told')).toBe(false);
    expect(family()).toHaveLength(1);
  });

  it('a destination a household names must exist in settings', () => {
    const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {}, overrides: { adminToken: 'x'.repeat(32) } });
    const communities = config.communities.map((c) =>
      c.id === 'guihuayuan'
        ? { ...c, buildings: c.buildings.map((b, i) => (i === 0 ? { ...b, households: b.households.map((h, j) => (j === 0 ? { ...h, destinations: ['nowhere'] } : h)) } : b)) }
        : c,
    );
    expect(notifyProblems(config.settings.notify, communities)).toEqual([expect.stringMatching(/guihuayuan: \/buildings\/0\/households\/0\/destinations\/0: no destination 'nowhere'/)]);
  });
});
