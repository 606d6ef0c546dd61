// bench/care-sweep: the no_water_use trade-off — delay from the fall against false alerts — for several settings
// on the SAME labelled population (bench/carePopulation.ts), in one run. The pure rule is driven directly
// through the unit-test harness (tests/unit/rules/harness.ts: state, deadline and open alert kept as the engine
// keeps them), each meter's uploads in arrival order with their own (skewed) timestamps, the registered stays
// away marked as bench/care.ts posts them (a hospital stay 6 h after admission, backdated). No broker, no
// store: seconds instead of minutes, so several settings can be compared; the figures of the default are
// checked against the full replay (npm run bench:care), which they match within a few alerts (the event clock
// there fires a deadline when any meter's data passes it, here at the meter's own next upload).
//
//   npx tsx bench/care-sweep.ts [--rule no_water_use|missed_check|continuous_water_flow] [--seed 1] [--variant base] [--elders 60] [--days 44] [--warmup 14]
//                               [--causes] [--settings '[{"label":"default"},{"label":"x","improbability":0.01}]']
import { parseArgs } from 'node:util';
import { noWaterUse } from '../src/rules/noWaterUse.js';
import { missedCheck } from '../src/rules/missedCheck.js';
import { continuousWaterFlow } from '../src/rules/continuousWaterFlow.js';
import type { Rule, RuleConfigBase } from '../src/rules/lib/types.js';
import type { AbsenceFacts } from '../src/rules/lib/care.js';
import { Harness, device, elder as elderHousehold } from '../tests/unit/rules/harness.js';
import { buildPopulation, type Elder, type Population } from './carePopulation.js';
import { HOSPITAL_REGISTER_AFTER, POPULATION_ARGS, cause, causeGroup, f1, f2, median, populationOptions } from './care.js';
import { DAY, HOUR } from '../simulators/lib/time.js';

export interface SweepRow {
  label: string;
  found: number;
  incidents: number;
  delayMedian: number;
  delayMax: number;
  hourlyMedian: number;
  hourlyMax: number;
  /** False alerts per elder-month (measured period) by group, and all. */
  home: number;
  unregistered: number;
  registered: number;
  outage: number;
  all: number;
  reopens: number;
  /** False alerts (measured period) by finer cause: what the elder was doing, and what the meter showed. */
  causes: Map<string, number>;
}

/**
 * The finer causes of a false alert, one per dimension, for finding the biggest: what the ground truth says the
 * elder was doing, which test fired (`basis`: the learned model, the 24 h net, the cold start's fixed rule), the
 * meter's cadence, a dripping flat or not, and the elder's class.
 */
export function fineCauses(e: Elder, at: number, details: Record<string, unknown>): string[] {
  const c = cause(e, { openedAt: new Date(at).toISOString(), details });
  const what = c.startsWith('at home') ? 'at home' : c.replace(/ \((not )?registered\)/, (_, not) => (not ? ', not registered' : ', registered'));
  const basis = details.basis === 'max' ? '24 h net' : details.basis === 'fixed' ? 'fixed rule (cold start)' : details.basis === 'model' ? 'learned model' : undefined;
  return [
    `doing: ${what}`,
    ...(basis ? [`test: ${basis}`] : []),
    `meter: ${e.meter.startsWith('hourly') ? 'hourly' : 'NB'}`,
    `flat: ${e.drip && at >= e.drip.from ? 'dripping' : 'no drip'}`,
    `elder: ${e.cls}`,
  ];
}

interface Opened {
  at: number;
  reopen: boolean;
  details: Record<string, unknown>;
}

export const RULES = { no_water_use: noWaterUse, missed_check: missedCheck, continuous_water_flow: continuousWaterFlow } as Record<string, Rule<unknown, RuleConfigBase>>;

