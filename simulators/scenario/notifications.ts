// A scenario's `notifications:` checked for real. The in-process service gets one capture destination per
// (channel, community, role) — and per (channel, community, grid, role) for grids the expectations name — all
// robots of a local receiver (simulators/lib/robotReceiver.ts, which checks shapes and signatures the way the
// platforms do). A role is told of an alert when its destination accepted a message whose text carries the
// alert's notice title. One destination per role keeps the robots' pacing (3 s per destination for WeCom and
// DingTalk) from stacking up roles behind each other.
//
// Times are wall times: delivery is paced and retried in real time whatever the event clock does, so `within`
// runs from the moment the runner sent the message (or moved the clock) that opened the alert.
import { randomBytes } from 'node:crypto';
import type { Inventory } from '../../src/config/schema.js';
import type { Db } from '../../src/store/db.js';
import type { Alert } from '../lib/api.js';
import { RobotReceiver, type Received } from '../lib/robotReceiver.js';
import { formatDuration } from '../lib/time.js';
import { ROLES, CHAT_CHANNELS } from './schema.js';

type ChatChannel = (typeof CHAT_CHANNELS)[number];
import type { Channel, NotificationExpectation, Role, Scenario, Subject } from './loader.js';
import type { CheckResult } from './runner.js';

/** One notification the service queued for a destination (its outbox row). */
export interface QueuedNotice {
  alertId: number | null;
  title: string;
  status: 'pending' | 'sent' | 'failed';
  /** Due now on the service's clock (else held, e.g. quiet hours, until `dueAt`). */
  due: boolean;
  dueAt: number;
  lastError?: string;
}

/** What the runner needs to check notifications: the receiver and where each role's messages go. */
export interface NotifyCapture {
  receiver: RobotReceiver;
  /** The capture destination of a role (of a grid, when given) of a community on a channel. */
  destination(channel: Channel, communityId: string, role: Role, grid?: string): string | undefined;
  /** What the service queued for a destination: while something is pending and due, more may come. */
  queued(destination: string): QueuedNotice[];
}

export interface CaptureDestination {
  id: string;
  type: ChatChannel;
  url: string;
  secret?: string;
  streetOps: boolean;
  reaches: { communities: string[]; grids?: string[]; roles: Role[] };
}

/** Start the receiver and lay out the destinations for these expectations (none when there are none). */
export async function startCapture(
  communities: readonly Inventory[],
  expectations: readonly NotificationExpectation[],
): Promise<{ receiver: RobotReceiver; destinations: CaptureDestination[]; lookup: NotifyCapture['destination'] }> {
  const secrets: Record<string, string> = {};
  const receiver = await new RobotReceiver({ secrets }).start();
  // Chat channels get capture robots; texts and calls are captured by a phone receiver (./phones.ts).
  const channels = [...new Set(expectations.map((x) => x.channel))].filter((c): c is ChatChannel => (CHAT_CHANNELS as readonly string[]).includes(c));
  const namedGrids = new Set(expectations.map((x) => x.grid).filter((g): g is string => !!g));
  const ids = new Map<string, string>();
  const destinations: CaptureDestination[] = [];
  const key = (channel: string, community: string, role: string, grid?: string) => [channel, community, grid ?? '', role].join('|');
  for (const channel of channels)
    for (const c of communities) {
      const scopes: Array<string | undefined> = [undefined, ...c.grids.map((g) => g.id).filter((g) => namedGrids.has(g))];
      for (const grid of scopes)
        for (const role of ROLES) {
          const id = ['sc', channel, c.id, grid, role].filter(Boolean).join('.').slice(0, 64);
          const secret = channel === 'wecom' ? undefined : `SEC${randomBytes(12).toString('hex')}`;
          if (secret) secrets[id] = secret;
          ids.set(key(channel, c.id, role, grid), id);
          destinations.push({
            id,
            type: channel,
            url: receiver.robotUrl(channel, id),
            secret,
            streetOps: false,
            reaches: { communities: [c.id], ...(grid ? { grids: [grid] } : {}), roles: [role] },
          });
        }
    }
  return { receiver, destinations, lookup: (channel, community, role, grid) => ids.get(key(channel, community, role, grid)) };
}

