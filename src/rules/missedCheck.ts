// 一天两见面: the twice-daily care round. By each round (10:00 and 20:00 local by default) a lone elder should
// have shown a sign of life since the round before: water use on the household's meter, or a visit a
// volunteer logged (POST /api/care/visits). If nothing was seen, missed_check opens for the household; the
// next sign of life resolves it with its reason (CONTRACT.md "Alert kinds").
//
// Use is judged as no_water_use judges it (lib/water.ts): interval litres > 0, or a rise of the register
// between readings, at the meter's own times. A heartbeat or a reading with zero use is no sign: it proves the
// meter is alive, not the elder. A sign counts at the end of the span it was seen in (errs towards "seen").
// Nor is a drip: each meter's last ~30 hours are kept as hour slots (lib/waterModel.ts observeSlots, the
// slots no_water_use's model keeps), and once 24 full hours show a steady floor (a dripping toilet), use
// counts only in an hour that stands clear of it, as no_water_use judges it; until then every litre counts.
//
// Watching starts at the household's first reading or visit, not at start-up: a household shaobing has
// never heard from has no state and no round deadline, so the first round after a (re)deployment cannot fire
// for all of them at once. A round that comes less than `minWatchedHours` after watching began is not
// judged either (a meter first heard at 09:55 says nothing about the 10:00 round). Round deadlines live in
// the engine's scheduler (key missed_check:<household>), so they follow the event clock and survive restarts.
//
// A household marked away (外出、住院、子女家: ctx.care, src/rules/lib/care.ts) for any part of a round's span is
// not judged at that round, and marking it away resolves an open alert whose span the absence covers. Water
// use at home while marked away (≥ returnLitres in a span, and that much per hour of a longer one — a drip of
// 1–3 L/h is not a return) more than an hour after the absence began ends it early (action endAbsence, shown
// on the absence as ended by 'water'). An absence whose `until` passed with no sign of life since is overdue:
// at the first round at least overdueGraceMinutes after it, a gentle notice (not an alert) goes to the
// household's carers, once (action absenceOverdue) — that round is not judged (the absence overlaps its span);
// the next one is, as usual.
//
// Judged on covering data (issue 10 item 5). An NB meter uploads its intervals in batches every few hours, so
// at 20:00 the use of 17:00 may not have arrived yet. A round is judged only once the data of each of the
// household's meters reaches the round (its newest interval end or reading time ≥ the round), or once the
// upload that should carry it is overdue — by the meter's own cadence (src/state/cadence.ts coveredBy: its
// observed upload interval, usual arrival lag and grace, snapshotted from the device state at each reading) —
// and never later than maxWaitHours after the round. Until then the round waits in `pending`; a reading that
// brings the covering data judges it at once. A household without a meter, or a meter whose cadence is not
// yet observed (fewer than three upload gaps), is judged at the round as before.
//
// Learned per elder (issue 10): a frugal elder whose 10:00–20:00 often passes without water would be called at
// every quiet afternoon. So each round time keeps the chance that this elder shows a sign before it (EWMA over
// about 28 of that round, shrunk towards "always"), and a round without a sign alerts when the chance of the
// rounds missed in a row is below `improbability`, or at `maxRounds` in a row. Until `minRounds` of a round
// time are learned, every missed round alerts (as before). Rounds marked away, and a streak's rounds after its
// first, are not learned from.
import type { Action, Rule, RuleConfigBase, RuleContext } from './lib/types.js';
import { cadenceOf, cadenceRefOf, coveredBy } from '../state/cadence.js';
import { careLabel } from './lib/place.js';
import { useFromReading, type Register } from './lib/water.js';
import { aboveFloor, floorOfSlots, observeSlots, type Slot } from './lib/waterModel.js';
import { clockTime, dayTime, nextRound, previousRound } from './lib/rounds.js';
import { ABSENCE_LABELS, awayDuring, type AbsenceFacts, type CareFacts } from './lib/care.js';

