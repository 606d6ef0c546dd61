// The AI-camera rules (devices/ai-camera): one canonical event type raises one alert kind, per camera. A burst
// of the same event from one camera is one alert with its count raised (the engine's open-or-repeat), and an
// event again within `flapHoldMinutes` of a person closing it re-opens that alert. A camera never clears its own
// alert: a person who has looked resolves it.
import type { Rule, RuleConfigBase } from './types.js';
import type { Severity } from '../../alerts/types.js';
import type { AlertKind } from '../../alerts/kinds.js';
import { titleOf } from './place.js';

export function cameraRule(name: AlertKind, eventType: string, what: string, severity: Severity, description: string): Rule<undefined, RuleConfigBase> {
  return {
    name,
    description,
    subjectType: 'device',
    deviceKinds: ['ai-camera'],
    stateful: false,
    defaults: { enabled: true, flapHoldMinutes: 10 },
    configSchema: {},
    subjects: (r) => (r.type === eventType ? [r.deviceId] : []),
    evaluate(input, _state, ctx) {
      if (input.type !== 'reading') return [];
      const { reading } = input;
      const p = reading.payload;
      // A repeat replaces the details: the snapshots already attached to the open alert are carried over.
      const before = ctx.alert?.details;
      return [
        {
          type: 'open',
          severity,
          title: titleOf(ctx.where, what),
          details: {
            eventAt: new Date(reading.ts).toISOString(),
            confidence: p.confidence,
            region: p.region,
            event: p.event,
            eventCount: p.eventCount,
            channelName: p.channelName,
            temperatureC: p.temperatureC,
            // The picture is stored after the batch commits (src/residents/snapshots.ts), then attached here.
            snapshotPending: reading.picture ? true : undefined,
            snapshot: before?.snapshot,
            snapshots: before?.snapshots,
            snapshotError: p.snapshotError,
          },
        },
      ];
    },
  };
}
