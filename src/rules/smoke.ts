// 烟感报警: a smoke detector's `alarm` opens a critical alert; a `test` never does. `alarm_cleared` and
// `silenced` only go on the timeline: the detector going quiet says nothing about the flat, so a person who
// has checked closes the alert (CONTRACT.md "Alert kinds"; GB 25201-2010 §5.3: confirm every alarm, log the
// cause when false — DOMAIN.md §6).
import type { Rule, RuleConfigBase } from './lib/types.js';
import { titleOf } from './lib/place.js';

export const smoke: Rule<undefined, RuleConfigBase> = {
  name: 'smoke',
  description: 'a smoke detector reports alarm (not test); only a person resolves it',
  subjectType: 'device',
  deviceKinds: ['smoke-detector'],
  readingTypes: ['alarm', 'alarm_cleared', 'silenced'],
  stateful: false,
  defaults: { enabled: true, flapHoldMinutes: 5 },
  configSchema: {},
  subjects: (r) => (r.type === 'alarm' || r.type === 'alarm_cleared' || r.type === 'silenced' ? [r.deviceId] : []),
  evaluate(input, _state, ctx) {
    if (input.type !== 'reading') return [];
    const { reading } = input;
    const p = reading.payload;
    if (reading.type === 'alarm') {
      return [
        {
          type: 'open',
          severity: 'critical',
          title: titleOf(ctx.where, '烟感报警'),
          details: {
            eventAt: new Date(reading.ts).toISOString(),
            smokePct: p.smokePct,
            temperatureC: p.temperatureC,
            loneElder: ctx.household?.loneElder || undefined,
            // A GS524N alarm frame whose check byte was wrong is still an alarm (devices/smoke-detector/README.md);
            // the person who goes to look is told.
            checksumOk: p.checksumOk === false ? false : undefined,
          },
        },
      ];
    }
    if (!ctx.alert) return [];
    const note = reading.type === 'silenced' ? '烟感已消音' : '烟感报警已解除（待人工确认后关闭）';
    return [{ type: 'note', note, data: { event: reading.type, eventAt: new Date(reading.ts).toISOString() } }];
  },
};