export interface MissedCheckConfig extends RuleConfigBase {
  /** Round times, local hh:mm. */
  rounds: string[];
  /** The communities' local time, minutes east of UTC (China: 480). */
  utcOffsetMinutes: number;
  /** A round this soon after watching began is not judged. */
  minWatchedHours: number;
  /** Use at home that ends an absence early: at least this many litres in a span (and per hour of a longer one). */
  returnLitres: number;
  /** The overdue-return notice waits for the first round at least this long after an absence's end. */
  overdueGraceMinutes: number;
  /** A round waits for its covering data at most this long. */
  maxWaitHours: number;
  /**
   * How many of the meter's uploads may be late before a round is judged without its data: 1 = the covering
   * upload, 2 = that one and the next (a late upload is 迟报, not a sign that nobody is home).
   */
  waitUploads: number;
  /**
   * A round with no sign of life alerts when the chance of the rounds missed in a row, for this elder, is below
   * this: each round's chance of a sign is learned from the elder's own rounds (`usual`), so an elder seen at
   * nearly every round is called at the first miss, and a frugal elder whose 10:00–20:00 often passes without
   * water at the second or third.
   */
  improbability: number;
  /** Weight, in rounds, of the assumption that the elder shows a sign at every round, while learning. */
  priorRounds: number;
  /** Rounds of a round time learned before its chance is used: until then every missed round alerts (as before). */
  minRounds: number;
  /** Rounds missed in a row that alert whatever was learned. */
  maxRounds: number;
}

/** What missed_check keeps of each meter of the household to know whether a round's data is in. */
export interface MeterCover {
  /** Newest event time the meter's data reaches (interval end, or reading time). */
  end: number;
  /** Event time of its last upload, its upload interval, and lag + grace, ms (from its cadence). */
  last?: number;
  every?: number;
  slack?: number;
}

export type SignKind = 'water' | 'visit';

export interface MissedCheckState {
  /** When watching began: the household's first reading or visit (the clock's time then). */
  watchedFrom: number;
  /** The newest sign of life, by its own time. */
  lastSignAt?: number;
  lastSign?: SignKind;
  /** Each meter's last register, for use between readings that carry no intervals. */
  regs?: Record<string, Register>;
  /** The last round judged. */
  lastRoundAt?: number;
  /**
   * Nothing seen since `since` (the round before the first missed one); cleared by a sign of life after it.
   * `logChance`: the log of the chance of so many rounds without a sign, for this elder.
   */
  missed?: { since: number; round: number; rounds: number; logChance?: number };
  /**
   * Learned per round (local hh:mm): the chance the elder shows a sign of life in the span before it
   * (exponentially weighted over about the last four weeks of that round) and the rounds counted. Rounds
   * marked away, and the rounds of a streak after its first, are not learned from.
   */
  usual?: Record<string, [number, number]>;
  /** Each water meter's coverage and cadence. */
  meters?: Record<string, MeterCover>;
  /**
   * Each water meter's last ~30 hours as hour slots (waterModel `observeSlots`), for its drip floor: water in
   * every hour of a whole day is a dripping toilet, not a sign of life (as no_water_use judges it).
   */
  hours?: Record<string, Slot[]>;
  /** Rounds come due whose covering data has not arrived yet, with when it is overdue. */
  pending?: Array<{ round: number; due: number }>;
}

const H = 3_600_000;
/** Use in the first hour of an absence is the household leaving, not coming back. */
const RETURN_AFTER_MS = H;
/** An absence that ended longer ago than this before a round is not chased any more. */
const OVERDUE_LOOKBACK_MS = 48 * H;

/** An absence whose end passed (graceMs before the round, not long ago) with no sign of life since; not if away again. */
function overdueAbsence(care: CareFacts | undefined, round: number, graceMs: number, lastSignAt: number | undefined): AbsenceFacts | undefined {
  if (!care || awayDuring(care, round, round)) return undefined;
  return care.absences.find(
    (a) => a.endedAt === undefined && a.until <= round - graceMs && a.until > round - OVERDUE_LOOKBACK_MS && (lastSignAt ?? -Infinity) <= a.until,
  );
}
/** By when (the clock's time) the data covering event time `t` should be in for every meter; ≤ now: judge. */
function coverDue(meters: Record<string, MeterCover> | undefined, t: number, waitUploads: number): number {
  let due = -Infinity;
  for (const m of Object.values(meters ?? {})) {
    if (m.end >= t || m.last === undefined || !m.every) continue; // in, or nothing to go by
    const d = m.last >= t ? t : m.last + (Math.ceil((t - m.last) / m.every) + waitUploads - 1) * m.every + (m.slack ?? 0);
    due = Math.max(due, d);
  }
  return due;
}

const iso = (t: number) => new Date(t).toISOString();
const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

