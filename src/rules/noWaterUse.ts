// 独居老人无用水: a lone elder's silence on the water meter that is improbable for this elder (issue #10).
//
// The rule learns the household's normal use from its own meter (src/rules/lib/waterModel.ts: per local hour,
// how likely any use is and how much, over about four weeks; the meter's steady floor, so a dripping toilet is
// neither use nor a sign of life) and alerts when the silence since the last real use is less likely than
// `improbability` for this elder — a frugal elder's ordinary quiet morning is not an alarm, a heavy user's
// missing morning is caught early, and the elder's own quiet night hours add little.
//
// Until `minHistoryDays` of history exist, the fixed rule holds (CONTRACT.md; DOMAIN.md §1: 江苏路街道 and 龙岗
// use < 0.01 m³ in 12 h): < `minLitres` above the floor over `windowHours` of covered time. Always, whatever
// the model says: `maxQuietHours` of covered time with no real use alerts (太仓 and 镇海 use 24 h).
//
// Covered time is what the meter's own data covers — intervals when given, else register deltas between
// readings — so a batch uploaded late is judged on its own timestamps, and a silent meter covers nothing: it
// raises device_offline, never this (DESIGN.md "No data is not the same as no use"). When the data shows an
// improbable silence the rule sets a deadline `settleMinutes` after the data's end and judges again then, so a
// piece of an NB batch showing use can still arrive before a volunteer is sent.
//
// One episode, one alert: after an alert the episode lasts until real use (above the floor) resumes — that
// resolves it — and a new silence within a day re-opens the same alert with its count raised
// (flapHoldMinutes 1440). The hours of an episode are not learned from.
import type { Rule, RuleConfigBase, RuleContext } from './lib/types.js';
import { careLabel } from './lib/place.js';
import { ABSENCE_LABELS, explainedUntil, silenceExplained } from './lib/care.js';
import { useFromReading, type Register } from './lib/water.js';
import { newModel, observe, silence, historyDays, usuallyBy, floorOf, recordSilence, recentHours, type WaterModel, type ModelConfig, type Silence } from './lib/waterModel.js';

export interface NoWaterUseConfig extends RuleConfigBase {
  /** The chance of the silence, for this elder, below which it alerts. */
  improbability: number;
  /** Days of learned history before the model replaces the fixed rule. */
  minHistoryDays: number;
  /** Weight of the prior (a typical elder's day) in days, while the elder's own history is short. */
  priorDays: number;
  /** Allow for the elder's days differing (quiet days): the chance of a silence from a gamma-mixed rate. */
  dayVariation: boolean;
  /** How much longer than the elder's longest silence begun at that time of day (last weeks) a silence must be. */
  recordMarginHours: number;
  /** Learn from an episode the elder's own use ended within maxQuietHours (else its hours are skipped). */
  learnShortEpisodes: boolean;
  /** Covered hours without real use that always alert. */
  maxQuietHours: number;
  /** The fixed rule of the cold start: < minLitres over windowHours of covered time. */
  windowHours: number;
  minLitres: number;
  /** Litres above the floor since the silence began that end an episode (with a use after it began). */
  resumeLitres: number;
  settleMinutes: number;
  loneEldersOnly: boolean;
  /** The local time the hours of the day are read in. */
  utcOffsetMinutes: number;
}

