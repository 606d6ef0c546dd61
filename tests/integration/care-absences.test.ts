// Absences (外出、住院、子女家) and visits as signs of life, end to end on the event clock over real MQTT and a real
// SQLite store. Four lone elders of 桂花园 6号楼 use water at 08:00 and then nothing for 13 hours (one NB-style
// batch of hourly zero intervals): 王婆婆 (A) is marked 住院 → no no_water_use, no missed_check; 程爷爷 (C) had a
// volunteer's visit at 14:00 → neither; 张婆婆 (B) and 田嬢嬢 (D) → both alerts (the control). Marking B away
// resolves hers; a visit to D resolves his. Ending A's absence early brings the watch back: 12 quiet hours
// after she is back, no_water_use opens. Absences survive a restart.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, HOUR, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { sampleSecrets } from '../helpers.js';

const token = (person: string) => sampleSecrets.people[person];
const A = 'gh-6-302'; // 王婆婆, paired with gh-vol-g2-1
const B = 'gh-6-504'; // 张婆婆, paired with gh-vol-g2-2
const C = 'gh-6-501'; // 程爷爷, paired with gh-vol-g2-2
const D = 'gh-6-101'; // 田嬢嬢, paired with gh-vol-g2-1
const meter = (h: string) => `gh-wm-${h.slice(3)}`;
const DAY = 24 * HOUR;

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(async () => {
  await env?.close();
});

const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, person: string, payload?: unknown) => {
  const res = await env.t.app.api.inject({ method, url, headers: { authorization: `Bearer ${token(person)}` }, payload: payload as object });
  return { statusCode: res.statusCode, body: JSON.parse(res.body) };
};
/** One NB-style upload: hourly intervals from..to, all zero, the register unchanged. */
const quiet = (from: number, to: number, totalM3: number) => {
  const intervals = [];
  for (let t = from; t < to; t += HOUR) intervals.push({ start: at(t), end: at(t + HOUR), litres: 0 });
  return { type: 'reading', ts: at(to), totalM3, intervals };
};
const open = async (kind: string, householdId: string) =>
  (await env.alerts({ kind })).filter((a) => a.householdId === householdId && a.status !== 'resolved');

