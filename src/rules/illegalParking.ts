// 违停: a fire-lane space occupied ≥ 3 min or a no-parking space ≥ 10 min (CONTRACT.md; DOMAIN.md §3: 抚州
// tickets fire-lane parking after 3 min; 遂宁 warns after 1 min). Dwell runs on the sensor's own event times,
// so a message that arrives late still counts from when the car arrived.
//
// Geomagnetic sensors flap: a magnetometer alone is confused by a car's iron and ambient fields (DOMAIN.md §3),
// so a "free" that turns "occupied" again within flapSeconds is the same car — the dwell keeps its start —
// and an alert is resolved only once the space has stayed free for flapSeconds.
import type { Action, Rule, RuleConfigBase } from './lib/types.js';
import { titleOf } from './lib/place.js';

export interface IllegalParkingConfig extends RuleConfigBase {
  fireLaneMinutes: number;
  noParkingMinutes: number;
  flapSeconds: number;
}

export interface IllegalParkingState {
  occ: boolean;
  /** Event time the current occupation began. */
  since?: number;
  /** Event time the sensor last said free. */
  freeAt?: number;
  /** Newest event time seen; older messages (out of order) are ignored. */
  lastTs?: number;
}

const WATCHED = new Set(['fire_lane', 'no_parking']);
const iso = (t: number) => new Date(t).toISOString();

export const illegalParking: Rule<IllegalParkingState, IllegalParkingConfig> = {
  name: 'illegal_parking',
  description: 'a fire-lane or no-parking space stays occupied past its dwell time; resolves when vacated',
  subjectType: 'device',
  deviceKinds: ['parking-sensor'],
  stateful: true,
  defaults: { enabled: true, flapHoldMinutes: 5, fireLaneMinutes: 3, noParkingMinutes: 10, flapSeconds: 60 },
  configSchema: {
    fireLaneMinutes: { type: 'number', minimum: 0, maximum: 1440 },
    noParkingMinutes: { type: 'number', minimum: 0, maximum: 1440 },
    flapSeconds: { type: 'number', minimum: 0, maximum: 3600 },
  },
  subjects: (r, { space }) => (space && WATCHED.has(space.zone) && typeof r.payload.occupied === 'boolean' ? [r.deviceId] : []),
  evaluate(input, state, ctx) {
    const zone = ctx.space?.zone;
    if (!zone || !WATCHED.has(zone) || (input.type !== 'reading' && input.type !== 'deadline')) return [];
    const c = ctx.config;
    const dwellMs = (zone === 'fire_lane' ? c.fireLaneMinutes : c.noParkingMinutes) * 60_000;
    const flapMs = c.flapSeconds * 1000;
    const s: IllegalParkingState = { ...(state ?? { occ: false }) };
    const out: Action<IllegalParkingState>[] = [];

    if (input.type === 'deadline') {
      if (s.occ && s.since !== undefined && !ctx.alert) {
        out.push({
          type: 'open',
          severity: zone === 'fire_lane' ? 'major' : 'minor',
          title: zone === 'fire_lane' ? titleOf(ctx.where, '消防通道占用') : titleOf(ctx.where, '禁停区域违停'),
          details: { zone, occupiedSince: iso(s.since), thresholdMinutes: dwellMs / 60_000 },
        });
      } else if (!s.occ && ctx.alert) {
        out.push({ type: 'resolve', reason: `车辆已驶离（${iso(s.freeAt ?? ctx.now)}）` });
      }
      return out;
    }

    const r = input.reading;
    const occupied = r.payload.occupied;
    if (typeof occupied !== 'boolean') return [];
    if (s.lastTs !== undefined && r.ts < s.lastTs) return [];
    s.lastTs = r.ts;

    if (occupied && !s.occ) {
      const flap = s.since !== undefined && s.freeAt !== undefined && r.ts - s.freeAt <= flapMs;
      if (!flap) {
        // A new car. If the last one's alert is still open (its free spell outlived flapSeconds but no
        // deadline has fired yet), it left: close that alert first.
        if (ctx.alert) out.push({ type: 'resolve', reason: `车辆已驶离（${iso(s.freeAt ?? r.ts)}）` });
        s.since = r.ts;
      }
      s.occ = true;
      s.freeAt = undefined;
      if (!ctx.alert || !flap) out.push({ type: 'deadline', due: s.since! + dwellMs });
      else out.push({ type: 'cancelDeadline' }); // flap while alerted: the car never left
    } else if (!occupied && s.occ) {
      s.occ = false;
      s.freeAt = r.ts;
      out.push(ctx.alert ? { type: 'deadline', due: r.ts + flapMs } : { type: 'cancelDeadline' });
    } else if (occupied && s.since !== undefined && !ctx.alert && ctx.deadline === undefined) {
      out.push({ type: 'deadline', due: s.since + dwellMs }); // a heartbeat still occupied; re-arm if lost
    }
    out.push({ type: 'state', state: s });
    return out;
  },
};
