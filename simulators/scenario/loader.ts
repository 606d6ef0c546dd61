// Scenario files: YAML → validated against scenario/schema.ts (every error with its path and line) → checked
// against the inventory (devices, helpers, selectors) → a normalised Scenario with times in ms, repeats
// expanded and steps in time order. Nothing runs until a file is entirely valid.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LineCounter, parseDocument } from 'yaml';
import type { CanonicalPayload } from '../../src/ingest/types.js';
import {
  scenarioSchema,
  SUBJECT_FIELDS,
  PHONE_CHANNELS,
  type PHONE_OUTCOMES,
  type CHANNELS,
  type NOTICE_AS,
  type ROLES,
  type ExpectationFile,
  type NotificationFile,
  type ScenarioFile,
  type SelectorFile,
  type StepFile,
} from './schema.js';
import { parseDuration, MINUTE } from '../lib/time.js';
import { createDevice, type DeviceIdentity } from '../devices/index.js';
import { deviceIndex, loadCommunities, type Inventory } from '../lib/inventory.js';
import { laneOfCamera } from '../../src/config/inventory.js';

export const DEFAULT_SCENARIO_START = '2026-03-02T08:00:00+08:00';

export type SubjectField = (typeof SUBJECT_FIELDS)[number];
export type Subject = Partial<Record<SubjectField, string>>;

export interface Expectation {
  kind?: string;
  /** One subject per alert expected (a list or a selector expands to several); [{}] = any subject. */
  subjects: Subject[];
  /** How the subjects were written, for the report: "householdId gh-6-302", "deviceId ×50 (gh-ps-*)". */
  subjectLabel: string;
  severity?: string;
  statuses?: string[];
  by?: number;
  after?: number;
  count?: number;
  titleContains?: string;
  note?: string;
  line?: number;
}

export type Channel = (typeof CHANNELS)[number];
export type Role = (typeof ROLES)[number];
export type NoticeAs = (typeof NOTICE_AS)[number];

/** `notifications:` — who is (and is not) told of which alerts, on which channel, within what wall time. */
export interface NotificationExpectation {
  channel: Channel;
  to: Role[];
  notTo: Role[];
  /** Wall ms from the message or clock step that opened the alert to the delivery. */
  within: number;
  /** Only people of this micro-grid count. */
  grid?: string;
  /** The alert kinds it is about: `kind`, or else every kind of the scenario's `alerts:`. */
  kinds: string[];
  /** The alerts' subject (deviceId, householdId, spaceId, plate), when given. */
  subject: Subject;
  as: NoticeAs;
  /** sms/call: numbers that must (not) be texted or called, what must become of it, and not before when. */
  numbers: string[];
  notNumbers: string[];
  outcome?: PhoneOutcome;
  after?: number;
  note?: string;
  line?: number;
}

export type PhoneOutcome = (typeof PHONE_OUTCOMES)[number];

/** `phones:` — the SMS platform and the people at the numbers (a local receiver plays them). */
export interface PhonesSpec {
  sms?: 'aliyun' | 'tencent';
  people: Record<string, { call?: 'answer' | 'no_answer' | 'busy' | 'off'; sms?: 'deliver' | 'fail' }>;
}

export type Action =
  | { type: 'visitor'; plate: string; communityId: string; until: number }
  | { type: 'api'; method: string; path: string; body?: unknown }
  | { type: 'resident'; householdId: string; buildingId: string; file: { type: 'report' | 'request'; category: string; text: string; placeId?: string } }
  | { type: 'message'; deviceIds: string[]; payload?: CanonicalPayload; helper?: string; args: Record<string, unknown>; raw?: Buffer; qos: 0 | 1 }
  | { type: 'disconnect'; deviceIds: string[] }
  | { type: 'clock' }
  | { type: 'tap'; phone: string; answer: 'safe' | 'unreachable' | 'ack' }
  | { type: 'check'; alerts: Expectation[]; noAlerts: Expectation[] };