export const missedCheck: Rule<MissedCheckState, MissedCheckConfig> = {
  name: 'missed_check',
  description: 'a lone elder shows no sign of life (water use, a logged visit) since the previous care round; resolves on the next sign',
  subjectType: 'household',
  deviceKinds: ['water-meter'],
  takesVisits: true,
  takesAbsences: true,
  stateful: true,
  defaults: {
    enabled: true,
    flapHoldMinutes: 5,
    rounds: ['10:00', '20:00'],
    utcOffsetMinutes: 480,
    minWatchedHours: 2,
    returnLitres: 5,
    overdueGraceMinutes: 60,
    maxWaitHours: 26,
    waitUploads: 2,
    improbability: 0.01,
    priorRounds: 7,
    minRounds: 7,
    maxRounds: 3,
  },
  configSchema: {
    rounds: { type: 'array', minItems: 1, maxItems: 24, uniqueItems: true, items: { type: 'string', pattern: HHMM } },
    utcOffsetMinutes: { type: 'integer', minimum: -720, maximum: 840 },
    minWatchedHours: { type: 'number', minimum: 0, maximum: 24 },
    returnLitres: { type: 'number', exclusiveMinimum: 0 },
    overdueGraceMinutes: { type: 'number', minimum: 0, maximum: 1440 },
    maxWaitHours: { type: 'number', minimum: 0, maximum: 72 },
    waitUploads: { type: 'integer', minimum: 1, maximum: 6 },
    improbability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    priorRounds: { type: 'number', minimum: 0, maximum: 1000 },
    minRounds: { type: 'integer', minimum: 0, maximum: 1000 },
    maxRounds: { type: 'integer', minimum: 1, maximum: 48 },
  },
  subjects: (_r, { household }) => (household?.loneElder ? [household.id] : []),
  evaluate(input, state, ctx) {
    const c = ctx.config;
    const h = ctx.household;
    if (!h?.loneElder || input.type === 'visitor') return [];
    const off = c.utcOffsetMinutes;
    const out: Action<MissedCheckState>[] = [];

    if (input.type === 'deadline') {
      if (!state) return []; // never watched: nothing to judge, and no next round until a sign of life
      const t = input.due;
      let s: MissedCheckState = { ...state };
      // A round time not yet taken up: it waits for its covering data (or is judged now if that is in).
      if (nextRound(t - 1, c.rounds, off) === t && t > (state.lastRoundAt ?? -Infinity)) {
        s.lastRoundAt = t;
        s.pending = [...(s.pending ?? []), { round: t, due: Math.min(coverDue(s.meters, t, c.waitUploads), t + c.maxWaitHours * H) }];
      }
      s = judgeReady(s, ctx, out, ctx.now);
      // After downtime (wall clock) the next round is the next one still ahead, never a run of past ones.
      out.push({ type: 'deadline', due: nextDeadline(s, c, Math.max(t, ctx.now)) });
      out.push({ type: 'state', state: s });
      return out;
    }

    if (input.type === 'absence') {
      // Marked away over the missed span: nobody was home to be seen, and the alert has its answer.
      if (!state || (!state.missed && !ctx.alert)) return [];
      const a = awayDuring(ctx.care, state.missed?.since ?? ctx.now, ctx.now);
      if (!a) return [];
      out.push({ type: 'state', state: { ...state, missed: undefined } });
      if (ctx.alert) out.push({ type: 'resolve', reason: `已登记${ABSENCE_LABELS[a.reason]}，不在家` });
      return out;
    }

    let s: MissedCheckState = state ?? { watchedFrom: ctx.now };
    let changed = state === undefined;
    let sign: { at: number; kind: SignKind; reason: string } | undefined;
    if (input.type === 'reading') {
      const r = input.reading;
      const previous = s.regs?.[r.deviceId];
      const u = useFromReading(r, previous);
      if (u.register && u.register !== previous) {
        s = { ...s, regs: { ...s.regs, [r.deviceId]: u.register } };
        changed = true;
      }
      // The meter's drip floor: use is judged above it, in the hour each piece of use fell in (a span's
      // hour slot, or the span alone when it is older than the slots kept).
      const slots = u.segments.length ? observeSlots(s.hours?.[r.deviceId] ?? [], u.segments) : s.hours?.[r.deviceId];
      if (slots && slots !== s.hours?.[r.deviceId]) {
        s = { ...s, hours: { ...s.hours, [r.deviceId]: slots } };
        changed = true;
      }
      const floor = slots ? floorOfSlots(slots) : 0;
      let at: number | undefined;
      let litres = 0;
      for (const [start, end, l] of u.segments) {
        if (l <= 0) continue;
        if (floor > 0) {
          const hour = Math.floor((end - 1) / H);
          const slot = slots!.find((x) => x[0] === hour) ?? [hour, l, -1, 0, Math.round((end - start) / 1000)];
          const above = aboveFloor(slot, floor);
          if (!above.used) continue;
          litres += Math.max(0, l - (floor * (end - start)) / H);
        } else litres += l;
        at = Math.max(at ?? end, end);
      }
      if (at !== undefined) sign = { at, kind: 'water', reason: `恢复用水（${dayTime(at, off)}，${Math.round(litres * 10) / 10} 升）` };
      // Back home early: real use (above the drip floor, returnLitres of it) while marked away. A running cistern
      // of 6 L/h passes returnLitres in every hour; above its floor it is nothing.
      if (at !== undefined)
        for (const a of ctx.care?.absences ?? []) {
          if (a.endedAt !== undefined) continue;
          const net = ([start, end, l]: (typeof u.segments)[number]) => l - (floor * (end - start)) / H;
          const back = u.segments.find((sg) => sg[1] > a.from + RETURN_AFTER_MS && sg[1] < a.until && net(sg) >= c.returnLitres * Math.max(1, (sg[1] - sg[0]) / H));
          if (back) out.push({ type: 'endAbsence', id: a.id, at: back[1], note: `回家用水（${dayTime(back[1], off)}，${Math.round(net(back) * 10) / 10} 升）` });
        }
    } else {
      sign = { at: input.at, kind: 'visit', reason: `上门探访（${input.by}，${dayTime(input.at, off)}）${input.note ? `：${input.note}` : ''}` };
    }

    if (sign) {
      if (s.lastSignAt === undefined || sign.at > s.lastSignAt) {
        s = { ...s, lastSignAt: sign.at, lastSign: sign.kind };
        changed = true;
      }
      // A late batch counts too: use at 09:00 arriving at noon still shows the elder was up before the 10:00 round.
      if (s.missed ? sign.at > s.missed.since : ctx.alert !== undefined) {
        if (s.missed) {
          s = { ...s, missed: undefined };
          changed = true;
        }
        if (ctx.alert) out.push({ type: 'resolve', reason: sign.reason });
      }
    }
    if (input.type === 'reading' && input.reading.type === 'reading') {
      // How far this meter's data reaches, and its cadence (to know when a round's data is overdue).
      const r = input.reading;
      const prev = s.meters?.[r.deviceId];
      let end = r.ts;
      const its = r.payload.intervals;
      if (Array.isArray(its) && its.length) {
        const u = useFromReading(r, undefined);
        if (u.segments.length) end = Math.max(...u.segments.map((x) => x[1]));
      }
      const ref = cadenceRefOf(ctx.device, ctx.kind);
      const cad = ref?.periodic ? ctx.deviceState?.cadence : undefined;
      const k = cad && ref ? cadenceOf(cad, ref) : undefined;
      const next: MeterCover = {
        end: Math.max(prev?.end ?? -Infinity, end),
        // Only a cadence the meter has shown (three gaps); a declared heartbeat is a guess, and waiting on a guess
        // would only delay the round.
        ...(k?.observed && cad?.uploadEventAt != null ? { last: cad.uploadEventAt, every: k.intervalMs, slack: k.lagMs + k.graceMs } : {}),
      };
      if (!prev || next.end !== prev.end || next.last !== prev.last || next.every !== prev.every || next.slack !== prev.slack) {
        s = { ...s, meters: { ...s.meters, [r.deviceId]: next } };
        changed = true;
      }
    }
    // Rounds waiting for data this reading brought (or that are overdue by now).
    let deadline = ctx.deadline;
    if (s.pending?.length) {
      const before = s.pending.length;
      s = judgeReady(s, ctx, out, ctx.now);
      if (s.pending?.length !== before) {
        changed = true;
        deadline = nextDeadline(s, c, ctx.now);
        out.push({ type: 'deadline', due: deadline });
      }
    }
    if (changed) out.push({ type: 'state', state: s });
    if (deadline === undefined) out.push({ type: 'deadline', due: nextRound(ctx.now, c.rounds, off) });
    return out;
  },
};

