// Quiet hours per person, with severity bypass: critical always goes through; anything else waits for the
// end of the person's quiet hours ("low battery waits for morning"). Times are local to the community;
// shaobing's communities are in China (UTC+8, no daylight saving), so the offset is a setting, not a tz database.
import { isUrgent } from './routing.js';
import type { Severity } from '../alerts/types.js';

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** When a notice of this severity may reach this person: `now`, or the end of their quiet hours. */
export function deliverAt(quiet: { from: string; to: string } | undefined, severity: Severity, now: number, utcOffsetMinutes = 480): number {
  if (!quiet || isUrgent(severity)) return now;
  const from = minutes(quiet.from);
  const to = minutes(quiet.to);
  if (from === to) return now;
  const local = now + utcOffsetMinutes * 60_000;
  const dayStart = local - (local % 86_400_000);
  const minuteOfDay = Math.floor((local - dayStart) / 60_000);
  const inQuiet = from < to ? minuteOfDay >= from && minuteOfDay < to : minuteOfDay >= from || minuteOfDay < to;
  if (!inQuiet) return now;
  // The end of this quiet spell: today at `to`, or tomorrow when it wraps past midnight and we are before it.
  let end = dayStart + to * 60_000;
  if (end <= local) end += 86_400_000;
  return end - utcOffsetMinutes * 60_000;
}
