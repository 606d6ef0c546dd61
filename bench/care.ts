// bench/care: a labelled evaluation of the care alerts (issue #10). A population of lone elders
// (bench/carePopulation.ts: frugal to heavy users, days out, overnight and hospital stays, dripping toilets,
// hourly and NB meters, late, duplicate and skewed uploads, outages) with incidents injected — an elder who
// stops all use for 30–48 h — is replayed into a real shaobing over MQTT on the event clock (every meter
// logs in with its own secret, QoS 1), and every alert the service raises is judged against the ground truth:
// recall and delay (from the fall and from the last real use) for incidents, false alerts per elder-month by
// cause and by user class, for every care alert kind.
//
//   npm run bench:care -- [--elders 60] [--days 44] [--warmup 14] [--incidents 36] [--seed 1]
//                         [--variant base|irregular|steady] [--settings '{"rules":{…}}'] [--label text] [--write]
//                         [--no-register]   (the registered stays away are not posted to the API)
//
// --write puts the table into BENCHMARKS.md under "## Care alerts" (one sub-table per --label, replacing a
// table of the same label).
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/app.js';
import { hashSecret } from '../src/broker/secrets.js';
import type { AlertView } from '../src/alerts/types.js';
import { connectAll, disconnectAll, play, type SimEvent } from '../simulators/lib/play.js';
import { ApiClient, ApiError } from '../simulators/lib/api.js';
import { DAY, HOUR, cstHour } from '../simulators/lib/time.js';
import { buildPopulation, COMMUNITY_ID, VARIANTS, type Elder, type Population, type UserClass } from './carePopulation.js';


export interface CareResult {
  text: string;
  figures: Record<string, number>;
}

/** The grid member who registers absences (外出、住院、子女家) in the bench, as a volunteer or grid member would. */
const REGISTRAR = { id: 'cp-grid-1', token: 'care-bench-grid-member-token-0123456789' };
/** A hospital stay is registered this long after admission (backdated to it): nobody plans a fall ill. */
export const HOSPITAL_REGISTER_AFTER = 6 * HOUR;

/**
 * The registered stays away as the API calls a grid member makes on the event clock: a stay with family is
 * registered when the elder leaves; a hospital stay HOSPITAL_REGISTER_AFTER later, backdated to the admission.
 * `until` is the return the elder expects (the true return rounded up to the hour): an earlier return is
 * noticed by water use at home (docs/care.md "Back early").
 */
export function absenceEvents(pop: Population): SimEvent[] {
  const out: SimEvent[] = [];
  for (const e of pop.elders)
    for (const ab of e.absences) {
      if (!ab.registered) continue;
      const t = Math.round(ab.kind === 'hospital' ? ab.from + HOSPITAL_REGISTER_AFTER : ab.from);
      const body = {
        householdId: e.householdId,
        reason: ab.kind === 'hospital' ? 'hospital' : ab.kind === 'overnight' ? 'family' : 'outing',
        from: new Date(ab.from).toISOString(),
        until: new Date(Math.ceil(ab.to / HOUR) * HOUR).toISOString(),
      };
      // The service's clock is moved to the moment of the call first (the event clock follows the data,
      // which for NB meters arrives hours late): the absence is registered at its real time.
      out.push({ type: 'api', t, method: 'POST', path: '/api/replay/clock', body: { now: t }, what: 'clock' });
      out.push({ type: 'api', t, method: 'POST', path: '/api/care/absences', body, what: `absence ${e.householdId}` });
    }
  return out.sort((a, b) => a.t - b.t);
}

