// Runs one scenario against a target: provisions its devices, walks the timeline on the event clock (device
// messages from real MQTT clients with the devices' own credentials, clock steps, visitor registrations),
// checks the alerts that came against those expected and those forbidden, and returns a result the report
// prints. Nothing here prints.
//
// Between steps the clock advances in `tick`s (POST /api/replay/clock), so a deadline fires close to its time
// and an alert's openedAt can be held to a `by`. Each message is sent with QoS 1 and awaited: shaobing
// processes a batch in the same turn it acknowledges it, so once the PUBACK is back the reading, its state and
// every alert it opened are visible to the next API call.
//
// `notifications:` are checked at the end when the target captures what the service sends (in-process, see
// ./notifications.ts): the runner notes the wall time of every message and clock step, so an alert's notices
// are timed from the step that opened it. Against a running service (--url) they are reported as not checked.
import type { Scenario, Expectation, Subject, Step, Action } from './loader.js';
import type { Target } from './target.js';
import { ApiClient, ApiError, type Alert } from '../lib/api.js';
import { createDevice, type SimulatedDevice } from '../devices/index.js';
import { isoCst, formatDuration } from '../lib/time.js';
import { checkNotifications } from './notifications.js';
import { checkPhones, tap } from './phones.js';
import { PHONE_CHANNELS } from './schema.js';

export interface CheckResult {
  ok: boolean;
  /** "alert" (expected), "no alert" (forbidden), or who is (not) told of alerts. */
  type: 'alert' | 'no-alert' | 'notification';
  /** When it was checked: "end" or "+2h". */
  when: string;
  /** What it is about: "no smoke for householdId gh-6-302". */
  title: string;
  /** One line: what was expected, in full. */
  expected: string;
  /** What came instead (or the match), one line per item. */
  came: string[];
  line?: number;
  note?: string;
}

export interface ScenarioResult {
  name: string;
  file?: string;
  status: 'passed' | 'failed' | 'skipped' | 'error';
  pending?: string;
  error?: string;
  checks: CheckResult[];
  /** Notification expectations that were not checked (a remote target, a pending scenario), and why. */
  notifications?: { count: number; reason: string };
  /** Every alert of the run (opened or updated at or after the start). */
  alerts: Alert[];
  stats: { messages: number; clockSteps: number; virtualMs: number; wallMs: number };
}

export interface Progress {
  /** Virtual offset reached, ms. */
  at: number;
  end: number;
  step: number;
  steps: number;
  wallMs: number;
}

export interface RunOptions {
  onProgress?(p: Progress): void;
}

const rel = (s: Scenario, iso: string) => formatDuration(Date.parse(iso) - s.start);
const offset = (ms: number) => `+${formatDuration(ms)}`;

/** `smoke #3 critical open +0s ×2 [householdId gh-6-302] “6号楼302 烟感报警”` */
export function describeAlert(s: Scenario, a: Alert): string {
  const subject = (['deviceId', 'householdId', 'spaceId', 'plate'] as const)
    .filter((k) => a[k] !== undefined)
    .map((k) => `${k} ${a[k]}`)
    .join(', ');
  return `${a.kind} #${a.id} ${a.severity} ${a.status}, opened +${rel(s, a.openedAt)}${a.count > 1 ? `, ×${a.count}` : ''} [${subject}] “${a.title}”`;
}

function matchesSubject(a: Alert, subject: Subject): boolean {
  for (const [k, v] of Object.entries(subject)) if ((a as unknown as Record<string, unknown>)[k] !== v) return false;
  return true;
}

function titleOf(x: Expectation, negative: boolean): string {
  return `${negative ? `no ${x.kind ?? 'alert of any kind'}` : (x.kind ?? 'any alert')} for ${x.subjectLabel}`;
}

