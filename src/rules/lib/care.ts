// What the care desk told shaobing about a household, as the rules see it (RuleContext.care): the absences
// people marked (外出、住院、子女家 — POST /api/care/absences) and the last logged visit (POST /api/care/visits).
// The engine keeps these in memory per household (src/alerts/absences.ts, src/alerts/careVisits.ts); rules only
// read them. An absence covers [from, end) with end = endedAt ?? until: it ends early when a person says the
// elder is back or when water use at home shows it.
export const ABSENCE_REASONS = ['outing', 'hospital', 'family', 'other'] as const;
export type AbsenceReason = (typeof ABSENCE_REASONS)[number];

/** The words people read: 外出、住院、子女家、其他. */
export const ABSENCE_LABELS: Record<AbsenceReason, string> = { outing: '外出', hospital: '住院', family: '子女家', other: '其他' };

export interface AbsenceFacts {
  id: number;
  reason: AbsenceReason;
  from: number;
  until: number;
  /** Ended before `until` (a person, or water use at home): when. */
  endedAt?: number;
  /** Who ended it: a person id, or 'water' when use at home did. */
  endedBy?: string;
}

export interface CareFacts {
  /** The household's absences that have not long ended (the engine keeps the last days' and all future ones). */
  absences: readonly AbsenceFacts[];
  /** The newest logged visit, epoch ms. */
  lastVisitAt?: number;
}

export const absenceEnd = (a: AbsenceFacts): number => a.endedAt ?? a.until;

/** An absence covering any part of [from, to], if any. */
export function awayDuring(care: CareFacts | undefined, from: number, to: number): AbsenceFacts | undefined {
  if (!care) return undefined;
  for (const a of care.absences) if (a.from <= to && absenceEnd(a) > from) return a;
  return undefined;
}

/**
 * Up to when silence is explained, looking from `at`: the newest logged visit, or the end of an absence that
 * had begun by then (`at` itself while one covers it). Silence counts only after this; undefined when nothing
 * explains any of it.
 */
export function explainedUntil(care: CareFacts | undefined, at: number): number | undefined {
  if (!care) return undefined;
  let t = care.lastVisitAt !== undefined && care.lastVisitAt <= at ? care.lastVisitAt : undefined;
  for (const a of care.absences) if (a.from <= at) t = Math.max(t ?? -Infinity, Math.min(absenceEnd(a), at));
  return t;
}

/**
 * Why silence over [from, to] says nothing about the elder, if it does not: a visit logged after `from` (the
 * elder was seen), or an absence covering part of it (the elder was not at home). Undefined: the silence stands.
 */
export function silenceExplained(care: CareFacts | undefined, from: number, to: number): { kind: 'visit'; at: number } | { kind: 'away'; absence: AbsenceFacts } | undefined {
  if (!care) return undefined;
  if (care.lastVisitAt !== undefined && care.lastVisitAt > from) return { kind: 'visit', at: care.lastVisitAt };
  const a = awayDuring(care, from, to);
  return a && { kind: 'away', absence: a };
}
