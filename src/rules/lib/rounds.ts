// Care-round times (一天两见面): times of day in the community's local time, as instants. China keeps one
// offset all year (UTC+8, no daylight saving), so a fixed offset in minutes is enough; no time-zone database.
const DAY = 86_400_000;
const MIN = 60_000;

/** '10:00' → 600 (minutes after local midnight); rounds are checked by the settings schema (hh:mm). */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Round instants on the local days around `t`, ascending. */
function around(t: number, rounds: readonly string[], offsetMinutes: number): number[] {
  const off = offsetMinutes * MIN;
  const day = Math.floor((t + off) / DAY) * DAY - off; // local midnight of t's day, as an instant
  const mins = [...new Set(rounds.map(minutesOf))].sort((a, b) => a - b);
  const out: number[] = [];
  for (const d of [day - DAY, day, day + DAY]) for (const m of mins) out.push(d + m * MIN);
  return out;
}

/** The first round strictly after `t`. */
export function nextRound(t: number, rounds: readonly string[], offsetMinutes: number): number {
  return around(t, rounds, offsetMinutes).find((r) => r > t)!;
}

/** The last round strictly before `t`. */
export function previousRound(t: number, rounds: readonly string[], offsetMinutes: number): number {
  const list = around(t, rounds, offsetMinutes);
  for (let i = list.length - 1; i >= 0; i--) if (list[i] < t) return list[i];
  return list[0];
}

/** 10:00 (local hh:mm of an instant). */
export function clockTime(t: number, offsetMinutes: number): string {
  const d = new Date(t + offsetMinutes * MIN);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** 3月1日 10:00 (local). */
export function dayTime(t: number, offsetMinutes: number): string {
  const d = new Date(t + offsetMinutes * MIN);
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${clockTime(t, offsetMinutes)}`;
}