function describeExpectation(x: Expectation, negative: boolean): string {
  const parts = [
    x.severity,
    x.statuses ? x.statuses.join('|') : undefined,
    x.after !== undefined ? `not before ${offset(x.after)}` : undefined,
    x.by !== undefined ? `by ${offset(x.by)}` : undefined,
    x.count !== undefined ? `count ${x.count}` : undefined,
    x.titleContains ? `title contains “${x.titleContains}”` : undefined,
  ].filter(Boolean);
  const head = negative ? `no ${x.kind ?? 'alert of any kind'}` : (x.kind ?? 'any alert');
  return `${head} for ${x.subjectLabel}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** Why alert `a` does not satisfy `x` ([] when it does). */
function mismatches(s: Scenario, x: Expectation, a: Alert): string[] {
  const out: string[] = [];
  const opened = Date.parse(a.openedAt) - s.start;
  if (x.severity && a.severity !== x.severity) out.push(`severity ${a.severity}, expected ${x.severity}`);
  if (x.statuses && !x.statuses.includes(a.status)) out.push(`status ${a.status}, expected ${x.statuses.join(' or ')}`);
  if (x.by !== undefined && opened > x.by) out.push(`opened at ${offset(opened)}, expected by ${offset(x.by)}`);
  if (x.after !== undefined && opened < x.after) out.push(`opened at ${offset(opened)}, expected not before ${offset(x.after)}`);
  if (x.count !== undefined && a.count !== x.count) out.push(`count ${a.count}, expected ${x.count}`);
  if (x.titleContains && !a.title.includes(x.titleContains)) out.push(`title “${a.title}” lacks “${x.titleContains}”`);
  return out;
}

export function checkExpected(s: Scenario, x: Expectation, alerts: Alert[], when: string): CheckResult {
  const base = { type: 'alert' as const, when, title: titleOf(x, false), expected: describeExpectation(x, false), line: x.line, note: x.note };
  const missing: string[] = [];
  const wrong: string[] = [];
  const matched: Alert[] = [];
  for (const subject of x.subjects) {
    const candidates = alerts.filter((a) => (!x.kind || a.kind === x.kind) && matchesSubject(a, subject));
    const good = candidates.find((a) => mismatches(s, x, a).length === 0);
    if (good) {
      matched.push(good);
      continue;
    }
    const label = Object.entries(subject).map(([k, v]) => `${k} ${v}`).join(', ') || 'any subject';
    if (!candidates.length) missing.push(label);
    else for (const a of candidates.slice(0, 3)) wrong.push(`${describeAlert(s, a)} — ${mismatches(s, x, a).join('; ')}`);
  }
  const ok = missing.length === 0 && wrong.length === 0;
  if (ok) {
    const came =
      x.subjects.length === 1 ? [describeAlert(s, matched[0])] : [`${matched.length} of ${x.subjects.length}, e.g. ${describeAlert(s, matched[0])}`];
    return { ...base, ok, came };
  }
  const came: string[] = [];
  if (x.subjects.length > 1) came.push(`${matched.length} of ${x.subjects.length} as expected`);
  if (missing.length) {
    came.push(`nothing of kind ${x.kind ?? '(any)'} for ${missing.length > 5 ? `${missing.slice(0, 5).join('; ')} and ${missing.length - 5} more` : missing.join('; ')}`);
    // Show what did come for those subjects (another kind?) or of this kind (another subject?).
    const related = alerts.filter(
      (a) => x.subjects.some((sub) => Object.keys(sub).length > 0 && matchesSubject(a, sub)) || (x.kind !== undefined && a.kind === x.kind),
    );
    for (const a of related.slice(0, 5)) came.push(`came instead: ${describeAlert(s, a)}`);
    if (!related.length) came.push(alerts.length ? `alerts that came: ${alerts.slice(0, 4).map((a) => describeAlert(s, a)).join('; ')}` : 'no alert came at all');
  }
  came.push(...wrong.slice(0, 5));
  return { ...base, ok, came };
}

export function checkForbidden(s: Scenario, x: Expectation, alerts: Alert[], when: string): CheckResult {
  const offenders = alerts.filter((a) => (!x.kind || a.kind === x.kind) && x.subjects.some((sub) => matchesSubject(a, sub)));
  return {
    ok: offenders.length === 0,
    type: 'no-alert',
    when,
    title: titleOf(x, true),
    expected: describeExpectation(x, true),
    came: offenders.length ? offenders.slice(0, 5).map((a) => describeAlert(s, a)) : ['none came'],
    line: x.line,
    note: x.note,
  };
}

function notifyReason(target: Target | undefined, s: Scenario): string {
  if (s.pending) return 'not checked (skipped): the scenario is pending';
  return target?.remote
    ? 'not checked (skipped): the service runs elsewhere (--url), and what its destinations receive cannot be seen from here'
    : 'not checked (skipped): the in-process service was started without capture destinations (startLocal({ notifications }))';
}

/** "{{+2h}}" in API bodies → the RFC 3339 time 2 h after the start. */
function template(value: unknown, s: Scenario): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{\s*([+-]?[0-9a-z:.]+)\s*\}\}/g, (m, d: string) => {
      const ms = /^[+-]?\d/.test(d) ? parseOffset(d) : undefined;
      return ms === undefined ? m : isoCst(s.start + ms);
    });
  }
  if (Array.isArray(value)) return value.map((v) => template(v, s));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, template(v, s)]));
  return value;
}

function parseOffset(d: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/.exec(d);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2].matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
    total += Number(part[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[part[2] as 'ms']!;
  return m[1] === '-' ? -total : total;
}

export async function runScenario(s: Scenario, target: Target, opts: RunOptions = {}): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: s.name,
    file: s.file,
    status: 'passed',
    checks: [],
    alerts: [],
    stats: { messages: 0, clockSteps: 0, virtualMs: s.end, wallMs: 0 },
  };
  const isPhone = (c: string) => (PHONE_CHANNELS as readonly string[]).includes(c);
  const unchecked = s.notifications.filter((x) => (isPhone(x.channel) ? !target?.phone : !target?.notify));
  if (unchecked.length) result.notifications = { count: unchecked.length, reason: notifyReason(target, s) };
  if (s.pending) return { ...result, status: 'skipped', pending: s.pending };

  const wall0 = performance.now();
  const devices = new Map<string, SimulatedDevice>();
  const secrets = { ...target.secrets };
  let clockAt = -Infinity;
  let lastProgress = 0;
  /** (event time, wall time) of every message and clock step, in order: when each alert was set off. */
  const walls: Array<{ t: number; wall: number }> = [];
  const openedWall = (a: Alert): number => {
    const opened = Date.parse(a.openedAt);
    return (walls.find((w) => w.t >= opened) ?? walls.at(-1))?.wall ?? Date.now();
  };

  const progress = (at: number, step: number) => {
    const now = performance.now();
    if (!opts.onProgress || now - lastProgress < 500) return;
    lastProgress = now;
    opts.onProgress({ at, end: s.end, step, steps: s.steps.length, wallMs: now - wall0 });
  };

  /** Move the service's event clock to `t` (never back: a message's own ts may already have moved it). */
  const clock = async (t: number) => {
    if (t <= clockAt) return;
    walls.push({ t, wall: Date.now() });
    try {
      await target.api.advanceClock(t);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'SB_CLOCK_BACKWARDS')) throw err;
    }
    clockAt = t;
    result.stats.clockSteps++;
  };

  /** Tick the clock up to (not including) `t`, so deadlines on the way fire near their time. */
  const tickTo = async (t: number, stepIndex: number) => {
    for (let next = clockAt + s.tick; next < t; next += s.tick) {
      await clock(next);
      progress(next - s.start, stepIndex);
    }
  };

  const device = async (id: string): Promise<SimulatedDevice> => {
    let d = devices.get(id);
    if (!d) {
      const info = s.devices.get(id);
      if (!info) throw new Error(`no device '${id}'`);
      d = createDevice(info);
      devices.set(id, d);
    }
    if (!d.connected) {
      const secret = secrets[id];
      if (secret === undefined) throw new Error(`no secret for device '${id}' (give --secrets, or provision it in the scenario)`);
      await d.connect(target.mqttUrl, secret);
    }
    return d;
  };

  const alertsNow = async (): Promise<Alert[]> =>
    (await target.api.alerts()).filter((a) => Date.parse(a.updatedAt) >= s.start || Date.parse(a.openedAt) >= s.start);

  const check = async (alerts: Expectation[], noAlerts: Expectation[], when: string) => {
    const list = await alertsNow();
    for (const x of alerts) result.checks.push(checkExpected(s, x, list, when));
    for (const x of noAlerts) result.checks.push(checkForbidden(s, x, list, when));
    return list;
  };

  const act = async (a: Action, t: number) => {
    switch (a.type) {
      case 'visitor':
        await target.api.request('POST', '/api/visitors', { plate: a.plate, communityId: a.communityId, until: a.until });
        return;
      case 'api':
        await target.api.request(a.method, a.path, template(a.body, s));
        return;
      case 'resident': {
        // Filed at its step's time (the alert opens at the service's clock).
        await clock(t);
        // The household's own invite (as its grid would print it), then a filing with that token, like the phone page.
        const invites = await target.api.request<{ items: Array<{ householdId: string; path: string }> }>('GET', `/api/invites?buildingId=${encodeURIComponent(a.buildingId)}`);
        const invite = invites.items.find((i) => i.householdId === a.householdId);
        if (!invite) throw new Error(`resident: no invite for household ${a.householdId}`);
        await new ApiClient(target.api.baseUrl, invite.path.slice(invite.path.indexOf('#') + 1)).request('POST', '/api/resident/orders', a.file);
        return;
      }
      case 'clock':
        await clock(t);
        return;
      case 'check':
        await clock(t);
        await check(a.alerts, a.noAlerts, offset(t - s.start));
        return;
      case 'tap':
        // A person answers on the page they were texted: needs the in-process service's phone receiver.
        if (!target.phone) throw new Error('tap: texts are only seen in-process (the service runs elsewhere, or without phones)');
        await clock(t);
        await tap(target.phone, target.httpUrl, a.phone, a.answer);
        return;
      case 'disconnect':
        await Promise.all(a.deviceIds.map((id) => devices.get(id)?.disconnect(true)));
        return;
      case 'message': {
        const list = await Promise.all(a.deviceIds.map(device));
        // Bytes without a time are stamped on receipt: the clock must be there first.
        if (a.raw || list.some((d) => !d.encoder.carriesTime)) await clock(t);
        walls.push({ t, wall: Date.now() });
        await Promise.all(
          list.map((d) => {
            let bytes: Buffer;
            if (a.raw) bytes = a.raw;
            else if (a.helper) bytes = d.helper(a.helper, t, a.args).payload;
            else bytes = d.message(t, { ...a.payload!, ts: a.payload!.ts ?? isoCst(t) }).payload;
            result.stats.messages++;
            return d.publish(bytes, a.qos);
          }),
        );
        if (a.qos === 1) clockAt = Math.max(clockAt, t);
        return;
      }
    }
  };

  try {
    for (const p of s.provision) {
      try {
        const res = await target.api.request<{ secret: string }>('POST', '/api/devices', p);
        secrets[p.id] = res.secret;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'SB_DEVICE_EXISTS' && secrets[p.id] !== undefined)) throw err;
      }
    }
    try {
      await clock(s.start);
    } catch (err) {
      throw err instanceof ApiError && err.statusCode === 409
        ? new Error(`the service cannot replay this scenario: ${err.message} (it needs clock: event, and its clock must not be past ${isoCst(s.start)})`)
        : err;
    }
    for (const [i, step] of s.steps.entries()) {
      const t = s.start + step.at;
      await tickTo(t, i);
      await runStep(step, t, act);
      progress(step.at, i + 1);
    }
    await tickTo(s.start + s.end, s.steps.length);
    await clock(s.start + s.end);
    result.alerts = await check(s.alerts, s.noAlerts, 'end');
    if (s.notifications.length && target.notify) result.checks.push(...(await checkNotifications(s, target.notify, result.alerts, openedWall)));
    if (target.phone) result.checks.push(...(await checkPhones(s, target.phone, target.api, result.alerts, openedWall)));
  } catch (err) {
    result.status = 'error';
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await Promise.all([...devices.values()].map((d) => d.disconnect()));
    result.stats.wallMs = performance.now() - wall0;
  }
  if (result.status !== 'error' && result.checks.some((c) => !c.ok)) result.status = 'failed';
  return result;
}

async function runStep(step: Step, t: number, act: (a: Action, t: number) => Promise<void>): Promise<void> {
  for (const a of step.actions) await act(a, t);
}
