// The alert lifecycle (四单制) through the API, grid scoping, the live stream and the replay clock.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { startAlertsApp, T0, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { sampleSecrets, startApp, auth, waitFor } from '../helpers.js';
import type { AlertView } from '../../src/alerts/types.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env.close());

const token = (person: string) => sampleSecrets.people[person];
const HEAD_G1 = token('gh-head-g1');
const HEAD_G2 = token('gh-head-g2');
const MEMBER_G2_1 = token('gh-member-g2-1');
const MEMBER_G2_2 = token('gh-member-g2-2');

async function smokeAlarm(ts: number): Promise<AlertView> {
  const sd = await env.device('gh-sd-6-302');
  await sd.send({ type: 'alarm', ts: at(ts) });
  return env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302', status: 'open' });
}

/** A stream reader over real HTTP (node:http: an aborted fetch keeps its socket for seconds): collects events. */
async function openStream(bearer: string) {
  const events: Array<{ event: string; data: any }> = [];
  const req = http.get(`${env.t.httpUrl}/api/stream`, { headers: { authorization: `Bearer ${bearer}` } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    text += chunk;
    let i;
    while ((i = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, i);
      text = text.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
      else if (block.includes(': heartbeat')) events.push({ event: 'heartbeat', data: null });
    }
  });
  res.on('error', () => undefined);
  return { res, events, close: async () => void req.destroy() };
}