/** A round's learned chance of a sign counts samples up to this (about four weeks of that round), then EWMA. */
const ROUND_MEMORY = 28;
/** What a short history is shrunk towards: a sign at (nearly) every round — the rule as it was. */
const PRIOR_SEEN = 0.995;
/** Learned chances are kept within these: no round is certain, and none so uncertain it never counts. */
const SEEN_MIN = 0.5;
const SEEN_MAX = 0.995;

function learnRound(usual: MissedCheckState['usual'], key: string, seen: boolean): NonNullable<MissedCheckState['usual']> {
  const [p, n] = usual?.[key] ?? [0, 0];
  const n1 = Math.min(n + 1, 10_000);
  const a = 1 / Math.min(n1, ROUND_MEMORY);
  return { ...usual, [key]: [Math.round((p + a * ((seen ? 1 : 0) - p)) * 1000) / 1000, n1] };
}

/** The elder's chance of a sign of life before this round: learned, shrunk towards PRIOR_SEEN. */
function seenChance(u: [number, number] | undefined, c: MissedCheckConfig): number {
  const [p, n] = u ?? [0, 0];
  const x = (n * p + c.priorRounds * PRIOR_SEEN) / (n + c.priorRounds || 1);
  return Math.min(SEEN_MAX, Math.max(SEEN_MIN, x));
}