/** Every opening of `rule` for one elder under `config`. */
function runElder(rule: Rule<unknown, RuleConfigBase>, e: Elder, pop: Population, config: Record<string, unknown>): Opened[] {
  const dev = device('water-meter', { id: e.deviceId, householdId: e.householdId, ...(e.format === 'nb-batch' ? { heartbeatSeconds: Math.round((24 / Number(e.meter[2])) * 3600) } : {}) });
  const h = new Harness(rule, {
    device: dev,
    household: { ...elderHousehold, id: e.householdId },
    subject: rule.subjectType === 'household' ? e.householdId : e.deviceId,
    config,
    periodic: true,
    heartbeatSeconds: dev.heartbeatSeconds ?? 3600,
  });
  const hold = ((config.flapHoldMinutes as number | undefined) ?? (rule.defaults.flapHoldMinutes as number)) * 60_000;
  type Ev = { t: number; kind: 'msg'; m: Population['messages'][number] } | { t: number; kind: 'away'; a: AbsenceFacts };
  const evs: Ev[] = [];
  for (const m of pop.messages) if (m.deviceId === e.deviceId) evs.push({ t: m.t, kind: 'msg', m });
  e.absences.forEach((ab, i) => {
    if (!ab.registered) return;
    const t = Math.round(ab.kind === 'hospital' ? ab.from + HOSPITAL_REGISTER_AFTER : ab.from);
    evs.push({ t, kind: 'away', a: { id: i + 1, reason: ab.kind === 'hospital' ? 'hospital' : ab.kind === 'overnight' ? 'family' : 'outing', from: ab.from, until: Math.ceil(ab.to / HOUR) * HOUR } });
  });
  evs.sort((a, b) => a.t - b.t || (a.kind === 'away' ? -1 : 1));
  const out: Opened[] = [];
  let lastResolved = -Infinity;
  const step = (fn: () => void, now: number) => {
    const was = h.alert;
    const n0 = h.opened;
    const l0 = h.log.length;
    fn();
    // An opening, even one resolved in the same evaluation (continuous_water_flow's run already over in a batch).
    if (h.opened > n0) {
      const open = h.log.slice(l0).find((l) => l.action.type === 'open')!.action as { details: Record<string, unknown> };
      out.push({ at: now, reopen: now - lastResolved < hold, details: open.details });
    }
    if ((was || h.opened > n0) && !h.alert) lastResolved = now;
  };
  const advance = (t: number) => {
    while (h.deadline !== undefined && h.deadline <= t) {
      const due = h.deadline;
      step(() => h.advance(due), due);
    }
  };
  for (const ev of evs) {
    advance(ev.t);
    if (ev.kind === 'away') {
      const absences = [...(h.care?.absences ?? []), ev.a];
      h.care = { ...h.care, absences };
      step(() => h.run({ type: 'absence', household: e.householdId, by: 'grid', change: 'marked', absence: ev.a }, ev.t), ev.t);
    } else {
      const c = ev.m.canonical as Record<string, unknown>;
      const ts = Date.parse(String(c.ts));
      const r = { deviceId: e.deviceId, kind: 'water-meter' as const, communityId: 'c1', gridId: 'g1', type: 'reading', ts, receivedAt: ev.t, payload: c as never };
      step(() => h.read(r, ev.t), ev.t);
    }
  }
  advance(pop.end + DAY);
  return out;
}