describe('absences and visits as the care desk tells them', () => {
  let absenceA = 0;
  let absenceB = 0;

  it('checks who may mark an elder away and what span, with coded errors', async () => {
    await env.advance(T0);
    const good = { householdId: A, reason: 'hospital', from: at(T0 - HOUR), until: at(T0 + 2 * DAY), note: '市一医院' };
    expect((await call('POST', '/api/care/absences', 'gh-vol-g2-2', good)).statusCode).toBe(404); // not her volunteer
    expect((await call('POST', '/api/care/absences', 'gh-head-g1', good)).statusCode).toBe(404); // other grid
    expect(await call('POST', '/api/care/absences', 'gh-duty-1', good)).toMatchObject({ statusCode: 403, body: { code: 'SB_FORBIDDEN' } });
    const bad = async (body: Record<string, unknown>) => (await call('POST', '/api/care/absences', 'gh-vol-g2-1', { ...good, ...body })).body.code;
    expect(await bad({ until: at(T0 - 2 * HOUR) })).toBe('SB_ABSENCE_RANGE'); // before from
    expect(await bad({ from: at(T0 - 3 * HOUR), until: at(T0 - 2 * HOUR) })).toBe('SB_ABSENCE_RANGE'); // already over
    expect(await bad({ from: at(T0 - 8 * DAY) })).toBe('SB_ABSENCE_RANGE'); // too far back
    expect(await bad({ until: 'next tuesday' })).toBe('SB_ABSENCE_RANGE');
    expect(await bad({ until: at(T0 + 91 * DAY) })).toBe('SB_ABSENCE_TOO_LONG');
    expect(await bad({ reason: 'holiday' })).toBe('SB_VALIDATION');
    expect(await bad({ extra: 1 })).toBe('SB_VALIDATION');

    const res = await call('POST', '/api/care/absences', 'gh-vol-g2-1', good);
    expect(res).toMatchObject({
      statusCode: 201,
      body: { householdId: A, reason: 'hospital', reasonLabel: '住院', note: '市一医院', from: at(T0 - HOUR), until: at(T0 + 2 * DAY), status: 'away', endedAt: null, createdBy: 'gh-vol-g2-1' },
    });
    absenceA = res.body.id;
    const clash = await call('POST', '/api/care/absences', 'gh-care-1', { householdId: A, reason: 'family', from: at(T0 + DAY), until: at(T0 + 4 * DAY) });
    expect(clash).toMatchObject({ statusCode: 409, body: { code: 'SB_ABSENCE_OVERLAP' } });
  });

  it('neither no_water_use nor missed_check for the elder in hospital or the one a volunteer saw; both for the others', async () => {
    for (const h of [A, B, C, D]) {
      const m = await env.device(meter(h));
      await m.send({ type: 'reading', ts: at(T0), totalM3: 20, intervals: [{ start: at(T0 - 15 * MIN), end: at(T0), litres: 5 }] });
    }
    await env.advance(T0 + 6 * HOUR);
    expect((await env.post('/api/care/visits', { householdId: C, note: '精神不错' }, token('gh-vol-g2-2'))).statusCode).toBe(201);
    for (const h of [A, B, C, D]) await (await env.device(meter(h))).send(quiet(T0, T0 + 13 * HOUR, 20));
    await env.advance(T0 + 13 * HOUR + 15 * MIN); // past the 20:00 round and the 12 h windows' settling

    const nwu = await env.waitAlert({ kind: 'no_water_use', householdId: D });
    expect(nwu.status).toBe('open');
    await env.waitAlert({ kind: 'no_water_use', householdId: B });
    await env.waitAlert({ kind: 'missed_check', householdId: B });
    await env.waitAlert({ kind: 'missed_check', householdId: D });
    expect(await open('no_water_use', A)).toEqual([]);
    expect(await open('missed_check', A)).toEqual([]);
    expect(await open('no_water_use', C)).toEqual([]);
    expect(await open('missed_check', C)).toEqual([]);
  });

  it('marking an elder away resolves the alerts her silence raised', async () => {
    const res = await call('POST', '/api/care/absences', 'gh-vol-g2-2', { householdId: B, reason: 'family', from: at(T0), until: at(T0 + 3 * DAY), note: '在女儿家' });
    expect(res.statusCode).toBe(201);
    absenceB = res.body.id;
    const [nwu] = (await env.alerts({ kind: 'no_water_use' })).filter((a) => a.householdId === B);
    const [mc] = (await env.alerts({ kind: 'missed_check' })).filter((a) => a.householdId === B);
    expect((await env.waitStatus(nwu.id, 'resolved')).resolution).toBe('已登记子女家，不在家');
    expect((await env.waitStatus(mc.id, 'resolved')).resolution).toBe('已登记子女家，不在家');
    const elders = (await call('GET', '/api/care/elders', 'gh-vol-g2-2')).body.items as Array<Record<string, any>>;
    expect(elders.find((e) => e.householdId === B)!.away).toMatchObject({ id: absenceB, reasonLabel: '子女家', status: 'away' });
    expect(elders.find((e) => e.householdId === C)!.away).toBeNull();
  });

  it("a volunteer's visit resolves no_water_use (a sign of life, as for the rounds)", async () => {
    const [nwu] = (await env.alerts({ kind: 'no_water_use' })).filter((a) => a.householdId === D);
    expect((await env.post('/api/care/visits', { householdId: D }, token('gh-vol-g2-1'))).statusCode).toBe(201);
    expect((await env.waitStatus(nwu.id, 'resolved')).resolution).toBe('上门探访（gh-vol-g2-1）');
  });

  it('lists absences within scope; moves and ends them with coded errors', async () => {
    const mine = (await call('GET', '/api/care/absences', 'gh-vol-g2-2')).body.items as Array<{ id: number }>;
    expect(mine.map((a) => a.id)).toEqual([absenceB]);
    const all = (await call('GET', '/api/care/absences', 'gh-care-1')).body.items as Array<{ id: number }>;
    expect(all.map((a) => a.id).sort()).toEqual([absenceA, absenceB].sort());
    expect((await call('GET', `/api/care/absences?householdId=${A}`, 'gh-vol-g2-2')).statusCode).toBe(404);

    const far = await call('PATCH', `/api/care/absences/${absenceB}`, 'gh-vol-g2-2', { until: at(T0 + 100 * DAY) });
    expect(far).toMatchObject({ statusCode: 400, body: { code: 'SB_ABSENCE_TOO_LONG' } });
    const longer = await call('PATCH', `/api/care/absences/${absenceB}`, 'gh-vol-g2-2', { until: at(T0 + 4 * DAY) });
    expect(longer).toMatchObject({ statusCode: 200, body: { until: at(T0 + 4 * DAY), status: 'away' } });
    expect((await call('PATCH', `/api/care/absences/${absenceB}`, 'gh-vol-g2-1', { until: at(T0 + 5 * DAY) })).statusCode).toBe(404);

    const back = await call('POST', `/api/care/absences/${absenceA}/end`, 'gh-vol-g2-1', { note: '已出院回家' });
    expect(back).toMatchObject({ statusCode: 200, body: { status: 'returned', endedAt: at(T0 + 13 * HOUR + 15 * MIN), endedBy: 'gh-vol-g2-1', endNote: '已出院回家' } });
    expect((await call('POST', `/api/care/absences/${absenceA}/end`, 'gh-vol-g2-1', {})).body.code).toBe('SB_ABSENCE_ENDED');
  });

  it('once she is back, 12 quiet hours raise no_water_use again', async () => {
    await (await env.device(meter(A))).send(quiet(T0 + 13 * HOUR, T0 + 26 * HOUR, 20));
    await env.advance(T0 + 26 * HOUR + 15 * MIN);
    const a = await env.waitAlert({ kind: 'no_water_use', householdId: A });
    expect(a.details).toMatchObject({ windowTo: at(T0 + 26 * HOUR), litres: 0 });
    // Counted from her return (13:15), not from the morning before she went in.
    expect(Date.parse(a.details.windowFrom as string)).toBeGreaterThanOrEqual(T0 + 13 * HOUR + 15 * MIN);
  });

  it('keeps absences across a restart: B stays away, unjudged', async () => {
    const dataDir = env.t.dataDir;
    await env.close({ keepData: true });
    env = await startAlertsApp(dataDir);
    const list = await call('GET', `/api/care/absences?householdId=${B}`, 'gh-vol-g2-2');
    expect(list.body.items).toMatchObject([{ id: absenceB, status: 'away', until: at(T0 + 4 * DAY) }]);
    await (await env.device(meter(B))).send(quiet(T0 + 13 * HOUR, T0 + 38 * HOUR, 20));
    await (await env.device(meter(D))).send(quiet(T0 + 13 * HOUR, T0 + 38 * HOUR, 20)); // D: visited at 21:15, then silent
    await env.advance(T0 + 38 * HOUR + 15 * MIN);
    await env.waitAlert({ kind: 'no_water_use', householdId: D, status: 'open' }); // the control: D's new silence
    expect(await open('no_water_use', B)).toEqual([]);
    expect(await open('missed_check', B)).toEqual([]);
  });
});