/** The next round after `t`, or sooner a waiting round's overdue time. */
function nextDeadline(s: MissedCheckState, c: MissedCheckConfig, t: number): number {
  let due = nextRound(t, c.rounds, c.utcOffsetMinutes);
  for (const p of s.pending ?? []) due = Math.min(due, Math.max(p.due, t + 1));
  return due;
}

/** Judge, oldest first, the waiting rounds whose data is in or overdue at `now`; the rest keep waiting. */
function judgeReady(state: MissedCheckState, ctx: RuleContext<MissedCheckConfig>, out: Action<MissedCheckState>[], now: number): MissedCheckState {
  const c = ctx.config;
  const h = ctx.household!;
  const off = c.utcOffsetMinutes;
  let s = state;
  const waiting: Array<{ round: number; due: number }> = [];
  for (const p of state.pending ?? []) {
    if (waiting.length || (p.due > now && coverDue(s.meters, p.round, c.waitUploads) > now)) {
      waiting.push(p); // rounds are judged in order
      continue;
    }
    const round = p.round;
    const since = previousRound(round, c.rounds, off);
    // A sign after `since` — even one after the round that came with the covering data — means nobody is missing.
    const seen = (s.lastSignAt !== undefined && s.lastSignAt > since) || awayDuring(ctx.care, since, round) !== undefined;
    const overdue = overdueAbsence(ctx.care, round, c.overdueGraceMinutes * 60_000, s.lastSignAt);
    if (overdue && seen)
      out.push({
        type: 'absenceOverdue',
        id: overdue.id,
        title: `【提示】${careLabel(h)} 登记${ABSENCE_LABELS[overdue.reason]}至${dayTime(overdue.until, off)}，至今未见回家用水`,
        lines: ['请联系老人或家属，确认是否已经回家；如仍在外，请延长或结束登记。', `截至 ${dayTime(round, off)} 未见用水或探访记录。`],
      });
    const key = clockTime(round, off);
    const away = awayDuring(ctx.care, since, round) !== undefined;
    if (seen) s = { ...s, missed: undefined, ...(away ? {} : { usual: learnRound(s.usual, key, true) }) };
    else if (round - s.watchedFrom >= c.minWatchedHours * H) {
      // How surprising is a round without a sign, for this elder (learned before this round counts)?
      const learned = (s.usual?.[key]?.[1] ?? 0) >= c.minRounds;
      const pSeen = seenChance(s.usual?.[key], c);
      const logChance = (s.missed?.logChance ?? 0) + Math.log(1 - pSeen);
      const missed = s.missed
        ? { ...s.missed, rounds: s.missed.rounds + 1, logChance }
        : { since, round, rounds: 1, logChance };
      // The first round of a streak is the elder's normal as much as any; the rest are an episode.
      s = { ...s, missed, ...(s.missed ? {} : { usual: learnRound(s.usual, key, false) }) };
      // The cold start (fewer than minRounds of this round learned): every missed round alerts, as before.
      if (learned && logChance >= Math.log(c.improbability) && missed.rounds < c.maxRounds) continue;
      out.push({
        type: 'open',
        severity: 'major',
        title: `${careLabel(h)} 今日${clockTime(round, off)}巡访未见活动`,
        details: {
          round: iso(round),
          since: iso(missed.since),
          missedRounds: missed.rounds,
          lastSignOfLifeAt: s.lastSignAt === undefined ? undefined : iso(s.lastSignAt),
          lastSign: s.lastSign,
          usualSeenPct: Math.round(pSeen * 100),
          ...(now > round + 60_000 ? { judgedAt: iso(now) } : {}),
        },
      });
    }
  }
  return { ...s, pending: waiting.length ? waiting : undefined };
}