describe('alert lifecycle over the API', () => {
  it('open → acknowledged → dispatched → accepted → resolved → rated, with who and when on the timeline', async () => {
    const a = await smokeAlarm(T0);
    const post = (t: string, body: unknown, tok: string) => env.post(`/api/alerts/${a.id}/${t}`, body, tok);

    expect((await post('ack', {}, HEAD_G2)).body).toMatchObject({ status: 'acknowledged' });
    expect((await post('ack', {}, HEAD_G2)).body).toMatchObject({ statusCode: 409, code: 'SB_ILLEGAL_TRANSITION' });
    expect((await post('accept', {}, HEAD_G2)).body).toMatchObject({ statusCode: 409, code: 'SB_ILLEGAL_TRANSITION' });
    expect((await post('rate', { score: 5 }, HEAD_G2)).statusCode).toBe(409);
    expect((await post('dispatch', {}, HEAD_G2)).body).toMatchObject({ statusCode: 400, code: 'SB_VALIDATION' });
    expect((await post('dispatch', { assignee: 'gh-member-g1-1' }, HEAD_G2)).body).toMatchObject({ statusCode: 400, code: 'SB_UNKNOWN_ASSIGNEE' });
    expect((await post('dispatch', { assignee: 'gh-member-g2-1' }, HEAD_G2)).body).toMatchObject({ status: 'dispatched', assignee: 'gh-member-g2-1' });
    expect((await post('accept', {}, MEMBER_G2_2)).body).toMatchObject({ statusCode: 403, code: 'SB_NOT_ASSIGNEE' });
    expect((await post('accept', {}, MEMBER_G2_1)).body).toMatchObject({ status: 'accepted' });
    expect((await post('resolve', { note: '燃气灶未关，已关闭并开窗通风' }, MEMBER_G2_1)).body).toMatchObject({
      status: 'resolved',
      resolvedBy: 'gh-member-g2-1',
      resolution: '燃气灶未关，已关闭并开窗通风',
    });
    expect((await post('rate', { score: 9 }, HEAD_G2)).body).toMatchObject({ statusCode: 400 });
    const rated = (await post('rate', { score: 5, comment: '三分钟到场' }, HEAD_G2)).body;
    expect(rated).toMatchObject({ status: 'resolved', rating: { score: 5, comment: '三分钟到场', by: 'gh-head-g2' } });
    expect((await post('rate', { score: 4 }, HEAD_G2)).body).toMatchObject({ statusCode: 409, code: 'SB_ALREADY_RATED' });
    expect((await post('ack', {}, HEAD_G2)).body).toMatchObject({ statusCode: 409 });

    const { timeline } = await env.alert(a.id);
    expect(timeline.map((e) => [e.type, e.actor])).toEqual([
      ['opened', 'system'],
      ['acknowledged', 'gh-head-g2'],
      ['dispatched', 'gh-head-g2'],
      ['accepted', 'gh-member-g2-1'],
      ['resolved', 'gh-member-g2-1'],
      ['rated', 'gh-head-g2'],
    ]);
    expect(timeline[2].data).toEqual({ assignee: 'gh-member-g2-1' });
    expect(timeline.every((e) => e.at === at(T0))).toBe(true); // the event clock has not moved
  });

  it('keeps one open alert per kind and subject and counts repeats', async () => {
    const a = await smokeAlarm(T0 + 10 * MIN);
    const sd = await env.device('gh-sd-6-302');
    await sd.send({ type: 'alarm', ts: at(T0 + 11 * MIN) });
    await env.waitStatus(a.id, 'open');
    const again = await env.alert(a.id);
    expect(again.count).toBe(2);
    expect(again.timeline.map((e) => e.type)).toEqual(['opened', 'repeated']);
    expect(await env.alerts({ kind: 'smoke', status: 'open' })).toHaveLength(1);
    const all = await env.alerts({ kind: 'smoke' });
    expect(all[0].id).toBe(a.id); // newest first
    expect(all.slice(1).every((x) => x.status === 'resolved')).toBe(true);
    await env.post(`/api/alerts/${a.id}/resolve`, {});
  });

  it('shows each person only their grids: outside them an alert is a 404', async () => {
    const a = await smokeAlarm(T0 + 20 * MIN); // 6号楼 is grid gh-g2
    const g1 = await env.t.app.api.inject({ method: 'GET', url: `/api/alerts/${a.id}`, headers: auth(HEAD_G1) });
    expect(g1.statusCode).toBe(404);
    expect(JSON.parse(g1.body).code).toBe('SB_NOT_FOUND');
    expect((await env.post(`/api/alerts/${a.id}/ack`, {}, HEAD_G1)).statusCode).toBe(404);
    expect((await env.alerts({}, HEAD_G1)).some((x) => x.id === a.id)).toBe(false);
    expect((await env.alerts({ gridId: 'gh-g2' }, HEAD_G2)).some((x) => x.id === a.id)).toBe(true);
    expect((await env.t.app.api.inject({ method: 'GET', url: '/api/alerts/999999', headers: auth() })).statusCode).toBe(404);
    // Empty filters are no filters; an unknown status is a 400.
    const empty = await env.t.app.api.inject({ method: 'GET', url: '/api/alerts?status=&kind=&deviceId=&gridId=', headers: auth(HEAD_G2) });
    expect(JSON.parse(empty.body).items.some((x: AlertView) => x.id === a.id)).toBe(true);
    expect((await env.t.app.api.inject({ method: 'GET', url: '/api/alerts?status=closed', headers: auth() })).statusCode).toBe(400);
    await env.post(`/api/alerts/${a.id}/resolve`, {});
  });

  it('streams alert and parking events to each caller for their grids, and cleans up on close', async () => {
    const bus = env.t.app.bus as unknown as { listeners: Map<string, unknown[]> };
    const baseline = bus.listeners.get('alert')?.length ?? 0;
    const g1 = await openStream(HEAD_G1);
    const g2 = await openStream(HEAD_G2);
    expect(g1.res.headers['content-type']).toMatch(/^text\/event-stream/);
    const a = await smokeAlarm(T0 + 30 * MIN);
    const seen = (s: typeof g1) => s.events.filter((e) => e.event === 'alert' && e.data.id === a.id);
    await waitFor(() => seen(g2).length > 0, 'the alert on the gh-g2 stream');
    expect(seen(g2)[0].data).toMatchObject({ kind: 'smoke', status: 'open', title: '6号楼302 烟感报警' });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen(g1)).toEqual([]); // gh-g1 does not see 6号楼
    expect(g1.events.find((e) => e.event === 'parking')?.data).toMatchObject({ id: 'gh-lot-1', capacity: 26 });
    expect(g2.events.some((e) => e.event === 'parking')).toBe(false);
    await env.post(`/api/alerts/${a.id}/ack`, {}, HEAD_G2);
    await waitFor(() => seen(g2).length === 2, 'the acknowledgement on the stream');
    expect(seen(g2).map((e) => e.data.status)).toEqual(['open', 'acknowledged']);
    expect(bus.listeners.get('alert')!.length).toBe(baseline + 2);
    await g1.close();
    await g2.close();
    for (let i = 0; i < 50 && bus.listeners.get('alert')!.length > baseline; i++) await new Promise((r) => setTimeout(r, 20));
    expect(bus.listeners.get('alert')!.length).toBe(baseline);
  });

  it('moves the replay clock forward only, for an admin, on the event clock', async () => {
    const now = env.t.app.clock.now();
    expect((await env.post('/api/replay/clock', { now: at(now - 1) })).body).toMatchObject({ statusCode: 409, code: 'SB_CLOCK_BACKWARDS' });
    expect((await env.post('/api/replay/clock', { now: 'yesterday' })).body).toMatchObject({ statusCode: 400 });
    expect((await env.post('/api/replay/clock', {})).statusCode).toBe(400);
    expect((await env.post('/api/replay/clock', { now: at(now + 1) }, HEAD_G2)).statusCode).toBe(403);
    expect((await env.post('/api/replay/clock', { now: now + 1000 })).body).toMatchObject({ now: at(now + 1000), fired: expect.any(Number) });
    const wall = await startApp({ clock: 'wall' });
    try {
      const res = await wall.app.api.inject({ method: 'POST', url: '/api/replay/clock', headers: auth(), payload: { now: at(Date.now() + 1000) } });
      expect(res.statusCode).toBe(409);
      expect(JSON.parse(res.body).code).toBe('SB_CLOCK_NOT_EVENT');
      const health = await wall.app.api.inject({ method: 'GET', url: '/healthz' });
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', scheduler: true });
    } finally {
      await wall.stop();
    }
  });
});
