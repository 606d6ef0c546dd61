// Back early and overdue, end to end on the event clock over real MQTT and SQLite, with the notices going to a
// local robot receiver (the WeCom group of special-care staff). 张婆婆 (B) is marked 住院 but her meter shows a
// drip (2 L/h) and then 12 L in a quarter hour: the drip leaves her away, the real use ends the absence
// ("water"). 王婆婆 (A) is marked 外出 until 18:00 and nothing is seen after: the 20:00 round sends one gentle
// notice (no alert), and the next round, still nothing seen, raises missed_check as for anyone at home.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, HOUR, MIN, at, type AlertsEnv } from './alertsHarness.js';
import { sampleSecrets, waitFor } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';

const token = (person: string) => sampleSecrets.people[person];
const A = 'gh-6-302'; // 王婆婆, paired with gh-vol-g2-1
const B = 'gh-6-504'; // 张婆婆, paired with gh-vol-g2-2

let rx: RobotReceiver;
let env: AlertsEnv;
beforeAll(async () => {
  rx = await new RobotReceiver().start();
  env = await startAlertsApp(undefined, {
    notify: { destinations: [{ id: 'gh-care-group', type: 'wecom', url: rx.robotUrl('wecom', 'gh-care-group'), reaches: { communities: ['guihuayuan'], roles: ['special_care'] } }] },
  });
});
afterAll(async () => {
  await env?.close();
  await rx?.stop();
});

const absences = async (h: string) => {
  const res = await env.t.app.api.inject({ method: 'GET', url: `/api/care/absences?householdId=${h}`, headers: { authorization: `Bearer ${token('gh-care-1')}` } });
  return JSON.parse(res.body).items as Array<Record<string, unknown>>;
};
const interval = (from: number, to: number, litres: number) => ({ start: at(from), end: at(to), litres });

describe('water use ends an absence; an overdue return is a gentle notice', () => {
  it('a drip leaves her away; 12 L in a quarter hour brings her back (ended by water)', async () => {
    await env.advance(T0);
    const a = await env.device('gh-wm-6-302');
    const b = await env.device('gh-wm-6-504');
    await a.send({ type: 'reading', ts: at(T0), totalM3: 20, intervals: [interval(T0 - 15 * MIN, T0, 5)] });
    await b.send({ type: 'reading', ts: at(T0), totalM3: 30, intervals: [interval(T0 - 15 * MIN, T0, 5)] });
    expect((await env.post('/api/care/absences', { householdId: A, reason: 'outing', until: at(T0 + 10 * HOUR) }, token('gh-vol-g2-1'))).statusCode).toBe(201);
    expect((await env.post('/api/care/absences', { householdId: B, reason: 'hospital', until: at(T0 + 30 * HOUR) }, token('gh-care-1'))).statusCode).toBe(201);

    const drip = [1, 2, 3, 4].map((i) => interval(T0 + (i - 1) * HOUR, T0 + i * HOUR, 2));
    await b.send({ type: 'reading', ts: at(T0 + 4 * HOUR), totalM3: 30.008, intervals: drip });
    expect((await absences(B))[0]).toMatchObject({ status: 'away', endedAt: null });

    await b.send({ type: 'reading', ts: at(T0 + 5 * HOUR), totalM3: 30.022, intervals: [interval(T0 + 4 * HOUR, T0 + 4 * HOUR + 45 * MIN, 2), interval(T0 + 4 * HOUR + 45 * MIN, T0 + 5 * HOUR, 12)] });
    expect((await absences(B))[0]).toMatchObject({ status: 'returned', endedAt: at(T0 + 5 * HOUR), endedBy: 'water', endNote: '回家用水（3月1日 13:00，12 升）' });
  });

  it('sends one notice at the 20:00 round for the elder due back at 18:00, and no alert', async () => {
    const a = await env.device('gh-wm-6-302');
    await a.send({ type: 'reading', ts: at(T0 + 12 * HOUR), totalM3: 20, intervals: [interval(T0, T0 + 12 * HOUR, 0)] });
    await env.advance(T0 + 12 * HOUR + MIN);
    const msg = await waitFor(() => rx.accepted('wecom').find((m) => m.text.includes('至今未见回家用水')), 'the overdue notice at the robot', 8000);
    expect(msg.text).toContain('【提示】王婆婆家(6-302) 登记外出至3月1日 18:00，至今未见回家用水');
    expect(msg.text).toContain('请联系老人或家属');
    expect(msg.text).not.toMatch(/1380000\d{4}/); // no phone numbers in a group message
    expect((await absences(A))[0]).toMatchObject({ status: 'overdue', promptedAt: at(T0 + 12 * HOUR) });
    expect((await env.alerts({ kind: 'missed_check' })).filter((x) => x.householdId === A)).toEqual([]);
  });

  it('the next round judges her as at home: missed_check, and no second notice', async () => {
    await env.advance(T0 + 26 * HOUR + MIN); // 10:00 the next day
    const alert = await env.waitAlert({ kind: 'missed_check', householdId: A });
    expect(alert).toMatchObject({ severity: 'major', title: '王婆婆家(6-302) 今日10:00巡访未见活动' });
    expect(rx.accepted('wecom').filter((m) => m.text.includes('至今未见回家用水'))).toHaveLength(1);
  });

  it('her use after the due time makes the absence plainly over', async () => {
    const a = await env.device('gh-wm-6-302');
    await a.send({ type: 'reading', ts: at(T0 + 27 * HOUR), totalM3: 20.01, intervals: [interval(T0 + 12 * HOUR, T0 + 27 * HOUR, 10)] });
    expect((await absences(A))[0]).toMatchObject({ status: 'over' });
  });
});
