// 独居老人无用水: a lone elder's meter shows < 10 L over 12 h of covered time (CONTRACT.md; DOMAIN.md §1:
// 江苏路街道 and 龙岗 use < 0.01 m³ in 12 h, 0.01 m³ = 10 L).
//
// Covered time is what the meter's own data covers — intervals when given, else register deltas between
// readings — so a batch uploaded late is judged on its own timestamps, and a silent meter covers nothing: it
// raises device_offline, never this (DESIGN.md "No data is not the same as no use").
//
// When the data shows the quiet window, the rule sets a deadline `settleMinutes` after the window's end (in
// the meter's time) and judges again when it fires: an NB batch can arrive in pieces or out of order, and a
// piece showing use must be able to arrive before a volunteer is sent. A late batch whose window ended long
// ago is due at once. After an alert, the episode lasts until use resumes (≥ resumeLitres of new use): that
// resolves it automatically, and no second alert opens for the same quiet stretch after a person closed one.
import type { Rule, RuleConfigBase } from './lib/types.js';
import { careLabel } from './lib/place.js';
import {
  latestWindow,
  litresAfter,
  mergeSegments,
  pruneSegments,
  useFromReading,
  dataEnd,
  packSegments,
  unpackSegments,
  type PackedSegments,
  type Register,
} from './lib/water.js';

export interface NoWaterUseConfig extends RuleConfigBase {
  windowHours: number;
  minLitres: number;
  resumeLitres: number;
  settleMinutes: number;
  loneEldersOnly: boolean;
}

export interface NoWaterUseState {
  /** Covered spans of the last two windows (lib/water.ts packSegments). */
  use?: PackedSegments;
  reg?: Register;
  /** The quiet window an alert was raised for: its start, and the litres then counted from it. */
  episodeFrom?: number;
  litresAtOpen?: number;
}

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

export const noWaterUse: Rule<NoWaterUseState, NoWaterUseConfig> = {
  name: 'no_water_use',
  description: "a lone elder's meter shows < minLitres over windowHours of covered time; resolves when use resumes",
  subjectType: 'device',
  deviceKinds: ['water-meter'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, windowHours: 12, minLitres: 10, resumeLitres: 1, settleMinutes: 10, loneEldersOnly: true },
  configSchema: {
    windowHours: { type: 'number', exclusiveMinimum: 0, maximum: 168 },
    minLitres: { type: 'number', minimum: 0 },
    resumeLitres: { type: 'number', exclusiveMinimum: 0 },
    settleMinutes: { type: 'number', minimum: 0, maximum: 1440 },
    loneEldersOnly: { type: 'boolean' },
  },
  subjects: (r, { device }) => (device.householdId ? [r.deviceId] : []),
  evaluate(input, state, ctx) {
    const c = ctx.config;
    if (c.loneEldersOnly && !ctx.household?.loneElder) return [];
    if (input.type === 'visitor' || input.type === 'visit') return [];
    const windowMs = c.windowHours * H;
    const s: NoWaterUseState = state ?? {};
    const segs = unpackSegments(s.use);

    if (input.type === 'deadline') {
      if (ctx.alert || s.episodeFrom !== undefined) return [];
      const w = latestWindow(segs, windowMs);
      if (!w || w.coveredMs < windowMs || w.litres >= c.minLitres) return []; // later data showed use
      return [
        {
          type: 'open',
          severity: 'major',
          title: `${ctx.household ? careLabel(ctx.household) : ctx.where} ${c.windowHours}小时无用水`,
          details: {
            windowFrom: iso(w.from),
            windowTo: iso(w.to),
            coveredHours: Math.round((w.coveredMs / H) * 10) / 10,
            litres: w.litres,
            thresholdLitres: c.minLitres,
          },
        },
        { type: 'state', state: { ...s, episodeFrom: w.from, litresAtOpen: litresAfter(segs, w.from) } },
      ];
    }

    const u = useFromReading(input.reading, s.reg);
    const merged = mergeSegments(segs, u.segments);
    const end = dataEnd(merged);
    // Keep two windows of history, and the whole episode while one is open (zero spans compact to one).
    const keep = Math.max(2 * windowMs, s.episodeFrom !== undefined && end !== undefined ? end - s.episodeFrom : 0);
    const kept = pruneSegments(merged, keep);
    const next: NoWaterUseState = { ...s, use: packSegments(kept), reg: u.register };
    const actions: ReturnType<typeof noWaterUse.evaluate> = [{ type: 'state', state: next }];

    if (next.episodeFrom !== undefined) {
      const used = litresAfter(kept, next.episodeFrom) - (next.litresAtOpen ?? 0);
      if (used >= c.resumeLitres) {
        next.episodeFrom = undefined;
        next.litresAtOpen = undefined;
        if (ctx.alert) actions.push({ type: 'resolve', reason: `恢复用水（${Math.round(used * 10) / 10} 升）` });
      }
      return actions;
    }
    const w = latestWindow(kept, windowMs);
    const quiet = w !== undefined && w.coveredMs >= windowMs && w.litres < c.minLitres;
    if (quiet && ctx.deadline === undefined && !ctx.alert) actions.push({ type: 'deadline', due: w.to + c.settleMinutes * 60_000 });
    if (!quiet && ctx.deadline !== undefined) actions.push({ type: 'cancelDeadline' });
    return actions;
  },
};