export interface Step {
  /** Offset from the start, ms. */
  at: number;
  note?: string;
  line?: number;
  actions: Action[];
}

export interface ProvisionSpec {
  id: string;
  kind: string;
  communityId: string;
  format?: string;
  householdId?: string;
  spaceId?: string;
  gateId?: string;
  buildingId?: string;
  area?: string;
}

export interface Scenario {
  file?: string;
  name: string;
  description?: string;
  pending?: string;
  /** Epoch ms of offset 0. */
  start: number;
  tick: number;
  /** Offset the clock runs to before the final checks. */
  end: number;
  settings?: Record<string, unknown>;
  provision: ProvisionSpec[];
  steps: Step[];
  alerts: Expectation[];
  noAlerts: Expectation[];
  notifications: NotificationExpectation[];
  /** Texts and calls are captured (a `phones:` section, a tap, or sms/call expectations). */
  phones?: PhonesSpec;
  /** Every device the scenario may use, with where it is installed. */
  devices: Map<string, DeviceIdentity>;
}

export class ScenarioError extends Error {
  readonly code = 'SIM_SCENARIO_INVALID';
  constructor(
    readonly file: string,
    readonly errors: string[],
  ) {
    super(`${file}: invalid scenario (${errors.length} error${errors.length === 1 ? '' : 's'}):\n  - ${errors.join('\n  - ')}`);
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(scenarioSchema);

export interface LoadOptions {
  /** Communities the device ids are checked against (default: those of config/settings.yaml). */
  communities?: readonly Inventory[];
  /** Label used in messages (default: the path relative to the working directory). */
  label?: string;
}

export function loadScenarioFile(path: string, opts: LoadOptions = {}): Scenario {
  return parseScenario(readFileSync(path, 'utf8'), { ...opts, label: opts.label ?? (relative(process.cwd(), path) || path) });
}

/** Parse and check scenario YAML text; throws ScenarioError listing every problem. */
export function parseScenario(text: string, opts: LoadOptions = {}): Scenario {
  const label = opts.label ?? 'scenario';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length) {
    throw new ScenarioError(
      label,
      doc.errors.map((e) => `${label}:${e.linePos?.[0].line ?? '?'}: not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`),
    );
  }
  const raw = doc.toJS() as unknown;
  const lineOf = (path: Array<string | number>): number | undefined => {
    for (let p = path; p.length; p = p.slice(0, -1)) {
      const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  /** "file:line: /path"; the line is that of `linePath` when given (an unknown key's own line). */
  const where = (path: Array<string | number>, linePath = path) => {
    const line = lineOf(linePath);
    return `${label}${line ? `:${line}` : ''}: /${path.join('/')}`;
  };

  if (!validate(raw)) {
    // A value that fits no branch of an anyOf is one problem, not one per branch.
    const errs = validate.errors ?? [];
    const anyOfAt = new Set(errs.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
    const kept = errs
      .filter((e) => e.keyword === 'anyOf' || !anyOfAt.has(e.instancePath))
      .map((e) => {
        // Not a duration: the first branch's complaint says most (`status: opened` → must be one of …).
        if (e.keyword !== 'anyOf' || DURATION_KEYS.has(e.instancePath.split('/').at(-1) ?? '')) return e;
        return errs.find((b) => b.keyword !== 'anyOf' && b.instancePath === e.instancePath) ?? e;
      });
    throw new ScenarioError(label, dedupe(kept.map((e) => describe(e, where))));
  }
  return normalise(raw as ScenarioFile, opts.communities ?? loadCommunities(), where, lineOf, label);
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function describe(e: ErrorObject, where: (path: Array<string | number>, linePath?: Array<string | number>) => string): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    return `${where(path, [...path, key])}: unknown key '${key}'`;
  }
  if (e.keyword === 'required') return `${where(path)}: '${String(e.params.missingProperty)}' is required`;
  if (e.keyword === 'enum') return `${where(path)}: must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'anyOf' && DURATION_KEYS.has(String(path.at(-1)))) return `${where(path)}: must be a duration like 90s, 5m, 1h30m or 08:30`;
  return `${where(path)}: ${e.message ?? e.keyword}`;
}

const DURATION_KEYS = new Set(['at', 'by', 'after', 'every', 'until', 'for', 'tick', 'end', 'within']);

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

function normalise(
  f: ScenarioFile,
  communities: readonly Inventory[],
  where: (path: Array<string | number>) => string,
  lineOf: (path: Array<string | number>) => number | undefined,
  label: string,
): Scenario {
  const errors: string[] = [];
  const ms = (v: unknown, path: Array<string | number>): number => {
    const d = parseDuration(v);
    if (d === undefined) {
      errors.push(`${where(path)}: '${String(v)}' is not a duration`);
      return 0;
    }
    return d;
  };

  // Devices: the inventory's plus the ones this scenario provisions.
  const devices = deviceIndex(communities);
  const communityIds = new Set(communities.map((c) => c.id));
  const provision: ProvisionSpec[] = [];
  (f.provision ?? []).forEach((p, i) => {
    if (!communityIds.has(p.communityId)) errors.push(`${where(['provision', i, 'communityId'])}: no community '${p.communityId}'`);
    const { count, ...spec } = p;
    const ids = count ? Array.from({ length: count }, (_, n) => `${p.id}${String(n + 1).padStart(2, '0')}`) : [p.id];
    for (const id of ids) {
      if (devices.has(id)) errors.push(`${where(['provision', i, 'id'])}: device '${id}' is already in the inventory`);
      const s: ProvisionSpec = { ...spec, id };
      provision.push(s);
      const gate = communities.flatMap((c) => c.parkingLots.flatMap((l) => l.gates)).find((g) => g.id === s.gateId);
      const lane = s.kind === 'smart-gate' ? laneOfCamera(gate, id) : undefined;
      devices.set(id, { id, kind: s.kind, format: s.format ?? 'canonical', communityId: s.communityId, householdId: s.householdId, spaceId: s.spaceId, gateId: s.gateId, buildingId: s.buildingId, area: s.area, lane });
    }
  });

  const select = (sel: SelectorFile, path: Array<string | number>): string[] => {
    const globs = sel.ids === undefined ? undefined : (Array.isArray(sel.ids) ? sel.ids : [sel.ids]).map(globToRegExp);
    const ids = [...devices.values()]
      .filter(
        (d) =>
          (!sel.kind || d.kind === sel.kind) &&
          (!sel.communityId || d.communityId === sel.communityId) &&
          (!sel.format || d.format === sel.format) &&
          (!globs || globs.some((g) => g.test(d.id))),
      )
      .map((d) => d.id);
    if (!ids.length) errors.push(`${where(path)}: selects no device`);
    return ids;
  };

  const targets = (s: StepFile, path: Array<string | number>): string[] => {
    const ids = s.device ? [s.device] : s.devices ? s.devices : s.select ? select(s.select, [...path, 'select']) : [];
    const key = s.device ? 'device' : 'devices';
    ids.forEach((id, j) => {
      if (!devices.has(id)) errors.push(`${where(s.device ? [...path, key] : [...path, key, j])}: no device '${id}' in the inventory or provision list`);
    });
    return ids.filter((id) => devices.has(id));
  };

  const expectationsOf = (list: ExpectationFile[] | undefined, path: Array<string | number>, needKind: boolean): Expectation[] =>
    (list ?? []).map((x, i) => {
      const p = [...path, i];
      if (needKind && !x.kind) errors.push(`${where(p)}: 'kind' is required`);
      if (x.by !== undefined && x.after !== undefined && ms(x.after, [...p, 'after']) > ms(x.by, [...p, 'by']))
        errors.push(`${where(p)}: 'after' is later than 'by'`);
      // Subjects: the cross product is never wanted; one listed field may hold many values.
      const fields = SUBJECT_FIELDS.filter((k) => x[k] !== undefined);
      const many = fields.filter((k) => Array.isArray(x[k]));
      if (many.length + (x.select ? 1 : 0) > 1) errors.push(`${where(p)}: only one subject field may list several values`);
      const fixed: Subject = {};
      for (const k of fields) if (!Array.isArray(x[k])) fixed[k] = x[k] as string;
      let subjects: Subject[] = [fixed];
      let subjectLabel = fields.filter((k) => !Array.isArray(x[k])).map((k) => `${k} ${fixed[k]}`).join(', ');
      const listField = many[0];
      const listed = listField ? (x[listField] as string[]) : x.select ? select(x.select, [...p, 'select']) : undefined;
      if (listed) {
        const field: SubjectField = listField ?? 'deviceId';
        subjects = listed.map((v) => ({ ...fixed, [field]: v }));
        const what = x.select ? Object.entries(x.select).map(([k, v]) => `${k}=${String(v)}`).join(' ') : listed.slice(0, 3).join(', ') + (listed.length > 3 ? ', …' : '');
        subjectLabel = [subjectLabel, `${field} ×${listed.length} (${what})`].filter(Boolean).join(', ');
      }
      return {
        kind: x.kind,
        subjects,
        subjectLabel: subjectLabel || 'any subject',
        severity: x.severity,
        statuses: x.status === undefined ? undefined : Array.isArray(x.status) ? [...x.status] : [x.status],
        by: x.by === undefined ? undefined : ms(x.by, [...p, 'by']),
        after: x.after === undefined ? undefined : ms(x.after, [...p, 'after']),
        count: x.count,
        titleContains: x.titleContains,
        note: x.note,
        line: lineOf(p),
      };
    });

  const start = f.start ? Date.parse(f.start) : Date.parse(DEFAULT_SCENARIO_START);
  const steps: Step[] = [];
  let defaultCommunity: string | undefined;

  (f.timeline ?? []).forEach((s, i) => {
    const path: Array<string | number> = ['timeline', i];
    const at = ms(s.at, [...path, 'at']);
    const actions: Action[] = [];
    const kinds = [s.payload, s.helper, s.raw].filter((v) => v !== undefined).length;
    const hasTarget = s.device !== undefined || s.devices !== undefined || s.select !== undefined;
    if ([s.device, s.devices, s.select].filter((v) => v !== undefined).length > 1) errors.push(`${where(path)}: give one of device, devices, select`);
    if (kinds > 1) errors.push(`${where(path)}: give one of payload, helper, raw`);
    if (kinds && !hasTarget) errors.push(`${where(path)}: a message needs a device (device, devices or select)`);
    if (hasTarget && !kinds && !s.disconnect) errors.push(`${where(path)}: what should the device do? (payload, helper, raw or disconnect)`);
    if (s.args && !s.helper) errors.push(`${where([...path, 'args'])}: args go with a helper`);
    if (s.encoding && s.raw === undefined) errors.push(`${where([...path, 'encoding'])}: encoding goes with raw`);
    if (s.repeat && !kinds) errors.push(`${where([...path, 'repeat'])}: only messages repeat`);
    const ids = hasTarget ? targets(s, path) : [];
    defaultCommunity ??= ids.map((id) => devices.get(id)?.communityId).find(Boolean);

    if (s.visitor) {
      const communityId = s.visitor.communityId ?? defaultCommunity ?? (communities.length === 1 ? communities[0].id : undefined);
      if (!communityId) errors.push(`${where([...path, 'visitor'])}: which community? (communityId)`);
      else if (!communityIds.has(communityId)) errors.push(`${where([...path, 'visitor', 'communityId'])}: no community '${communityId}'`);
      actions.push({ type: 'visitor', plate: s.visitor.plate, communityId: communityId ?? '', until: start + at + ms(s.visitor.for, [...path, 'visitor', 'for']) });
    }
    if (s.api) actions.push({ type: 'api', method: s.api.method, path: s.api.path, body: s.api.body });
    if (s.resident) {
      const h = communities.flatMap((c) => c.buildings.flatMap((b) => b.households.map((x) => ({ id: x.id, buildingId: b.id })))).find((x) => x.id === s.resident!.household);
      if (!h) errors.push(`${where([...path, 'resident', 'household'])}: no household '${s.resident.household}'`);
      else actions.push({ type: 'resident', householdId: h.id, buildingId: h.buildingId, file: s.resident.file });
    }
    if (kinds) {
      if (s.helper) {
        for (const id of ids) {
          const d = devices.get(id)!;
          const helpers = Object.keys(createDevice({ ...d }).helpers);
          if (!helpers.includes(s.helper)) errors.push(`${where([...path, 'helper'])}: ${d.kind} ${id} has no helper '${s.helper}' (it has: ${helpers.join(', ')})`);
        }
      }
      let raw: Buffer | undefined;
      if (s.raw !== undefined) {
        raw = Buffer.from(s.raw, s.encoding ?? 'utf8');
        if (s.encoding === 'hex' && !/^([0-9a-f]{2})*$/i.test(s.raw.replace(/\s+/g, ''))) errors.push(`${where([...path, 'raw'])}: not hex`);
        if (s.encoding === 'hex') raw = Buffer.from(s.raw.replace(/\s+/g, ''), 'hex');
      }
      actions.push({ type: 'message', deviceIds: ids, payload: s.payload as CanonicalPayload | undefined, helper: s.helper, args: s.args ?? {}, raw, qos: s.qos ?? 1 });
    }
    if (s.disconnect) {
      if (!hasTarget) errors.push(`${where([...path, 'disconnect'])}: which devices? (device, devices or select)`);
      actions.push({ type: 'disconnect', deviceIds: ids });
    }
    if (s.clock) actions.push({ type: 'clock' });
    if (s.tap) actions.push({ type: 'tap', phone: s.tap.phone, answer: s.tap.answer });
    if (s.check) {
      actions.push({
        type: 'check',
        alerts: expectationsOf(s.check.alerts, [...path, 'check', 'alerts'], true),
        noAlerts: expectationsOf(s.check.noAlerts, [...path, 'check', 'noAlerts'], false),
      });
    }
    if (!actions.length && !hasTarget) errors.push(`${where(path)}: a step needs something to do (a message, clock, visitor, api, disconnect, tap or check)`);

    const line = lineOf(path);
    if (s.repeat) {
      const every = ms(s.repeat.every, [...path, 'repeat', 'every']);
      if (every <= 0) errors.push(`${where([...path, 'repeat', 'every'])}: must be more than 0`);
      const until = s.repeat.until !== undefined ? ms(s.repeat.until, [...path, 'repeat', 'until']) : undefined;
      if (until === undefined && s.repeat.times === undefined) errors.push(`${where([...path, 'repeat'])}: give 'until' or 'times'`);
      const times = s.repeat.times ?? (until !== undefined && every > 0 ? Math.floor((until - at) / every) + 1 : 1);
      for (let n = 0; n < Math.min(times, 100_000) && every > 0; n++) steps.push({ at: at + n * every, note: s.note, line, actions });
    } else steps.push({ at, note: s.note, line, actions });
  });

  // Stable sort: steps at the same time keep the file's order.
  steps.sort((a, b) => a.at - b.at);
  const tick = f.tick === undefined ? MINUTE : ms(f.tick, ['tick']);
  if (tick <= 0) errors.push(`${where(['tick'])}: must be more than 0`);
  const last = steps.length ? steps[steps.length - 1].at : 0;
  const end = f.end === undefined ? last : ms(f.end, ['end']);
  if (end < last) errors.push(`${where(['end'])}: ends before the last step (+${last / 1000}s)`);

  const alerts = expectationsOf(f.alerts, ['alerts'], true);
  const noAlerts = expectationsOf(f.noAlerts, ['noAlerts'], false);
  const notifications = notificationsOf(f.notifications ?? [], alerts, communities, ms, where, lineOf, errors);
  if (errors.length) throw new ScenarioError(label, dedupe(errors));
  return {
    name: f.name,
    description: f.description,
    pending: f.pending,
    start,
    tick,
    end,
    settings: f.settings as Record<string, unknown> | undefined,
    provision,
    steps,
    alerts,
    noAlerts,
    notifications,
    phones:
      f.phones || notifications.some((n) => n.numbers.length || n.notNumbers.length) || steps.some((st) => st.actions.some((a) => a.type === 'tap'))
        ? { sms: f.phones?.sms, people: { ...(f.phones?.people ?? {}) } }
        : undefined,
    devices,
  };
}

function notificationsOf(
  list: NotificationFile[],
  alerts: Expectation[],
  communities: readonly Inventory[],
  ms: (v: unknown, path: Array<string | number>) => number,
  where: (path: Array<string | number>) => string,
  lineOf: (path: Array<string | number>) => number | undefined,
  errors: string[],
): NotificationExpectation[] {
  const grids = new Set(communities.flatMap((c) => c.grids.map((g) => g.id)));
  const expectedKinds = [...new Set(alerts.map((a) => a.kind).filter((k): k is string => !!k))];
  return list.map((n, i) => {
    const p = ['notifications', i];
    const to = [...(n.to ?? [])];
    const notTo = [...(n.notTo ?? [])];
    const numbers = [...(n.numbers ?? [])];
    const notNumbers = [...(n.notNumbers ?? [])];
    const phone = (PHONE_CHANNELS as readonly string[]).includes(n.channel);
    if (phone) {
      if (!numbers.length && !notNumbers.length) errors.push(`${where(p)}: whose phone? give 'numbers' and/or 'notNumbers'`);
      for (const k of ['to', 'notTo', 'grid', 'as'] as const) if (n[k] !== undefined) errors.push(`${where([...p, k])}: not for ${n.channel} (texts and calls go to numbers)`);
      for (const x of numbers) if (notNumbers.includes(x)) errors.push(`${where(p)}: '${x}' is both in 'numbers' and in 'notNumbers'`);
    } else {
      if (!to.length && !notTo.length) errors.push(`${where(p)}: who? give 'to' and/or 'notTo' (roles)`);
      for (const k of ['numbers', 'notNumbers', 'outcome', 'after'] as const) if (n[k] !== undefined) errors.push(`${where([...p, k])}: only for sms and call`);
    }
    for (const r of to) if (notTo.includes(r)) errors.push(`${where(p)}: '${r}' is both in 'to' and in 'notTo'`);
    if (n.grid !== undefined && !grids.has(n.grid)) errors.push(`${where([...p, 'grid'])}: no micro-grid '${n.grid}' in any community`);
    if (!n.kind && !expectedKinds.length) errors.push(`${where(p)}: which alerts? give 'kind' (the scenario expects no alert)`);
    const subject: Subject = {};
    for (const k of ['deviceId', 'householdId', 'spaceId', 'plate'] as const) if (n[k] !== undefined) subject[k] = n[k];
    const within = ms(n.within, [...p, 'within']);
    if (within <= 0) errors.push(`${where([...p, 'within'])}: must be more than 0`);
    return {
      channel: n.channel,
      to,
      notTo,
      within,
      grid: n.grid,
      kinds: n.kind ? [n.kind] : expectedKinds,
      subject,
      as: n.as ?? 'opened',
      numbers,
      notNumbers,
      outcome: n.outcome,
      after: n.after === undefined ? undefined : ms(n.after, [...p, 'after']),
      note: n.note,
      line: lineOf(p),
    };
  });
}
