// Time helpers. Canonical `ts` is an RFC 3339 string or epoch milliseconds (devices/common.schema.json).

/** Epoch seconds (+ optional microseconds, as in a C `struct timeval`) → epoch milliseconds. */
export function epochSecondsToMs(sec: number, usec = 0): number {
  return sec * 1000 + Math.floor(usec / 1000);
}

/** Whether `value` is an RFC 3339 date-time with an explicit offset (`Z` or `±hh:mm`). */
export function isRfc3339(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) &&
    !Number.isNaN(Date.parse(value))
  );
}

/**
 * A vendor time (RFC 3339 string, epoch ms, or epoch seconds — told apart by size) in canonical form:
 * strings stay strings so the device's own offset (+08:00) survives; numbers become epoch ms.
 * Returns undefined for anything else, so the field is simply absent.
 */
export function toCanonicalTs(value: unknown): string | number | undefined {
  if (isRfc3339(value)) return value;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return value < 1e12 ? Math.round(value * 1000) : Math.round(value);
  }
  return undefined;
}

/**
 * `ts` shifted by `minutes`, in the same form it came in: epoch ms stays a number; an RFC 3339 string keeps
 * its offset, e.g. ("2025-03-01T06:00:00+08:00", -15) → "2025-03-01T05:45:00+08:00".
 */
export function shiftTs(ts: string | number, minutes: number): string | number {
  if (typeof ts === 'number') return ts + minutes * 60_000;
  const suffix = /(Z|[+-]\d{2}:\d{2})$/i.exec(ts)?.[1] ?? 'Z';
  const offset = suffix.toUpperCase() === 'Z' ? 0 : offsetMinutes(suffix);
  const ms = Date.parse(ts) + minutes * 60_000;
  const wall = new Date(ms + offset * 60_000).toISOString(); // wall time at that offset, spelled "…Z"
  const fraction = ms % 1000 === 0 ? '' : wall.slice(19, 23);
  return `${wall.slice(0, 19)}${fraction}${suffix}`;
}

function offsetMinutes(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
}