/** The service's outbox rows for one destination (the in-process target reads its database). */
export function outboxReader(db: Db, now: () => number): (destination: string) => QueuedNotice[] {
  const stmt = db.prepare(`SELECT alert_id, notice, status, due_at, last_error FROM outbox WHERE destination = ? ORDER BY id`);
  return (destination) => {
    const t = now();
    return (stmt.all(destination) as Array<{ alert_id: number | null; notice: string; status: QueuedNotice['status']; due_at: number; last_error: string | null }>).map((r) => ({
      alertId: r.alert_id,
      title: (JSON.parse(r.notice) as { title: string }).title,
      status: r.status,
      due: r.due_at <= t,
      dueAt: r.due_at,
      lastError: r.last_error ?? undefined,
    }));
  };
}

// ── checking ──────────────────────────────────────────────────────────────────────────────────────────────

/** Notice titles are `【紧急】` + a prefix by reason (src/notify/wording.ts) + the alert's title. */
const PREFIX = { opened: '', reminder: '提醒：', escalation: '升级：', visit: '请上门查看：' } as const;

function isNotice(text: string, title: string, as: NotificationExpectation['as']): boolean {
  if (as === 'any') return text.includes(title);
  return text.includes(`】${PREFIX[as]}${title}`);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const clip = (text: string) => {
  const first = text.split('\n').find((l) => l.trim()) ?? '';
  return `“${first.replace(/^#+\s*/, '').slice(0, 60)}”`;
};

function subjectLabel(subject: Subject): string {
  return Object.entries(subject).map(([k, v]) => ` for ${k} ${v}`).join('');
}

const who = (x: NotificationExpectation) =>
  [x.to.length ? `to ${x.to.join(', ')}` : '', x.notTo.length ? `not to ${x.notTo.join(', ')}` : ''].filter(Boolean).join('; ');

export function describeNotification(x: NotificationExpectation): string {
  const what = x.as === 'opened' ? '' : x.as === 'any' ? ' (any notice)' : ` (${x.as} notice)`;
  return `${x.kinds.join('|')}${subjectLabel(x.subject)} told on ${x.channel}${what} within ${formatDuration(x.within)} ${who(x)}${x.grid ? ` (people of grid ${x.grid})` : ''}`;
}

interface Verdict {
  decided: boolean;
  ok: boolean;
  /** Told within time (role → delay), and told late. */
  lines: string[];
}

/**
 * Wait until every expectation is decided — a role told in time, the time up, or nothing left in the
 * service's outbox for that role's destination — and say per expectation what was expected and what came.
 */
export async function checkNotifications(
  s: Scenario,
  capture: NotifyCapture,
  alerts: Alert[],
  openedWall: (a: Alert) => number,
  pollMs = 50,
): Promise<CheckResult[]> {
  const jobs = s.notifications.filter((x) => (CHAT_CHANNELS as readonly string[]).includes(x.channel)).map((x) => ({
    x,
    alerts: alerts.filter(
      (a) => x.kinds.includes(a.kind) && Date.parse(a.openedAt) >= s.start && Object.entries(x.subject).every(([k, v]) => (a as unknown as Record<string, unknown>)[k] === v),
    ).sort((a, b) => a.id - b.id),
  }));
  let verdicts: Verdict[] = [];
  for (;;) {
    verdicts = jobs.map((j) => judge(j.x, j.alerts, capture, openedWall));
    if (verdicts.every((v) => v.decided)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return jobs.map((j, i) => ({
    ok: verdicts[i].ok,
    type: 'notification' as const,
    when: 'end',
    title: `${j.x.kinds.join('|')}${subjectLabel(j.x.subject)} on ${j.x.channel} ${who(j.x)}`,
    expected: describeNotification(j.x),
    came: verdicts[i].lines,
    line: j.x.line,
    note: j.x.note,
  }));
}

function judge(x: NotificationExpectation, alerts: Alert[], capture: NotifyCapture, openedWall: (a: Alert) => number): Verdict {
  if (!alerts.length)
    return { decided: true, ok: false, lines: [`no ${x.kinds.join(' or ')} alert${subjectLabel(x.subject)} came, so nobody could be told of one`] };
  const now = Date.now();
  const lines: string[] = [];
  let decided = true;
  let ok = true;
  for (const a of alerts) {
    const t0 = openedWall(a);
    const late = now > t0 + x.within;
    const head = `${a.kind} #${a.id} “${a.title}”`;
    const told: string[] = [];
    const wrong: string[] = [];
    const inbox = (role: Role) => {
      const dest = capture.destination(x.channel, a.communityId, role, x.grid);
      const got = dest ? capture.receiver.received.filter((r) => r.robot === dest && r.platform === x.channel) : [];
      const hits = got.filter((r) => r.accepted && isNotice(r.text, a.title, x.as));
      const hit = hits.find((r) => r.at - t0 <= x.within);
      // More may come only while this alert's notice is queued and due for the destination (paced or retried).
      const idle = !dest || !capture.queued(dest).some((q) => q.status === 'pending' && q.due && q.alertId === a.id && isNotice(q.title, a.title, x.as));
      return { dest, got, hits, hit, idle };
    };
    // Every role told (whether listed or not), then the listed ones in the file's order.
    for (const role of ROLES) {
      const b = inbox(role);
      if (b.hit) told.push(`${role} after ${secs(b.hit.at - t0)}`);
      else if (b.hits.length) told.push(`${role} after ${secs(b.hits[0].at - t0)} (late)`);
    }
    for (const role of x.to) {
      const b = inbox(role);
      if (b.hit) continue;
      if (!late && !b.idle) decided = false;
      else wrong.push(`${role}: not told within ${formatDuration(x.within)} — ${whatCame(b.got, b.dest, a, t0, capture)}`);
    }
    for (const role of x.notTo) {
      const b = inbox(role);
      if (b.hit) wrong.push(`${role}: told after ${secs(b.hit.at - t0)}, expected not to be`);
      else if (!late && !b.idle) decided = false;
    }
    if (wrong.length) ok = false;
    lines.push(`${head}: ${told.length ? `told ${told.join(', ')}` : 'nobody told on ' + x.channel}`, ...wrong.map((w) => `  ${w}`));
  }
  // Undecided parts wait; the parts already wrong stay wrong, but the report waits for the whole picture.
  return { decided, ok: decided && ok, lines };
}

/** What a role's destination did get: other notices, rejected requests, or rows still held in the outbox. */
function whatCame(got: Received[], dest: string | undefined, a: Alert, t0: number, capture: NotifyCapture): string {
  if (!dest) return 'no capture destination for it';
  const parts = got.map((r) => `${r.accepted ? '' : `rejected (${r.error}) `}${clip(r.text || JSON.stringify(r.body))} after ${secs(r.at - t0)}`);
  const held = capture.queued(dest).filter((q) => q.alertId === a.id && q.status !== 'sent');
  for (const q of held)
    parts.push(q.status === 'failed' ? `“${q.title}” failed: ${q.lastError ?? '?'}` : q.due ? `“${q.title}” still queued` : `“${q.title}” held until ${new Date(q.dueAt).toISOString()}`);
  return parts.length ? `its ${dest} robot got ${parts.slice(0, 4).join('; ')}${parts.length > 4 ? `; and ${parts.length - 4} more` : ''}` : `its ${dest} robot got nothing`;
}
