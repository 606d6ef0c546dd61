// Texts and calls in scenarios. The in-process service's notify.phone points at a local PhoneReceiver that plays
// Alibaba Cloud and Tencent Cloud (checking their signatures) and the people at the numbers (`phones.people`:
// this one does not answer, that one's texts fail). A timeline step can act as a person: `tap` opens the page
// the number was last texted and presses a button (已联系上，平安 / 联系不上 / 确认接警). `notifications:` with
// channel sms or call say which numbers must (not) be texted or called about an alert, within what wall time,
// not before what event time (`after`), and with what outcome (from the alert's timeline).
import type { Db } from '../../src/store/db.js';
import type { Alert, ApiClient } from '../lib/api.js';
import { PhoneReceiver, type PhoneRecord } from '../lib/phoneReceiver.js';
import { sampleReceiverOptions, samplePhoneSettings } from '../lib/phoneSample.js';
import { formatDuration } from '../lib/time.js';
import { maskPhone } from '../../src/notify/phone/mask.js';
import { PHONE_CHANNELS } from './schema.js';
import type { NotificationExpectation, PhonesSpec, Scenario } from './loader.js';
import type { CheckResult } from './runner.js';

export interface PhoneCapture {
  receiver: PhoneReceiver;
  /** The service's queued texts and calls (outbox rows): which alert each is about, and whether more may come. */
  rows(): Array<{ id: number; alertId: number | null; channel: 'sms' | 'call'; status: string; due: boolean }>;
  /** Texts and calls the platform accepted whose receipt the service still waits for. */
  awaiting(alertId: number): number;
}

/** Start the receiver; the settings to merge under the scenario's own notify.phone (templates, endpoints, keys). */
export async function startPhones(spec: PhonesSpec, dataDir: string): Promise<{ receiver: PhoneReceiver; settings: Record<string, unknown> }> {
  const receiver = await new PhoneReceiver(sampleReceiverOptions()).start();
  for (const [number, p] of Object.entries(spec.people)) receiver.person(number, p);
  return { receiver, settings: samplePhoneSettings(receiver, dataDir, { sms: spec.sms }) };
}

export function phoneCapture(receiver: PhoneReceiver, db: Db, now: () => number): PhoneCapture {
  const rows = db.prepare(`SELECT id, alert_id, destination, status, due_at FROM outbox WHERE destination IN ('phone:sms', 'phone:call') ORDER BY id`);
  const awaiting = db.prepare(`SELECT COUNT(*) FROM phone_messages WHERE alert_id = ? AND status = 'accepted'`).pluck();
  return {
    receiver,
    rows: () =>
      (rows.all() as Array<{ id: number; alert_id: number | null; destination: string; status: string; due_at: number }>).map((r) => ({
        id: r.id,
        alertId: r.alert_id,
        channel: r.destination === 'phone:sms' ? 'sms' : 'call',
        status: r.status,
        due: r.due_at <= now(),
      })),
    awaiting: (alertId) => awaiting.get(alertId) as number,
  };
}