/** Absence registrations as the grid member (her own token and scope); the replay clock as the admin. */
class BenchApi extends ApiClient {
  readonly registrar: ApiClient;
  posted = 0;
  failed: string[] = [];
  constructor(base: string, admin: string) {
    super(base, admin);
    this.registrar = new ApiClient(base, REGISTRAR.token);
  }
  override async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    if (path === '/api/replay/clock')
      // A meter whose clock runs fast (skew ≤ 10 min) may already have moved the event clock past the call.
      return super.request<T>(method, path, body).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'SB_CLOCK_BACKWARDS') return undefined as T;
        this.failed.push((err as Error).message);
        throw err;
      });
    if (path !== '/api/care/absences') return super.request<T>(method, path, body);
    try {
      const r = await this.registrar.request<T>(method, path, body);
      this.posted++;
      return r;
    } catch (err) {
      this.failed.push((err as Error).message);
      throw err;
    }
  }
}

interface Seen {
  view: AlertView;
  first: AlertView;
  reopens: number;
  /** Every time it re-opened after resolving itself (flap hold: the same alert, its count raised), epoch ms. */
  reopenedAt: number[];
}

/** Run the population through a fresh shaobing and collect every alert as it changed. */
export async function runCare(
  pop: Population,
  settings: Record<string, unknown> = {},
  opts: { registerAbsences?: boolean } = {},
): Promise<{ seen: Map<number, Seen>; absencesPosted: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-care-'));
  const inv = [
    `id: ${COMMUNITY_ID}`,
    'name: 关爱基准小区',
    'grids: [{ id: cg1, name: 关爱网格 }]',
    'buildings:',
    '  - id: cb1',
    '    name: 1号楼',
    '    gridId: cg1',
    '    households:',
    ...pop.elders.map((e) => `      - { id: ${e.householdId}, room: "${1000 + e.index}", loneElder: true, displayName: 老人${e.index} }`),
    'people:',
    `  - { id: ${REGISTRAR.id}, displayName: 网格员, roles: [grid_member], grids: [cg1], tokenHash: "${hashSecret(REGISTRAR.token)}" }`,
    'devices:',
    ...pop.elders.map(
      (e) =>
        `  - { id: ${e.deviceId}, kind: water-meter, format: ${e.format}, householdId: ${e.householdId}, buildingId: cb1, ${
          e.format === 'nb-batch' ? `heartbeatSeconds: ${Math.round((24 / Number(e.meter[2])) * 3600)}, ` : ''
        }secretHash: "${hashSecret(e.secret)}" }`,
    ),
  ];
  const invPath = join(dir, 'care.yaml');
  writeFileSync(invPath, inv.join('\n') + '\n');
  const config = loadConfig({
    settingsPath: null,
    env: {},
    overrides: {
      ...settings,
      dataDir: dir,
      adminToken: 'care-bench-admin-token-0123456789abcdef',
      clock: 'event',
      communities: [invPath],
      mqtt: { port: 0, host: '127.0.0.1', wsPort: null },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'error', format: 'json' },
      store: { synchronous: 'normal' },
      telemetry: { sink: 'none' },
    },
  });
  const app = buildApp(config);
  await app.start();
  const seen = new Map<number, Seen>();
  app.bus.on('alert', 'care-bench', (v: AlertView) => {
    const s = seen.get(v.id);
    if (!s) seen.set(v.id, { view: v, first: v, reopens: 0, reopenedAt: [] });
    else {
      if (s.view.status === 'resolved' && v.status !== 'resolved') (s.reopens++, s.reopenedAt.push(Date.parse(v.updatedAt)));
      s.view = v;
    }
  });
  const secrets = Object.fromEntries(pop.elders.map((e) => [e.deviceId, e.secret]));
  let absencesPosted = 0;
  try {
    await connectAll(pop.devices.values(), `mqtt://127.0.0.1:${app.ports.mqtt}`, secrets);
    const api = new BenchApi(`http://127.0.0.1:${app.ports.http}`, 'care-bench-admin-token-0123456789abcdef');
    const uploads: SimEvent[] = pop.messages.map((m) => ({ type: 'mqtt' as const, ...m }));
    // Registrations go before the uploads of the same instant (stable merge by time).
    const events = opts.registerAbsences === false ? uploads : [...absenceEvents(pop), ...uploads].sort((a, b) => a.t - b.t);
    const stats = await play(
      events,
      pop.devices,
      { mqttUrl: '', secrets, speed: Infinity, api, maxInFlight: 256 },
    );
    if (stats.apiFailed) throw new Error(`bench:care: ${stats.apiFailed} API calls failed: ${api.failed.join('; ')}`);
    absencesPosted = api.posted;
    await api.advanceClock(pop.end + DAY);
    await disconnectAll(pop.devices.values());
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { seen, absencesPosted };
}

