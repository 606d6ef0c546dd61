// Who may take each step of 四单制 (src/alerts/permissions.ts, README "Who may do what"), step by step and role
// by role, over the real API with each sample person's own token: every refused role gets 403 and leaves the
// alert as it was; an allowed role moves it. The console's buttons come from the `actions` the API lists, so
// those are checked for every role too.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { ADMIN_TOKEN, sampleSecrets } from '../helpers.js';
import type { AlertView } from '../../src/alerts/types.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env?.close());

/** One person per role, all serving grid gh-g2 of 桂花园 (where flat 6-302 is); the volunteer is 6-302's. */
const ROLE = {
  property_duty: 'gh-duty-1',
  grid_head: 'gh-head-g2',
  grid_member: 'gh-member-g2-1',
  other_member: 'gh-member-g2-2',
  special_care: 'gh-care-1',
  emergency: 'gh-emerg-1',
  volunteer: 'gh-vol-g2-1',
  residents_committee: 'gh-rc-1',
  owners_committee: 'gh-oc-1',
  admin: 'admin',
} as const;
type Who = keyof typeof ROLE;
const EVERYONE = Object.keys(ROLE) as Who[];
const tokenOf = (who: Who) => (who === 'admin' ? ADMIN_TOKEN : sampleSecrets.people[ROLE[who]]);

type Detail = { actions: string[]; assignees?: string[] };
const actionsOf = async (a: AlertView, who: Who) => ((await env.alert(a.id, tokenOf(who))) as unknown as Detail).actions;

async function step(a: AlertView, t: string, who: Who, body: Record<string, unknown> = {}) {
  return env.post(`/api/alerts/${a.id}/${t}`, body, tokenOf(who));
}

/** Every role not in `allowed` is refused with 403 (and the status is unchanged), then `by` takes the step. */
async function onlyThese(a: AlertView, t: string, allowed: Who[], by: Who, body: Record<string, unknown> = {}, code = 'SB_STEP_NOT_ALLOWED') {
  const before = (await env.alert(a.id)).status;
  for (const who of EVERYONE.filter((w) => !allowed.includes(w))) {
    const res = await step(a, t, who, body);
    expect(res.statusCode, `${t} by ${who}`).toBe(403);
    expect(res.body.code, `${t} by ${who}`).toBe(code);
  }
  expect((await env.alert(a.id)).status).toBe(before);
  // The console shows the button to exactly the allowed roles.
  for (const who of EVERYONE) {
    const actions = await actionsOf(a, who);
    expect(actions.includes(t), `${t} button for ${who}`).toBe(allowed.includes(who));
  }
  const res = await step(a, t, by, body);
  expect(res.statusCode, `${t} by ${by}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body as AlertView;
}

describe('who may do each step (四单制)', () => {
  it('a smoke alarm: 确认 by staff, 派单 by the grid head or property duty, 接单 by the assignee, 办结, 评单 by the one who asked', async () => {
    const sd = await env.device('gh-sd-6-302');
    await sd.send({ type: 'alarm', ts: at(T0) });
    const a = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302', status: 'open' });

    // A volunteer is told of the smoke in their elder's flat, but acknowledging it (which stops the escalation
    // to the grid head) is staff's: the volunteer goes, the staff answers for it.
    await onlyThese(a, 'ack', ['property_duty', 'grid_head', 'grid_member', 'other_member', 'special_care', 'emergency', 'residents_committee', 'admin'], 'property_duty');
    // The finding: a volunteer could dispatch a smoke alarm.
    expect((await step(a, 'dispatch', 'volunteer', { assignee: ROLE.grid_member })).body).toMatchObject({ statusCode: 403, code: 'SB_STEP_NOT_ALLOWED' });
    await onlyThese(a, 'dispatch', ['property_duty', 'grid_head', 'admin'], 'grid_head', { assignee: ROLE.grid_member });
    // Only the person the job went to accepts it — not the head who sent it, not the admin.
    await onlyThese(a, 'accept', ['grid_member'], 'grid_member', {}, 'SB_NOT_ASSIGNEE');
    await onlyThese(a, 'resolve', ['grid_member', 'property_duty', 'grid_head', 'admin'], 'grid_member', { note: '燃气灶未关，已关闭' });
    // The one who asked (the head who dispatched it) and the committees rate; the assignee never rates their own work.
    const rated = await onlyThese(a, 'rate', ['grid_head', 'residents_committee', 'owners_committee'], 'owners_committee', { score: 5 });
    expect(rated.rating).toMatchObject({ score: 5, by: ROLE.owners_committee });
    for (const who of EVERYONE) expect(await actionsOf(a, who), who).toEqual([]);
    await sd.end();
  });

  it("a care alert: the paired volunteer and special-care staff may acknowledge and resolve it, and the volunteer can be sent", async () => {
    const wm = await env.device('gh-wm-6-302');
    await wm.send({ type: 'alarm', code: 'leak', ts: at(T0 + 5 * MIN) });
    const a = await env.waitAlert({ kind: 'continuous_water_flow', householdId: 'gh-6-302', status: 'open' });
    const ackers: Who[] = ['property_duty', 'grid_head', 'grid_member', 'other_member', 'special_care', 'emergency', 'volunteer', 'residents_committee', 'admin'];
    for (const who of EVERYONE) expect((await actionsOf(a, who)).includes('ack'), who).toBe(ackers.includes(who));
    expect((await step(a, 'ack', 'volunteer')).body).toMatchObject({ status: 'acknowledged' });
    // Another grid's volunteer does not even see it.
    expect((await env.post(`/api/alerts/${a.id}/resolve`, {}, sampleSecrets.people['gh-vol-g2-2'])).statusCode).toBe(404);
    // The job may go to the paired volunteer, not to a volunteer of some other elder, nor to a committee.
    const detail = (await env.alert(a.id, tokenOf('grid_head'))) as unknown as Detail;
    expect(detail.assignees).toContain(ROLE.volunteer);
    expect(detail.assignees).not.toContain('gh-vol-g2-2');
    expect(detail.assignees).not.toContain(ROLE.residents_committee);
    expect((await step(a, 'dispatch', 'grid_head', { assignee: 'gh-vol-g2-2' })).body).toMatchObject({ statusCode: 400, code: 'SB_UNKNOWN_ASSIGNEE' });
    expect((await step(a, 'dispatch', 'grid_head', { assignee: ROLE.residents_committee })).body).toMatchObject({ statusCode: 400, code: 'SB_UNKNOWN_ASSIGNEE' });
    await onlyThese(a, 'resolve', ['property_duty', 'grid_head', 'special_care', 'volunteer', 'admin'], 'volunteer', { note: '上门查看，水龙头未关紧，已关好' });
    // Never dispatched: the grid head asks for the work by default, so the head and the committees rate.
    await onlyThese(a, 'rate', ['grid_head', 'residents_committee', 'owners_committee'], 'grid_head', { score: 4 });
    await wm.end();
  });
});
