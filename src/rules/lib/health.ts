// Shared parts of the device-health rules (low_battery, device_tamper, device_fault).
import type { Reading } from '../../ingest/reading.js';
import type { RuleContext } from './types.js';
import type { Severity } from '../../alerts/types.js';

/** Routine reports that say the device works; a later one resolves a health alert (CONTRACT.md). */
const ROUTINE = new Set(['heartbeat', 'reading', 'state', 'plate']);

export function isRoutine(r: Reading): boolean {
  return ROUTINE.has(r.type);
}

/**
 * A smoke detector that cannot warn a lone elder is a bigger problem than any other device being unwell:
 * major there, minor elsewhere (the same split CONTRACT.md asks for device_offline).
 */
export function healthSeverity(ctx: Pick<RuleContext<unknown>, 'device' | 'household'>): Severity {
  return ctx.device?.kind === 'smoke-detector' && ctx.household?.loneElder ? 'major' : 'minor';
}

export const isoTime = (t: number) => new Date(t).toISOString();