export const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const hourly = (e: Elder) => e.meter.startsWith('hourly');
const CARE_KINDS = ['no_water_use', 'missed_check', 'continuous_water_flow', 'device_offline', 'slow_leak'];

/** Why an alert that matches no incident was raised: what the elder was doing then. */
export function cause(e: Elder, a: Pick<AlertView, 'openedAt' | 'details'>): string {
  const t = Date.parse(a.openedAt);
  const from = typeof a.details.windowFrom === 'string' ? Date.parse(a.details.windowFrom) : t - 12 * HOUR;
  for (const o of e.outages) if (t >= o.from && from < o.to + 2 * HOUR) return 'meter outage';
  for (const ab of e.absences)
    if (from < ab.to && t >= ab.from - HOUR)
      return `${{ day_out: 'day out', overnight: 'overnight away', hospital: 'in hospital' }[ab.kind]}${ab.kind === 'day_out' ? '' : ab.registered ? ' (registered)' : ' (not registered)'}`;
  const h = cstHour(t);
  return h >= 21 || h < 9 ? 'at home, opened 21:00–09:00' : 'at home, opened 09:00–21:00';
}

/** The four groups the causes fall in: what the service could have known. */
export function causeGroup(c: string): 'registered' | 'unregistered' | 'home' | 'outage' {
  if (c === 'meter outage') return 'outage';
  if (c.endsWith('(registered)')) return 'registered';
  if (c.startsWith('at home') || c.startsWith('dripping flat, at home')) return 'home';
  return 'unregistered';
}
const GROUP_LABEL = { registered: 'registered absence', unregistered: 'unregistered absence', home: 'at home', outage: 'meter outage' };