export interface NoWaterUseState {
  m?: WaterModel;
  reg?: Register;
  /** An open episode: the silence it was raised for started here. */
  episodeFrom?: number;
  /**
   * The latest sign of life other than water (a hook: a logged visit, the end of a registered absence): the
   * silence is counted from it when it is later than the last use.
   */
  lifeAt?: number;
  /** The end of the last episode (real use): the cold start's fixed window does not reach back past it. */
  since?: number;
}

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();
const hhmm = (t: number, offsetMin: number) => {
  const d = new Date(t + offsetMin * 60_000);
  return `${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
};
const dayWord = (t: number, now: number, offsetMin: number) => {
  const day = (x: number) => Math.floor((x + offsetMin * 60_000) / 86_400_000);
  const d = day(now) - day(t);
  return d === 0 ? '今天' : d === 1 ? '昨天' : `${d}天前`;
};

type Verdict = { why: 'model' | 'fixed' | 'max'; s: Silence; fixedLitres?: number; fixedFrom?: number; record?: number };

/**
 * Is the silence at the newest data worth an alert, and by which test? `lifeAt`: the latest sign of life that
 * is not water (a logged visit, the end of a registered absence) — the silence, and the cold start's window,
 * are counted only after it. This is the hook for the care desk's inputs (visits, absences).
 */
export function judge(st: NoWaterUseState, c: NoWaterUseConfig, lifeAt: number | undefined = st.lifeAt): Verdict | undefined {
  if (!st.m) return undefined;
  const mc: ModelConfig = c;
  const s = silence(st.m, mc, lifeAt);
  if (!s) return undefined;
  if (s.coveredMs >= c.maxQuietHours * H) return { why: 'max', s };
  if (historyDays(st.m) >= c.minHistoryDays) {
    if (s.coveredMs <= 0) return undefined;
    // Improbable hour by hour, and longer than any silence this elder had begun at that time of day in the
    // last weeks (hours are not independent: a habit of going out shows as one long silence, not as many).
    const record = recordSilence(st.m, c, s.from);
    return s.logP < Math.log(c.improbability) && s.coveredMs > (record + c.recordMarginHours) * H ? { why: 'model', s, record } : undefined;
  }
  // Cold start: the fixed rule over the newest windowHours of covered time (a slot straddling its start
  // counts whole: that errs towards "there was use"), litres above the floor, after the last sign of life.
  const floor = floorOf(st.m);
  let cov = 0;
  let litres = 0;
  let fixedFrom = s.to;
  for (let i = st.m.s.length - 1; i >= 0 && cov < c.windowHours * H; i--) {
    const slot = st.m.s[i];
    if (lifeAt !== undefined && slot[0] * H + H <= lifeAt) break;
    if (st.since !== undefined && slot[0] * H + H <= st.since) break;
    let sc = 0;
    for (let k = 3; k + 1 < slot.length; k += 2) sc += slot[k + 1] - slot[k];
    cov += sc * 1000;
    litres += Math.max(0, slot[1] - (floor * sc) / 3600);
    if (sc > 0) fixedFrom = slot[0] * H + slot[3] * 1000;
  }
  if (cov >= c.windowHours * H && litres < c.minLitres) return { why: 'fixed', s, fixedLitres: Math.round(litres * 10) / 10, fixedFrom };
  return undefined;
}

/** The alert's words: 平时 7:40 前会用水，今天到 11:00 仍未用水（预计约 18 升，实际 0 升）. */
export function explain(v: Verdict, st: NoWaterUseState, c: NoWaterUseConfig, label: string): { title: string; explanation: string } {
  const off = c.utcOffsetMinutes;
  const { s } = v;
  const hours = Math.round(s.coveredMs / H);
  const until = `${dayWord(s.to, s.to, off)}到 ${hhmm(s.to, off)} `;
  const day = dayWord(s.from, s.to, off);
  const last = s.lastUse !== undefined && s.from === s.lastUse ? `最后用水 ${day === '今天' ? '' : `${day} `}${hhmm(s.from, off)}；` : '';
  const drip = s.floor > 0 ? `；另有持续小流量约 ${Math.round(s.floor * 10) / 10} 升/时未计入` : '';
  let explanation: string;
  if (v.why === 'fixed') {
    explanation = `${until.trim()}的 ${c.windowHours} 小时内用水 ${v.fixedLitres} 升，低于 ${c.minLitres} 升（用水规律尚在学习${drip}）`;
  } else {
    const by = usuallyBy(st.m!, c, s.from);
    // The habit's time is counted from the silence's start: on an earlier day than the data's end, say so.
    const byDay = by !== undefined ? dayWord(by, s.to, off) : '';
    const habit =
      by === undefined || by > s.to ? '' : byDay === '今天' ? `平时 ${hhmm(by, off)} 前会用水，` : `按平时规律，${byDay} ${hhmm(by, off)} 前就会再用水，`;
    const long = v.why === 'max' ? `已连续 ${hours} 小时，` : '';
    explanation = `${habit}${until}仍未用水（${long}${last}预计约 ${Math.max(1, s.expectedLitres)} 升，实际 ${Math.round(s.litres)} 升${drip}）`;
  }
  return { title: `${label} ${v.why === 'fixed' ? c.windowHours : hours}小时无用水`, explanation };
}

export const noWaterUse: Rule<NoWaterUseState, NoWaterUseConfig> = {
  name: 'no_water_use',
  description:
    "a lone elder's silence on the meter that is improbable for this elder (learned hourly rhythm, drips seen through; the fixed < minLitres in windowHours until minHistoryDays); resolves when real use resumes",
  subjectType: 'device',
  deviceKinds: ['water-meter'],
  stateful: true,
  takesVisits: true,
  takesAbsences: true,
  defaults: {
    enabled: true,
    flapHoldMinutes: 1440,
    improbability: 0.001,
    minHistoryDays: 1,
    priorDays: 3,
    dayVariation: false,
    recordMarginHours: 1,
    learnShortEpisodes: true,
    maxQuietHours: 24,
    windowHours: 12,
    minLitres: 10,
    resumeLitres: 1,
    settleMinutes: 10,
    loneEldersOnly: true,
    utcOffsetMinutes: 480,
  },
  configSchema: {
    improbability: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
    minHistoryDays: { type: 'number', minimum: 0, maximum: 56 },
    priorDays: { type: 'number', minimum: 0, maximum: 56 },
    dayVariation: { type: 'boolean' },
    recordMarginHours: { type: 'number', minimum: 0, maximum: 48 },
    learnShortEpisodes: { type: 'boolean' },
    maxQuietHours: { type: 'number', exclusiveMinimum: 0, maximum: 168 },
    windowHours: { type: 'number', exclusiveMinimum: 0, maximum: 168 },
    minLitres: { type: 'number', minimum: 0 },
    resumeLitres: { type: 'number', exclusiveMinimum: 0 },
    settleMinutes: { type: 'number', minimum: 0, maximum: 1440 },
    loneEldersOnly: { type: 'boolean' },
    utcOffsetMinutes: { type: 'integer', minimum: -720, maximum: 840 },
  },
  subjects: (r, { device }) => (device.householdId ? [r.deviceId] : []),
  evaluate(input, state, ctx) {
    const c = ctx.config;
    if (c.loneEldersOnly && !ctx.household?.loneElder) return [];
    if (input.type === 'visitor') return [];
    const s: NoWaterUseState = state ?? {};

    if (input.type === 'visit' || input.type === 'absence') {
      // Seen on a visit, or marked away, during the episode: the silence is explained and the episode is over.
      if (s.episodeFrom === undefined) return [];
      const why = silenceExplained(ctx.care, s.episodeFrom, ctx.now);
      if (!why) return [];
      const out: ReturnType<typeof noWaterUse.evaluate> = [{ type: 'state', state: { ...s, episodeFrom: undefined, since: ctx.now } }];
      if (ctx.alert) out.push({ type: 'resolve', reason: why.kind === 'visit' ? `上门探访（${input.by}）` : `已登记${ABSENCE_LABELS[why.absence.reason]}，不在家` });
      return out;
    }

    if (input.type === 'deadline') {
      if (ctx.alert || s.episodeFrom !== undefined) return [];
      const v = judge(s, c, lifeAtWithCare(s, ctx));
      if (!v) return []; // later data showed use
      return [open(v, s, ctx), { type: 'state', state: { ...s, episodeFrom: v.why === 'fixed' ? Math.max(v.s.from, v.fixedFrom ?? v.s.from) : v.s.from } }];
    }

    const u = useFromReading(input.reading, s.reg);
    // A state saved before the model (covered segments `use`, `litresAtOpen`) drops those on its first reading.
    const { use: _segments, litresAtOpen: _atOpen, ...kept } = s as NoWaterUseState & { use?: unknown; litresAtOpen?: unknown };
    const next: NoWaterUseState = { ...kept, m: observe(s.m ?? newModel(), u.segments, c), reg: u.register };
    const actions: ReturnType<typeof noWaterUse.evaluate> = [{ type: 'state', state: next }];
    const v = judge(next, c, lifeAtWithCare(next, ctx));

    if (next.episodeFrom !== undefined) {
      const sl = silence(next.m!, c, next.lifeAt);
      // Real activity ends it: use above the floor after the silence began.
      const from0 = next.episodeFrom;
      const resumed = recentHours(next.m!).reduce((n, x) => (x.at + H > from0 && x.used ? n + x.litres : n), 0);
      if (sl?.lastUse !== undefined && sl.lastUse > next.episodeFrom && resumed >= c.resumeLitres) {
        // Real use again: the episode ends. A silence that the elder's own use ended within maxQuietHours was
        // their life (out for the day, a night at a child's — the alert was false, and the model should know
        // such silences next time); a longer one (a fall, a stay in hospital) is not the elder's normal.
        if (!c.learnShortEpisodes || sl.lastUse - next.episodeFrom > c.maxQuietHours * H) next.m = { ...next.m!, skip: [next.episodeFrom, sl.lastUse] };
        const from = next.episodeFrom;
        next.episodeFrom = undefined;
        next.since = sl.lastUse;
        if (ctx.alert) actions.push({ type: 'resolve', reason: `恢复用水（${hhmm(sl.lastUse, c.utcOffsetMinutes)}，静默 ${Math.round((sl.lastUse - from) / H)} 小时后）` });
      }
      return actions;
    }
    if (v && ctx.deadline === undefined && !ctx.alert) actions.push({ type: 'deadline', due: v.s.to + c.settleMinutes * 60_000 });
    if (!v && ctx.deadline !== undefined) actions.push({ type: 'cancelDeadline' });
    return actions;
  },
};

function open(v: Verdict, s: NoWaterUseState, ctx: RuleContext<NoWaterUseConfig>) {
  const c = ctx.config;
  const label = ctx.household ? careLabel(ctx.household) : ctx.where;
  const { title, explanation } = explain(v, s, c, label);
  return {
    type: 'open' as const,
    severity: 'major' as const,
    title,
    details: {
      explanation,
      basis: v.why, // model | fixed (cold start) | max (maxQuietHours)
      lastUseAt: v.s.lastUse !== undefined ? iso(v.s.lastUse) : undefined,
      windowFrom: iso(v.why === 'fixed' ? v.fixedFrom! : v.s.from),
      windowTo: iso(v.s.to),
      coveredHours: Math.round((v.s.coveredMs / H) * 10) / 10,
      litres: v.why === 'fixed' ? v.fixedLitres : Math.round(v.s.litres * 10) / 10,
      expectedLitres: v.s.expectedLitres,
      chance: Number(Math.exp(v.s.logP).toPrecision(2)),
      floorLph: v.s.floor || undefined,
      thresholdLitres: v.why === 'fixed' ? c.minLitres : undefined,
      longestUsualHours: v.record !== undefined ? Math.round(v.record * 10) / 10 : undefined,
      historyDays: Math.floor(historyDays(s.m!)),
    },
  };
}

/**
 * What the care desk says (ctx.care, src/rules/lib/care.ts): the silence is counted from the newest logged visit
 * or the end of an absence (外出、住院、子女家) — `at` itself while the household is marked away — through the
 * model's `lifeAt` hook (judge's third argument).
 */
function lifeAtWithCare(s: NoWaterUseState, ctx: RuleContext<NoWaterUseConfig>): number | undefined {
  const t = explainedUntil(ctx.care, ctx.now);
  return t === undefined ? s.lifeAt : Math.max(s.lifeAt ?? -Infinity, t);
}