export function sweep(pop: Population, label: string, config: Record<string, unknown>, rule = noWaterUse as unknown as Rule<unknown, RuleConfigBase>): SweepRow {
  const months = (pop.elders.length * (pop.end - pop.learnedFrom)) / (30 * DAY);
  const groups = { registered: 0, unregistered: 0, home: 0, outage: 0 };
  const causes = new Map<string, number>();
  let reopens = 0;
  const delays: number[] = [];
  const hourlyDelays: number[] = [];
  let incidents = 0;
  for (const e of pop.elders) {
    const opened = runElder(rule, e, pop, config);
    for (const inc of e.incidents) {
      incidents++;
      const hit = opened.find((o) => o.at >= inc.start && o.at <= inc.end && o.at < pop.end);
      if (!hit) continue;
      delays.push((hit.at - inc.start) / HOUR);
      if (e.meter.startsWith('hourly')) hourlyDelays.push((hit.at - inc.start) / HOUR);
    }
    for (const o of opened) {
      // After pop.end there is no data (bench/care.ts judges the same way): not the population's doing.
      if (o.at < pop.learnedFrom || o.at >= pop.end || e.incidents.some((i) => o.at >= i.start && o.at <= i.end + 6 * HOUR)) continue;
      if (o.reopen) {
        reopens++;
        continue;
      }
      const g = causeGroup(cause(e, { openedAt: new Date(o.at).toISOString(), details: o.details }));
      groups[g]++;
      for (const fc of fineCauses(e, o.at, o.details)) causes.set(fc, (causes.get(fc) ?? 0) + 1);
      if (process.env.SWEEP_DEBUG === g) console.error(JSON.stringify({ e: e.deviceId, cls: e.cls, L: Math.round(e.dailyLitres), meter: e.meter, drip: e.drip?.lph, at: new Date(o.at + 8 * HOUR).toISOString().slice(5, 16), basis: o.details.basis, h: o.details.coveredHours, chance: o.details.chance, rec: o.details.longestUsualHours, x: o.details.explanation }));
    }
  }
  const per = (n: number) => n / months;
  return {
    label,
    found: delays.length,
    incidents,
    delayMedian: median(delays),
    delayMax: delays.length ? Math.max(...delays) : NaN,
    hourlyMedian: median(hourlyDelays),
    hourlyMax: hourlyDelays.length ? Math.max(...hourlyDelays) : NaN,
    home: per(groups.home),
    unregistered: per(groups.unregistered),
    registered: per(groups.registered),
    outage: per(groups.outage),
    all: per(groups.home + groups.unregistered + groups.registered + groups.outage),
    reopens: per(reopens),
    causes: new Map([...causes].sort((a, b) => a[0].split(':')[0].localeCompare(b[0].split(':')[0]) || b[1] - a[1]).map(([k, n]) => [k, per(n)])),
  };
}

export const SWEEP_HEADER = [
  '| setting | found | delay from the fall, median / max (h) | hourly meters, median / max (h) | false per elder-month: all | at home | unregistered stay away | registered | meter outage | false re-openings |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
export const sweepLine = (r: SweepRow) =>
  `| ${r.label} | ${r.found} / ${r.incidents} | ${f1(r.delayMedian)} / ${f1(r.delayMax)} | ${f1(r.hourlyMedian)} / ${f1(r.hourlyMax)} | ${f2(r.all)} | ${f2(r.home)} | ${f2(r.unregistered)} | ${f2(r.registered)} | ${f2(r.outage)} | ${f2(r.reopens)} |`;

const DIMENSIONS = ['doing', 'test', 'meter', 'flat', 'elder'];
export const CAUSE_HEADER = [
  '| setting | false per elder-month by what the elder was doing | … by the test that fired | … by meter | … by flat | … by elder class |',
  '| --- | --- | --- | --- | --- | --- |',
];
/** One table row: each dimension's causes, biggest first. */
export const causeCells = (r: SweepRow) =>
  DIMENSIONS.map((d) =>
    [...r.causes]
      .filter(([k]) => k.startsWith(`${d}: `))
      .map(([k, n]) => `${k.slice(d.length + 2)} ${f2(n)}`)
      .join(' · '),
  ).join(' | ');

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''));
if (isMain) {
  const { values } = parseArgs({
    options: {
      ...POPULATION_ARGS,
      settings: { type: 'string', default: '[{"label":"default"}]' },
      rule: { type: 'string', default: 'no_water_use' },
      causes: { type: 'boolean', default: false },
    },
  });
  const pop = buildPopulation(populationOptions(values));
  console.log(`seed ${values.seed}, variant ${values.variant}, ${values.elders} elders × ${values.days} days`);
  console.log(SWEEP_HEADER.join('\n'));
  const causeLines: string[] = [];
  for (const s of JSON.parse(values.settings!) as Array<Record<string, unknown>>) {
    const { label, ...config } = s;
    const rule = RULES[values.rule!];
    if (!rule) throw new Error(`--rule: one of ${Object.keys(RULES).join(', ')}`);
    const row = sweep(pop, String(label ?? JSON.stringify(config)), config, rule);
    console.log(sweepLine(row));
    if (values.causes) causeLines.push(`| ${row.label} | ${causeCells(row)} |`);
  }
  if (causeLines.length) console.log(['', ...CAUSE_HEADER, ...causeLines].join('\n'));
}