export function judge(pop: Population, seen: Map<number, Seen>, wallMs: number, absencesPosted?: number): CareResult {
  const byDevice = new Map(pop.elders.map((e) => [e.deviceId, e]));
  const byHousehold = new Map(pop.elders.map((e) => [e.householdId, e]));
  const elderOf = (a: AlertView) => (a.deviceId && byDevice.get(a.deviceId)) || (a.householdId && byHousehold.get(a.householdId)) || undefined;
  const months = (pop.elders.length * (pop.end - pop.learnedFrom)) / (30 * DAY);
  const coldMonths = (pop.elders.length * (pop.learnedFrom - pop.start)) / (30 * DAY);
  const figures: Record<string, number> = {};
  const lines: string[] = [];

  // Incidents: found by the first no_water_use opened (or re-opened, its count raised) between the fall and the elder being found.
  const incidents = pop.elders.flatMap((e) => e.incidents.map((inc) => ({ e, inc })));
  // The replay ends at pop.end and the clock is then moved a day on to let pending deadlines fire: an alert
  // opened after the end judges a world with no data (every meter silent), not the population.
  const alertsOf = (kind: string) => [...seen.values()].filter((s) => s.view.kind === kind && Date.parse(s.first.openedAt) < pop.end);
  const caught = (kind: string) =>
    incidents.map(({ e, inc }) => {
      const hits = alertsOf(kind)
        .filter((s) => elderOf(s.first) === e)
        .flatMap((s) => [Date.parse(s.first.openedAt), ...s.reopenedAt])
        .filter((t) => t >= inc.start && t <= inc.end);
      const t = hits.length ? Math.min(...hits) : undefined;
      return { e, inc, t };
    });
  const nwu = caught('no_water_use');
  const found = nwu.filter((x) => x.t !== undefined);
  const delays = (xs: typeof found, from: 'start' | 'lastUse') => xs.map((x) => (x.t! - x.inc[from]) / HOUR);
  const hourlyFound = found.filter((x) => hourly(x.e));
  const drips = nwu.filter((x) => x.e.drip && x.e.drip.from < x.inc.start);
  figures.incidents = incidents.length;
  figures.found = found.length;
  figures.delayMedianH = median(delays(found, 'start'));
  figures.delayMaxH = Math.max(...delays(found, 'start'));
  figures.delayHourlyMedianH = median(delays(hourlyFound, 'start'));
  figures.delayHourlyMaxH = Math.max(...delays(hourlyFound, 'start'));
  lines.push(
    '| incidents (`no_water_use`) | all meters | hourly meters | NB meters (2–4 uploads a day) |',
    '| --- | ---: | ---: | ---: |',
  );
  const groups = [nwu, nwu.filter((x) => hourly(x.e)), nwu.filter((x) => !hourly(x.e))];
  const cell = (fn: (g: typeof nwu) => string) => groups.map(fn).join(' | ');
  lines.push(`| found | ${cell((g) => `${g.filter((x) => x.t !== undefined).length} / ${g.length}`)} |`);
  lines.push(`| … in flats with a dripping toilet | ${drips.filter((x) => x.t !== undefined).length} / ${drips.length} | | |`);
  lines.push(`| delay from the fall, median / max (h) | ${cell((g) => { const d = delays(g.filter((x) => x.t !== undefined), 'start'); return `${f1(median(d))} / ${f1(d.length ? Math.max(...d) : NaN)}`; })} |`);
  lines.push(`| delay from the last real use, median / max (h) | ${cell((g) => { const d = delays(g.filter((x) => x.t !== undefined), 'lastUse'); return `${f1(median(d))} / ${f1(d.length ? Math.max(...d) : NaN)}`; })} |`);
  // Why each miss was missed, from the ground truth: how much of the silence the meter's data covered, and
  // whether an alert was already open when the elder fell (it stays open through the fall: no new opening).
  const covered = (e: Elder, a: number, b: number) => {
    let ms = 0;
    const seenIv = new Set<string>();
    for (const m of pop.messages) {
      if (m.deviceId !== e.deviceId) continue;
      for (const iv of (m.canonical.intervals ?? []) as Array<{ start: string; end: string }>) {
        const s0 = Date.parse(iv.start) - e.skewMs;
        const e0 = Date.parse(iv.end) - e.skewMs;
        if (seenIv.has(iv.start) || e0 <= a || s0 >= b) continue;
        seenIv.add(iv.start);
        ms += Math.min(e0, b) - Math.max(s0, a);
      }
    }
    return ms;
  };
  const misses = nwu
    .filter((x) => x.t === undefined)
    .map(({ e, inc }) => {
      const open = alertsOf('no_water_use').some(
        (s) => elderOf(s.first) === e && Date.parse(s.first.openedAt) < inc.start && (s.view.resolvedAt === undefined || Date.parse(s.view.resolvedAt) > inc.start),
      );
      const why = open ? 'an alert was already open when the elder fell' : `${f1(covered(e, inc.start, inc.end) / HOUR)} of ${f1((inc.end - inc.start) / HOUR)} h of the silence covered by data`;
      return `${e.deviceId} (${e.cls}, ${e.meter}${e.drip ? `, drip ${f1(e.drip.lph)} L/h` : ''}): ${why}`;
    });
  if (misses.length) lines.push(`| missed | ${misses.join('; ')} | | |`);
  // Drips: a slow_leak notice for each dripping flat, and how long after a new drip began.
  const dripping = pop.elders.filter((e) => e.drip);
  const leakAt = (e: Elder) => {
    const ts = alertsOf('slow_leak').filter((s) => elderOf(s.first) === e).map((s) => Date.parse(s.first.openedAt));
    return ts.length ? Math.min(...ts) : undefined;
  };
  const newDrips = dripping.filter((e) => e.drip!.isNew);
  const newDelays = newDrips.map((e) => leakAt(e)).flatMap((t, i) => (t === undefined ? [] : [(t - newDrips[i].drip!.from) / HOUR]));
  figures.dripsFound = dripping.filter((e) => leakAt(e) !== undefined).length;
  figures.drips = dripping.length;
  lines.push(
    `| drips noticed (\`slow_leak\`) | ${figures.dripsFound} / ${dripping.length} flats; new during the run ${newDelays.length} / ${newDrips.length}, ${f1(median(newDelays))} h median / ${f1(newDelays.length ? Math.max(...newDelays) : NaN)} h max after the drip began | | |`,
  );
  const mc = caught('missed_check').filter((x) => x.t !== undefined);
  lines.push(`| also found by \`missed_check\` | ${mc.length} / ${incidents.length} | | |`);
  lines.push('');

  // False alerts: any care alert that matches no incident (device_offline: no outage), by cause and class.
  const isTrue = (kind: string, e: Elder, a: AlertView) => {
    const t = Date.parse(a.openedAt);
    if (kind === 'device_offline') return e.outages.some((o) => t >= o.from && t <= o.to + HOUR);
    if (kind === 'slow_leak') return !!e.drip && t >= e.drip.from;
    // No tap is left running in this population (a drip is not one): every continuous_water_flow is false.
    if (kind === 'continuous_water_flow') return false;
    return e.incidents.some((i) => t >= i.start && t <= i.end + 6 * HOUR);
  };
  const classes: UserClass[] = ['frugal', 'low', 'normal', 'heavy'];
  const perClassMonths = Object.fromEntries(classes.map((c) => [c, (pop.elders.filter((e) => e.cls === c).length * (pop.end - pop.learnedFrom)) / (30 * DAY)]));
  lines.push(
    `| false alerts per elder-month (days ${Math.round((pop.learnedFrom - pop.start) / DAY)}–${Math.round((pop.end - pop.start) / DAY)}, ${f1(months)} elder-months) | all | ${classes.join(' | ')} | cold start (first ${Math.round((pop.learnedFrom - pop.start) / DAY)} days) | false re-openings (same alert, count raised) |`,
    `| --- | ---: | ${classes.map(() => '---:').join(' | ')} | ---: | ---: |`,
  );
  const causeRows: string[] = [];
  for (const kind of CARE_KINDS) {
    const all = alertsOf(kind).filter((s) => elderOf(s.first));
    const falseOnes = all.filter((s) => !isTrue(kind, elderOf(s.first)!, s.first));
    const measured = falseOnes.filter((s) => Date.parse(s.first.openedAt) >= pop.learnedFrom);
    const cold = falseOnes.length - measured.length;
    const rate = measured.length / months;
    figures[`false_${kind}`] = rate;
    const perClass = classes.map((c) => f2(measured.filter((s) => elderOf(s.first)!.cls === c).length / (perClassMonths[c] || NaN)));
    // A false re-opening: an alert resolved itself and came back within the flap hold, outside any incident.
    const falseReopens = all.flatMap((s) => s.reopenedAt.filter((t) => t >= pop.learnedFrom && !isTrue(kind, elderOf(s.first)!, { ...s.first, openedAt: new Date(t).toISOString() })));
    figures[`false_reopen_${kind}`] = falseReopens.length / months;
    lines.push(
      `| \`${kind}\` (${all.length} raised, ${measured.length} false) | **${f2(rate)}** | ${perClass.join(' | ')} | ${f2(cold / (coldMonths || NaN))} | ${f2(falseReopens.length / months)} |`,
    );
    const byCause = new Map<string, number>();
    const byGroup = { registered: 0, unregistered: 0, home: 0, outage: 0 };
    for (const s of measured) {
      const e = elderOf(s.first)!;
      const dripping = e.drip && Date.parse(s.first.openedAt) >= e.drip.from ? 'dripping flat, ' : '';
      const c = kind === 'device_offline' ? (hourly(e) ? 'hourly meter' : 'NB meter') : `${kind === 'continuous_water_flow' ? dripping : ''}${cause(e, s.first)}`;
      byCause.set(c, (byCause.get(c) ?? 0) + 1);
      if (kind !== 'device_offline') byGroup[causeGroup(c)]++;
    }
    for (const [g, n] of Object.entries(byGroup)) figures[`false_${kind}_${g}`] = n / months;
    if (byCause.size)
      causeRows.push(
        `| \`${kind}\` | ${
          kind === 'device_offline'
            ? ''
            : `**${Object.entries(byGroup).map(([g, n]) => `${GROUP_LABEL[g as keyof typeof GROUP_LABEL]} ${n}`).join(' · ')}** — `
        }${[...byCause].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join('; ')} |`,
      );
  }
  lines.push('', '| kind | false alerts by cause (what the elder was doing; measured period) |', '| --- | --- |', ...causeRows);
  const classCount = Object.fromEntries(classes.map((c) => [c, pop.elders.filter((e) => e.cls === c).length]));
  const meters = pop.elders.reduce<Record<string, number>>((m, e) => ((m[e.meter] = (m[e.meter] ?? 0) + 1), m), {});
  lines.push(
    '',
    `Population: ${pop.elders.length} elders (${classes.map((c) => `${c} ${classCount[c]}`).join(', ')}); meters ${Object.entries(meters)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}; ${pop.elders.filter((e) => e.drip).length} dripping flats (${pop.elders.filter((e) => e.drip?.isNew).length} new during the run); ` +
      `${pop.elders.reduce((n, e) => n + e.absences.filter((a) => a.kind !== 'day_out').length, 0)} overnight/hospital stays, ${pop.elders.reduce((n, e) => n + e.absences.filter((a) => a.kind === 'day_out').length, 0)} days out, ` +
      `${pop.elders.reduce((n, e) => n + e.outages.length, 0)} outages; ${
        absencesPosted === undefined ? '' : `${absencesPosted} of them registered through \`POST /api/care/absences\` by a grid member; `
      }${pop.messages.length.toLocaleString('en-US')} uploads, replayed in ${f1(wallMs / 1000)} s.`,
  );
  return { text: lines.join('\n'), figures };
}

const CARE_INTRO = [
  '`npm run bench:care` (bench/care.ts, population in bench/carePopulation.ts): a labelled month of lone elders —',
  'frugal (3–55 L/day), low, normal and heavy (70–200 L/day) users; days out, overnight and hospital stays (half of',
  'them registered: a grid member posts them to `POST /api/care/absences` on the event clock — a stay with family',
  'when the elder leaves, a hospital stay 6 h after admission, backdated — unless `--no-register`); a fifth of the flats with a dripping toilet (1–3 L/h)',
  'and a tenth starting one during the run; hourly meters (15- or 60-minute intervals) and NB meters uploading 2–4',
  'batches a day, 3–5 % failed uploads carried to the next, 8 % of NB batches hours late, 4 % sent twice, a third of',
  'the clocks off by up to 10 min, a third of the meters with one 6–30 h outage (half keep their backlog) — and 36',
  'incidents: an elder who stops all use for 30–48 h (a fall), 80 % while awake. The uploads are replayed into a',
  'real shaobing over MQTT (QoS 1, each meter with its own secret) on the event clock, then the clock is moved a',
  'day past the end. An alert is *true* if it opens between a fall and the elder being found (`device_offline`:',
  'during an outage; `slow_leak`: after a drip began); every other one is false, and its cause is what the',
  'ground truth says the elder was doing. False alerts are counted from the end of the cold start (`--warmup`',
  'days); the cold start is shown apart. Targets (issue #10): false `no_water_use` ≤ 0.05 per elder-month, every',
  'incident found, delay ≤ 6 h median / ≤ 12 h max on meters reporting at least hourly.',
].join('\n');

/** The population's command-line options (bench/care.ts and bench/care-sweep.ts). */
export const POPULATION_ARGS = {
  elders: { type: 'string', default: '60' },
  days: { type: 'string', default: '44' },
  warmup: { type: 'string', default: '14' },
  incidents: { type: 'string', default: '36' },
  seed: { type: 'string', default: '1' },
  variant: { type: 'string', default: 'base' },
} as const;

/** The population options from parsed POPULATION_ARGS (an unknown variant is an error). */
export function populationOptions(values: { [K in keyof typeof POPULATION_ARGS]?: string }) {
  if (!(values.variant! in VARIANTS)) throw new Error(`--variant: one of ${Object.keys(VARIANTS).join(', ')}`);
  return {
    elders: Number(values.elders),
    days: Number(values.days),
    warmupDays: Number(values.warmup),
    incidents: Number(values.incidents),
    seed: values.seed!,
    variant: values.variant as keyof typeof VARIANTS,
  };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  // Arguments are read only when run as the benchmark: the test suite imports runCare and judge.
  const { values } = parseArgs({
    options: {
      ...POPULATION_ARGS,
      settings: { type: 'string', default: '{}' },
      label: { type: 'string' },
      write: { type: 'boolean', default: false },
      'no-register': { type: 'boolean', default: false },
    },
  });
  const opts = populationOptions(values);
  const pop = buildPopulation(opts);
  console.error(`population: ${pop.elders.length} elders, ${pop.messages.length} uploads, ${opts.days} days`);
  const t0 = performance.now();
  const run = await runCare(pop, JSON.parse(values.settings!) as Record<string, unknown>, { registerAbsences: !values['no-register'] });
  const wall = performance.now() - t0;
  const label = values.label ?? 'current rules';
  const result = judge(pop, run.seen, wall, run.absencesPosted);
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const block = [
    `### ${label} — seed ${opts.seed}, variant ${opts.variant}, ${opts.elders} elders × ${opts.days} days`,
    '',
    `\`npm run bench:care -- --seed ${opts.seed} --variant ${opts.variant} --elders ${opts.elders} --days ${opts.days}${values['no-register'] ? ' --no-register' : ''}${values.settings !== '{}' ? ` --settings '${values.settings}'` : ''}\`, measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, Node ${process.version}.`,
    '',
    result.text,
    '',
  ].join('\n');
  console.log(block);
  if (values.write) writeCareBlock(label, opts.variant, block);
  process.exit(0);
}

/** BENCHMARKS.md "## Care alerts": replace this label's block (and variant), keep the others. */
function writeCareBlock(label: string, variant: string, block: string): void {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const head = '## Care alerts';
  let start = text.indexOf(head);
  let body: string;
  let rest = '';
  let before: string;
  if (start < 0) {
    before = `${text.trimEnd()}\n\n`;
    body = `${head}\n\n${CARE_INTRO}\n`;
  } else {
    const end = text.indexOf('\n## ', start + 1);
    before = text.slice(0, start);
    body = end < 0 ? text.slice(start) : text.slice(start, end + 1);
    rest = end < 0 ? '' : text.slice(end + 1);
  }
  const key = `### ${label} — `;
  const blocks = body.split(/\n(?=### )/);
  const idx = blocks.findIndex((b) => b.startsWith(key) && b.includes(`variant ${variant},`));
  if (idx >= 0) blocks[idx] = block.trimEnd() + '\n';
  else blocks.push(block.trimEnd() + '\n');
  start = 0;
  writeFileSync(file, `${before}${blocks.join('\n').trimEnd()}\n${rest ? `\n${rest}` : ''}`);
  console.error(`BENCHMARKS.md: "${label}" (${variant}) written under "${head}"`);
}
