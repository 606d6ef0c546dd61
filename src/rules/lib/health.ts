// Shared parts of the device-health rules (low_battery, device_tamper, device_fault).
import type { Reading } from '../../ingest/reading.js';
import type { RuleContext } from './types.js';
import type { Severity } from '../../alerts/types.js';
import type { HealthWatch } from '../../ingest/types.js';
import { deviceKinds } from '../../../devices/index.js';

/** The registered kinds a health rule watches (each kind's `health` list, devices/<kind>/index.ts). */
export function watching(watch: HealthWatch): string[] {
  return deviceKinds.filter((k) => k.health.includes(watch)).map((k) => k.kind);
}

/** Any registered kind's routine types: for a context that does not say which kind it is. */
const ANY_ROUTINE = new Set(deviceKinds.flatMap((k) => k.routineTypes));

/** A routine report says the device works; a later one resolves a health alert (CONTRACT.md). Per kind. */
export function isRoutine(r: Reading, kind?: { routineTypes?: readonly string[] }): boolean {
  return kind?.routineTypes ? kind.routineTypes.includes(r.type) : ANY_ROUTINE.has(r.type);
}

/**
 * A smoke detector that cannot warn a lone elder is a bigger problem than any other device being unwell:
 * major there, minor elsewhere (the same split CONTRACT.md asks for device_offline).
 */
export function healthSeverity(ctx: Pick<RuleContext<unknown>, 'device' | 'household'>): Severity {
  return ctx.device?.kind === 'smoke-detector' && ctx.household?.loneElder ? 'major' : 'minor';
}

export const isoTime = (t: number) => new Date(t).toISOString();
