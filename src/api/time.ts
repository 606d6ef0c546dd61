// Times a caller gives the API (`until`, `at`, `now`, `from`, `to`): RFC 3339 or epoch milliseconds, and only
// inside PLAUSIBLE_TIME (2000–2100), the bounds device times have (src/ingest/validate.ts). Anything else is a
// coded 400 naming the field — never a 500 from formatting a Date of 1e300 further on.
import { PLAUSIBLE_TIME } from '../ingest/validate.js';
import { AppError, type ErrorCode } from '../errors.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** JSON schema of a time field (the bounds are checked again by `apiTime`, which also bounds strings). */
export function timeSchema(description: string) {
  return {
    anyOf: [
      { type: 'integer', minimum: PLAUSIBLE_TIME.min, maximum: PLAUSIBLE_TIME.max - 1 },
      { type: 'string', minLength: 1, maxLength: 64 },
    ],
    description: `${description} (RFC 3339 or epoch milliseconds, ${day(PLAUSIBLE_TIME.min)} to ${day(PLAUSIBLE_TIME.max)})`,
  } as const;
}

/** Epoch ms of a time the caller gave, or a coded 400 naming the field. */
export function apiTime(name: string, value: unknown, code: Extract<ErrorCode, 'SB_VALIDATION' | 'SB_TELEMETRY_RANGE'> = 'SB_VALIDATION'): number {
  let ms = NaN;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.length <= 64) ms = /^\d{1,16}$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isFinite(ms) && ms >= PLAUSIBLE_TIME.min && ms < PLAUSIBLE_TIME.max) return ms;
  const shown = typeof value === 'string' ? `'${value.slice(0, 40)}${value.length > 40 ? '…' : ''}'` : String(value);
  throw new AppError(code, `${name}: ${shown} is not a time between ${day(PLAUSIBLE_TIME.min)} and ${day(PLAUSIBLE_TIME.max)} (RFC 3339 or epoch milliseconds)`);
}
