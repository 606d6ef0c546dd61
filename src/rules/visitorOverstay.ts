// 访客超时: a registered visitor's car is still inside after its allowed time (CONTRACT.md). The deadline is
// the registration's `until` (+ graceMinutes); leaving resolves the alert, and so does a person extending the
// visit (POST /api/visitors again). A visitor whose time had already run out when it entered is an
// unregistered vehicle, not an overstay.
import type { Action, Rule, RuleConfigBase } from './lib/types.js';
import { plateOf, plateSubject } from './unregisteredVehicle.js';

export interface VisitorOverstayConfig extends RuleConfigBase {
  graceMinutes: number;
}

export interface VisitorOverstayState {
  lotId: string;
  gridId: string;
  gateId?: string;
  enteredAt: number;
  until: number;
}

const iso = (t: number) => new Date(t).toISOString();

export const visitorOverstay: Rule<VisitorOverstayState, VisitorOverstayConfig> = {
  name: 'visitor_overstay',
  description: 'a visitor plate stays past its allowed time; resolves on exit',
  subjectType: 'plate',
  deviceKinds: ['smart-gate'],
  readingTypes: ['plate'],
  takesVisitors: true,
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, graceMinutes: 0 },
  configSchema: { graceMinutes: { type: 'number', minimum: 0, maximum: 1440 } },
  subjects: (r) => (r.type === 'plate' && typeof r.payload.plate === 'string' ? [plateSubject(r.communityId, r.payload.plate)] : []),
  evaluate(input, state, ctx) {
    const graceMs = ctx.config.graceMinutes * 60_000;
    const plate = plateOf(ctx.subject);
    const out: Action<VisitorOverstayState>[] = [];

    if (input.type === 'deadline') {
      if (state && !ctx.alert)
        out.push({
          type: 'open',
          severity: 'minor',
          title: `访客车辆 ${plate} 超时停留`,
          details: { enteredAt: iso(state.enteredAt), until: iso(state.until), lotId: state.lotId, gateId: state.gateId },
          place: { gridId: state.gridId, plate },
        });
      return out;
    }
    if (input.type === 'visitor') {
      if (!state) return out;
      out.push({ type: 'state', state: { ...state, until: input.until } }, { type: 'deadline', due: input.until + graceMs });
      if (ctx.alert && input.until > ctx.now) out.push({ type: 'resolve', reason: `访客时间已延长（${input.by}）` });
      return out;
    }

    if (input.type !== 'reading') return out;
    const r = input.reading;
    if (r.payload.direction === 'out') {
      if (!state) return out;
      out.push({ type: 'state', state: null }, { type: 'cancelDeadline' });
      if (ctx.alert) out.push({ type: 'resolve', reason: `访客车辆已离场（${iso(r.ts)}）` });
      return out;
    }
    if (state || !ctx.lot) return out; // already inside: a second read of the same car
    const until = ctx.plates.visitorUntil(plate);
    if (until === undefined || until <= r.ts) return out;
    out.push(
      { type: 'state', state: { lotId: ctx.lot.id, gridId: ctx.lot.gridId, gateId: ctx.gate?.id, enteredAt: r.ts, until } },
      { type: 'deadline', due: until + graceMs },
    );
    return out;
  },
};
