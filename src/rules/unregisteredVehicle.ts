// 未登记车辆: a plate that is neither a resident's (households[].plates) nor a registered visitor's (POST
// /api/visitors, until not yet passed) enters through a gate (CONTRACT.md). Only a person resolves it — or
// registers the car as a visitor, which resolves it with that note. Low-confidence reads are skipped: a
// misread plate (DOMAIN.md §4: confidence 1–100) would send a guard after a car that is not there.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { normalisePlate } from './lib/types.js';
import { titleOf } from './lib/place.js';

export interface UnregisteredVehicleConfig extends RuleConfigBase {
  minConfidence: number;
}

export const plateSubject = (communityId: string, plate: string) => `${communityId}/${normalisePlate(plate)}`;
export const plateOf = (subject: string) => subject.slice(subject.indexOf('/') + 1);

export const unregisteredVehicle: Rule<undefined, UnregisteredVehicleConfig> = {
  name: 'unregistered_vehicle',
  description: "a plate not on the residents' or visitors' list enters; resolved by a person",
  subjectType: 'plate',
  deviceKinds: ['smart-gate'],
  readingTypes: ['plate'],
  takesVisitors: true,
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5, minConfidence: 60 },
  configSchema: { minConfidence: { type: 'number', minimum: 0, maximum: 100 } },
  subjects: (r) =>
    r.type === 'plate' && r.payload.direction === 'in' && typeof r.payload.plate === 'string'
      ? [plateSubject(r.communityId, r.payload.plate)]
      : [],
  evaluate(input, _state, ctx) {
    const plate = plateOf(ctx.subject);
    if (input.type === 'visitor') {
      return ctx.alert && input.until > ctx.now ? [{ type: 'resolve', reason: `已登记为访客（${input.by}）` }] : [];
    }
    if (input.type !== 'reading') return [];
    const p = input.reading.payload;
    if (typeof p.confidence === 'number' && p.confidence < ctx.config.minConfidence) return [];
    if (ctx.plates.isResident(plate)) return [];
    const until = ctx.plates.visitorUntil(plate);
    if (until !== undefined && until > input.reading.ts) return [];
    return [
      {
        type: 'open',
        severity: 'minor',
        title: titleOf(ctx.where, `未登记车辆入场 ${plate}`),
        details: {
          gateId: ctx.gate?.id,
          lane: p.lane,
          plateColor: p.plateColor,
          confidence: p.confidence,
          enteredAt: new Date(input.reading.ts).toISOString(),
          visitorExpiredAt: until !== undefined ? new Date(until).toISOString() : undefined,
        },
        place: { plate },
      },
    ];
  },
};