/** A person presses a button on the page they were texted last; waits (wall time) for the text to arrive. */
export async function tap(capture: PhoneCapture, httpUrl: string, phone: string, answer: 'safe' | 'unreachable' | 'ack', waitMs = 10_000): Promise<string> {
  const end = Date.now() + waitMs;
  let sms: PhoneRecord | undefined;
  while (!(sms = capture.receiver.sms(phone).at(-1)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  if (!sms) throw new Error(`tap: ${maskPhone(phone)} was never texted, so there is no page to tap`);
  const code = /\/c\/([A-Za-z0-9]+)/.exec(sms.text ?? '')?.[1];
  if (!code) throw new Error(`tap: the text to ${maskPhone(phone)} carries no page: “${sms.text}”`);
  const res = await fetch(`${httpUrl}/c/${code}/${answer}`, { method: 'POST' });
  if (!res.ok) throw new Error(`tap: ${answer} on /c/${code} answered ${res.status}`);
  return code;
}

const isPhone = (x: NotificationExpectation) => (PHONE_CHANNELS as readonly string[]).includes(x.channel);
const ACTION = { sms: 'SendSms', call: 'SingleCallByTts' } as const;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function describePhone(x: NotificationExpectation): string {
  const who = [x.numbers.length ? `to ${x.numbers.map(maskPhone).join(', ')}` : '', x.notNumbers.length ? `not to ${x.notNumbers.map(maskPhone).join(', ')}` : ''].filter(Boolean).join('; ');
  const verb = x.channel === 'sms' ? 'texted' : 'called';
  return `${x.kinds.join('|')} ${verb} ${who} within ${formatDuration(x.within)}${x.after !== undefined ? `, not before +${formatDuration(x.after)} of event time` : ''}${x.outcome ? `, outcome ${x.outcome}` : ''}`;
}

/** Wait until each sms/call expectation is decided and say per alert and number what came. */
export async function checkPhones(s: Scenario, capture: PhoneCapture, api: ApiClient, alerts: Alert[], openedWall: (a: Alert) => number, pollMs = 100): Promise<CheckResult[]> {
  const jobs = s.notifications.filter(isPhone).map((x) => ({
    x,
    alerts: alerts
      .filter((a) => x.kinds.includes(a.kind) && Date.parse(a.openedAt) >= s.start && Object.entries(x.subject).every(([k, v]) => (a as unknown as Record<string, unknown>)[k] === v))
      .sort((a, b) => a.id - b.id),
  }));
  if (!jobs.length) return [];
  let verdicts: Array<{ decided: boolean; ok: boolean; lines: string[] }> = [];
  for (;;) {
    const timelines = new Map<number, Array<{ at: string; type: string; data?: Record<string, unknown> }>>();
    for (const id of new Set(jobs.flatMap((j) => j.alerts.map((a) => a.id))))
      timelines.set(id, (await api.request<{ timeline: Array<{ at: string; type: string; data?: Record<string, unknown> }> }>('GET', `/api/alerts/${id}`)).timeline);
    const rows = capture.rows();
    verdicts = jobs.map((j) => judge(j.x, j.alerts, capture, rows, timelines, openedWall));
    if (verdicts.every((v) => v.decided)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return jobs.map((j, i) => ({
    ok: verdicts[i].ok,
    type: 'notification' as const,
    when: 'end',
    title: `${j.x.kinds.join('|')} by ${j.x.channel}`,
    expected: describePhone(j.x),
    came: verdicts[i].lines,
    line: j.x.line,
    note: j.x.note,
  }));
}

function judge(
  x: NotificationExpectation,
  alerts: Alert[],
  capture: PhoneCapture,
  rows: ReturnType<PhoneCapture['rows']>,
  timelines: Map<number, Array<{ at: string; type: string; data?: Record<string, unknown> }>>,
  openedWall: (a: Alert) => number,
): { decided: boolean; ok: boolean; lines: string[] } {
  if (!alerts.length) return { decided: true, ok: false, lines: [`no ${x.kinds.join(' or ')} alert came, so nobody could be ${x.channel === 'sms' ? 'texted' : 'called'} about one`] };
  const channel = x.channel as 'sms' | 'call';
  const now = Date.now();
  let decided = true;
  let ok = true;
  const lines: string[] = [];
  for (const a of alerts) {
    const t0 = openedWall(a);
    const late = now > t0 + x.within;
    const ids = new Set(rows.filter((r) => r.alertId === a.id && r.channel === channel).map((r) => String(r.id)));
    // More may come while something of this alert is queued and due, or a receipt is awaited (a call chain).
    const idle = !rows.some((r) => r.alertId === a.id && r.status === 'pending' && r.due) && capture.awaiting(a.id) === 0;
    const sent = capture.receiver.records.filter((r) => r.ok && r.action === ACTION[channel] && r.outId !== undefined && ids.has(r.outId));
    const events = (timelines.get(a.id) ?? []).filter((e) => e.type === 'phone' && e.data?.channel === channel);
    const opened = Date.parse(a.openedAt);
    const wrong: string[] = [];
    const came = sent.map((r) => `${maskPhone(r.number!)} after ${secs(r.at - t0)}`);
    for (const n of x.numbers) {
      const masked = maskPhone(n);
      const hit = sent.find((r) => r.number === n.replace(/^\+86/, '') && r.at - t0 <= x.within);
      const accepted = events.find((e) => e.data?.number === masked && e.data?.outcome === 'accepted');
      const outcome = x.outcome ? events.find((e) => e.data?.number === masked && e.data?.outcome === x.outcome) : undefined;
      if (!hit || (x.outcome && !outcome)) {
        if (!late && !idle) decided = false;
        else {
          const seen = events.filter((e) => e.data?.number === masked).map((e) => String(e.data?.outcome));
          wrong.push(`${masked}: ${!hit ? `not ${channel === 'sms' ? 'texted' : 'called'} within ${formatDuration(x.within)}` : `outcome ${x.outcome} never came`}${seen.length ? ` (timeline: ${seen.join(', ')})` : ''}`);
        }
        continue;
      }
      if (x.after !== undefined && accepted && Date.parse(accepted.at) - opened < x.after)
        wrong.push(`${masked}: ${channel === 'sms' ? 'texted' : 'called'} at +${formatDuration(Date.parse(accepted.at) - opened)} of event time, expected not before +${formatDuration(x.after)}`);
    }
    for (const n of x.notNumbers) {
      const hit = sent.find((r) => r.number === n.replace(/^\+86/, '') && r.at - t0 <= x.within);
      if (hit) wrong.push(`${maskPhone(n)}: ${channel === 'sms' ? 'texted' : 'called'} after ${secs(hit.at - t0)}, expected not to be`);
      else if (!late && !idle) decided = false;
    }
    if (wrong.length) ok = false;
    lines.push(`${a.kind} #${a.id} “${a.title}”: ${came.length ? `${channel === 'sms' ? 'texted' : 'called'} ${came.join(', ')}` : `nobody ${channel === 'sms' ? 'texted' : 'called'}`}`, ...wrong.map((w) => `  ${w}`));
  }
  return { decided, ok: decided && ok, lines };
}
