// Time as Chinese devices write it: RFC 3339 with the +08:00 offset (China Standard Time has no DST), and
// durations as people write them in scenario files ("90s", "5m", "1h30m", "2d").

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** China Standard Time, UTC+8, all year. */
export const CST_OFFSET_MS = 8 * HOUR;

/** Epoch ms → "2026-03-01T08:15:02+08:00" (milliseconds kept only when not zero). */
export function isoCst(ms: number): string {
  const wall = new Date(ms + CST_OFFSET_MS).toISOString();
  const fraction = ms % 1000 === 0 ? '' : wall.slice(19, 23);
  return `${wall.slice(0, 19)}${fraction}+08:00`;
}

/** Hour of the day in China (0–23.99…), for diurnal patterns. */
export function cstHour(ms: number): number {
  return (((ms + CST_OFFSET_MS) % DAY) + DAY) % DAY / HOUR;
}

/** Midnight in China at or before `ms`. */
export function cstMidnight(ms: number): number {
  return ms - ((((ms + CST_OFFSET_MS) % DAY) + DAY) % DAY);
}

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY };

/**
 * A duration in ms from "90s", "5m", "1h30m", "2d", "1500ms", "-5m", a plain number of seconds, or "hh:mm[:ss]".
 * Returns undefined for anything else.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const clock = /^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$/.exec(text);
  if (clock) return Number(clock[1]) * HOUR + Number(clock[2]) * MINUTE + Number(clock[3] ?? 0) * 1000;
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(body)) return undefined;
  let total = 0;
  for (const m of body.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT[m[2]];
  return sign * total;
}

/** 5400000 → "1h30m"; for reports. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  let out = '';
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]] as const) {
    const n = Math.floor(rest / size);
    if (n) out += `${n}${unit}`;
    rest -= n * size;
  }
  if (rest) out += `${rest}ms`;
  return sign + out;
}

/** An RFC 3339 string or epoch ms as epoch ms (NaN when it is neither). */
export function toMs(ts: string | number): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}
