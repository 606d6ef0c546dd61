// 车位已满 and the live lot counts behind it. DOMAIN.md §4: free = capacity − (entries − exits), clamped to
// 0…capacity (Bath car parks count barrier entries and exits against capacity), reconciled with geomagnetic
// occupancy. Gate counting keeps the set of plates inside, so a second read of the same car counts once and an
// `out` for a car never seen `in` (missed read, a car that was inside before the gate went live) cannot take
// the count below what is really there. Bay sensors (resident and visitor zones) give a lower bound, and once
// every space the lot rents has a sensor that has reported, their count is the truth.
import type { Action, Rule, RuleConfigBase } from './lib/types.js';
import { normalisePlate } from './lib/types.js';

export interface LotFullConfig extends RuleConfigBase {
  /** Alert when free spaces are at or below this. */
  freeAtMost: number;
}

export interface LotState {
  /** Plate → event time it entered. */
  inside: Record<string, number>;
  /** Bay space id → occupied, as its sensor last said. */
  bays: Record<string, boolean>;
  /** Exits of cars never seen entering (kept for reconciliation reports). */
  unmatchedOuts: number;
  occupied: number;
}

const BAYS = new Set(['resident', 'visitor']);

/** Occupied spaces from gate counts and bay sensors, clamped to 0…capacity. */
export function lotOccupied(s: Pick<LotState, 'inside' | 'bays'>, capacity: number): number {
  const byGate = Object.keys(s.inside).length;
  const reported = Object.values(s.bays);
  const bySensors = reported.filter(Boolean).length;
  const n = reported.length >= capacity ? bySensors : Math.max(byGate, bySensors);
  return Math.min(Math.max(n, 0), capacity);
}

export const lotFull: Rule<LotState, LotFullConfig> = {
  name: 'lot_full',
  description: "a lot's free spaces reach 0 (live counts from gates and bay sensors); resolves when a space frees",
  subjectType: 'lot',
  deviceKinds: ['smart-gate', 'parking-sensor'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, freeAtMost: 0 },
  configSchema: { freeAtMost: { type: 'integer', minimum: 0 } },
  subjects(r, { device, space }) {
    if (device.kind === 'smart-gate') return r.type === 'plate' && device.lotId ? [device.lotId] : [];
    return space && BAYS.has(space.zone) && typeof r.payload.occupied === 'boolean' ? [space.lotId] : [];
  },
  evaluate(input, state, ctx) {
    if (input.type !== 'reading' || !ctx.lot) return [];
    const r = input.reading;
    const s: LotState = state
      ? { ...state, inside: { ...state.inside }, bays: { ...state.bays } }
      : { inside: {}, bays: {}, unmatchedOuts: 0, occupied: 0 };
    const capacity = ctx.lot.capacity;

    if (r.kind === 'smart-gate') {
      const plate = normalisePlate(String(r.payload.plate));
      if (r.payload.direction === 'in') {
        s.inside[plate] ??= r.ts;
        // More cars inside than spaces means exits were missed: the longest-inside entries are the stale ones.
        const plates = Object.keys(s.inside);
        if (plates.length > capacity)
          plates
            .sort((a, b) => s.inside[a] - s.inside[b])
            .slice(0, plates.length - capacity)
            .forEach((p) => delete s.inside[p]);
      } else if (plate in s.inside) delete s.inside[plate];
      else s.unmatchedOuts++;
    } else if (ctx.space) {
      s.bays[ctx.space.id] = r.payload.occupied === true;
    }

    const occupied = lotOccupied(s, capacity);
    const free = capacity - occupied;
    const out: Action<LotState>[] = [];
    if (occupied !== s.occupied) out.push({ type: 'lot', occupied });
    s.occupied = occupied;
    out.push({ type: 'state', state: s });
    if (free <= ctx.config.freeAtMost && !ctx.alert) {
      out.push({ type: 'open', severity: 'info', title: `${ctx.lot.name} 车位已满`, details: { capacity, occupied, free } });
    } else if (free > ctx.config.freeAtMost && ctx.alert) {
      out.push({ type: 'resolve', reason: `已有空余车位（${free}）` });
    }
    return out;
  },
};
