// A labelled population of lone elders for bench/care.ts: who uses how much water when, who goes out, stays
// away or falls, which flats drip, which meters report how — and the ground truth of every incident, absence,
// outage and drip, so an alert can be called right or wrong.
//
// Modelled from /work/shared/DOMAIN.md §1 (thresholds, NB batches of 15-min intervals uploaded 1–4 times a day,
// 1 L register resolution) and what volunteers report (issue #10): frugal elders using 3–55 L a day, low,
// normal and heavy users (70–200 L a day); days out, overnight stays with children, hospital stays — told to
// the service or not; dripping toilets (1–3 L/h); hourly meters and NB meters uploading 2–4 times a day; late,
// duplicate and clock-skewed uploads; outages. Every elder draws from its own seeded stream, so the same seed
// gives the same month byte for byte.
//
// It is deliberately NOT the generator the model was tuned on: habits are drawn per elder from wide ranges, and
// `variant` changes the population's shape (see VARIANTS) so a model fitted to one shape shows.
import { Rng } from '../simulators/lib/prng.js';
import { WaterMeterSim } from '../simulators/devices/water-meter.js';
import type { SimMessage } from '../simulators/devices/device.js';
import { isoCst, HOUR, MINUTE, DAY } from '../simulators/lib/time.js';

export type UserClass = 'frugal' | 'low' | 'normal' | 'heavy';
export type MeterType = 'hourly-15' | 'hourly-60' | 'nb2-15' | 'nb3-60' | 'nb4-15';
export type AbsenceKind = 'day_out' | 'overnight' | 'hospital';

export interface Absence {
  kind: AbsenceKind;
  from: number;
  to: number;
  /** Told to the service: bench/care.ts posts it to POST /api/care/absences as a grid member would. */
  registered: boolean;
}

export interface Incident {
  /** The fall: no real use from here … */
  start: number;
  /** … until here (found, hospital, back). */
  end: number;
  /** The last real use before the fall (drips are not use). */
  lastUse: number;
}

export interface Outage {
  from: number;
  to: number;
  /** The meter kept its intervals and uploads them when it is back; else they are lost. */
  backlog: boolean;
}

export interface Drip {
  from: number;
  lph: number;
  /** Present from the start of the run (an old drip), or started during it (a new one: worth a 漏水提醒). */
  isNew: boolean;
}

export interface Elder {
  index: number;
  householdId: string;
  deviceId: string;
  secret: string;
  cls: UserClass;
  dailyLitres: number;
  meter: MeterType;
  format: 'canonical' | 'nb-batch';
  /** Meter clock minus true time, ms. */
  skewMs: number;
  drip?: Drip;
  incidents: Incident[];
  absences: Absence[];
  outages: Outage[];
  /** True times of real uses (not drips), sorted. */
  uses: number[];
}

export interface Population {
  start: number;
  end: number;
  /** Alerts before this are the model's cold start, reported apart. */
  learnedFrom: number;
  elders: Elder[];
  /** Every upload, in send-time order. */
  messages: SimMessage[];
  devices: Map<string, WaterMeterSim>;
}

export interface PopulationOptions {
  elders: number;
  days: number;
  seed: string;
  /** Days at the start counted as the model's cold start (false alerts reported apart). */
  warmupDays: number;
  incidents: number;
  variant?: keyof typeof VARIANTS;
}

/** Population shapes: the default, and variants that move habits the model must not have been tuned to. */
export const VARIANTS = {
  base: { frugalShare: 0.25, morningHabit: [0.8, 0.97], dayOutRate: 0.12, nightOwlShare: 0.1, nbShare: 0.45 },
  /** More frugal, less regular elders; more days out; mostly NB meters. */
  irregular: { frugalShare: 0.45, morningHabit: [0.6, 0.9], dayOutRate: 0.2, nightOwlShare: 0.2, nbShare: 0.7 },
  /**
   * Added after the model's settings were chosen and never tuned on: fewer frugal elders with firmer morning
   * habits, few days out, mostly hourly meters — the other side of the irregular one.
   */
  steady: { frugalShare: 0.15, morningHabit: [0.9, 0.99], dayOutRate: 0.06, nightOwlShare: 0.05, nbShare: 0.25 },
} as const;

const CLASSES: Record<UserClass, [number, number]> = {
  frugal: [3, 55],
  low: [40, 80],
  normal: [70, 140],
  heavy: [70, 200],
};
const METER_FORMAT: Record<MeterType, 'canonical' | 'nb-batch'> = {
  'hourly-15': 'canonical',
  'hourly-60': 'canonical',
  'nb2-15': 'nb-batch',
  'nb3-60': 'nb-batch',
  'nb4-15': 'nb-batch',
};
/** Monday 2026-03-02 00:00 China time. */
export const POPULATION_START = Date.parse('2026-03-02T00:00:00+08:00');

const logUniform = (r: Rng, a: number, b: number) => Math.exp(r.between(Math.log(a), Math.log(b)));

export function buildPopulation(o: PopulationOptions): Population {
  const v = VARIANTS[o.variant ?? 'base'];
  const root = new Rng(`care:${o.seed}:${o.variant ?? 'base'}`);
  const start = POPULATION_START;
  const end = start + o.days * DAY;
  const learnedFrom = start + o.warmupDays * DAY;
  const elders: Elder[] = [];
  const devices = new Map<string, WaterMeterSim>();
  const messages: SimMessage[] = [];
  // Which elders fall: spread over the population, drip flats included on purpose.
  const fallers = new Set<number>();
  const pickR = root.fork('fallers');
  while (fallers.size < Math.min(o.incidents, o.elders)) fallers.add(pickR.int(o.elders));

  for (let i = 0; i < o.elders; i++) {
    const r = root.fork(`elder-${i}`);
    const cls: UserClass = r.chance(v.frugalShare) ? 'frugal' : r.pick(['low', 'normal', 'heavy'] as const);
    const dailyLitres = logUniform(r, ...CLASSES[cls]);
    const nb = r.chance(v.nbShare);
    const meter: MeterType = nb ? r.pick(['nb2-15', 'nb3-60', 'nb4-15'] as const) : r.chance(0.7) ? 'hourly-15' : 'hourly-60';
    const elder: Elder = {
      index: i,
      householdId: `ce-${i}`,
      deviceId: `ce-wm-${i}`,
      secret: `ce-wm-secret-${i}-${o.seed}-0123456789`,
      cls,
      dailyLitres,
      meter,
      format: METER_FORMAT[meter],
      skewMs: r.chance(0.3) ? Math.round(r.between(-10, 10) * MINUTE) : 0,
      incidents: [],
      absences: [],
      outages: [],
      uses: [],
    };
    // Drips: a fifth of the flats drip from the start, one in ten starts dripping during the run.
    const dr = r.next();
    if (dr < 0.2) elder.drip = { from: start, lph: r.between(1, 3), isNew: false };
    else if (dr < 0.3) elder.drip = { from: start + Math.round(r.between(o.warmupDays + 1, o.days - 3) * DAY), lph: r.between(1, 3), isNew: true };

    // Habits.
    const nightOwl = r.chance(v.nightOwlShare);
    const wake = nightOwl ? r.between(8, 10) : r.between(5, 8);
    const bed = nightOwl ? r.between(23, 25) : r.between(20, 23);
    const morningHabit = r.between(v.morningHabit[0], v.morningHabit[1]);
    const nightToilet = r.between(0, cls === 'frugal' ? 0.6 : 1.2);
    // Frugal elders use water in small amounts (a basin, a kettle, a bucket-flushed toilet); others flush.
    const smallMean = cls === 'frugal' ? Math.max(0.6, Math.min(4, dailyLitres / r.between(3, 7))) : r.between(3, 6);
    const showerP = cls === 'heavy' ? r.between(0.4, 0.9) : cls === 'normal' ? r.between(0.2, 0.5) : cls === 'low' ? r.between(0.05, 0.2) : 0;
    const laundryP = cls === 'frugal' ? 0 : r.between(0.05, 0.2);

    // Absences and the incident, day by day, never overlapping.
    const busy: Array<[number, number]> = [];
    const free = (a: number, b: number) => busy.every(([x, y]) => b <= x - 12 * HOUR || a >= y + 12 * HOUR);
    if (fallers.has(i)) {
      for (let tries = 0; tries < 50; tries++) {
        const day = Math.floor(r.between(Math.max(3, o.warmupDays), o.days - 3));
        const awake = r.chance(0.8);
        const hour = awake ? r.between(wake + 1, bed - 0.5) : r.between(bed, wake + 24) % 24;
        const s = start + day * DAY + hour * HOUR;
        const e = s + r.between(30, 48) * HOUR;
        if (e > end - 6 * HOUR || !free(s, e)) continue;
        elder.incidents.push({ start: s, end: e, lastUse: s });
        busy.push([s, e]);
        break;
      }
    }
    if (r.chance(cls === 'heavy' ? 0.05 : 0.12)) {
      const s = start + Math.floor(r.between(1, o.days - 4)) * DAY + r.between(9, 17) * HOUR;
      const e = s + r.between(3, 10) * DAY;
      if (free(s, e)) (busy.push([s, Math.min(e, end)]), elder.absences.push({ kind: 'hospital', from: s, to: Math.min(e, end), registered: r.chance(0.5) }));
    }
    const overnights = r.poisson(o.days / 30);
    for (let k = 0; k < overnights; k++) {
      const s = start + Math.floor(r.between(1, o.days - 2)) * DAY + r.between(9, 18) * HOUR;
      const e = s + Math.ceil(r.between(0.5, 3)) * DAY - r.between(-3, 4) * HOUR;
      if (free(s, e) && e < end) (busy.push([s, e]), elder.absences.push({ kind: 'overnight', from: s, to: e, registered: r.chance(0.5) }));
    }
    for (let d = 0; d < o.days; d++) {
      if (!r.chance(v.dayOutRate)) continue;
      const s = start + d * DAY + r.between(wake + 1.5, 13) * HOUR;
      const e = s + r.between(3, 10) * HOUR;
      if (free(s, e) && e < end) (busy.push([s, e]), elder.absences.push({ kind: 'day_out', from: s, to: e, registered: false }));
    }
    elder.absences.sort((a, b) => a.from - b.from);
    const home = (t: number) => busy.every(([x, y]) => t < x || t >= y);

    // Uses, day by day (from the day before the run, so the first night has its toilet trips).
    const uses: Array<[number, number]> = [];
    const at = (t: number, litres: number) => {
      if (t >= start && t < end && home(t)) uses.push([t, litres]);
    };
    for (let d = -1; d < o.days; d++) {
      const day0 = start + d * DAY;
      const w = day0 + (wake + r.normal() * 0.4) * HOUR;
      const b = day0 + (bed + r.normal() * 0.5) * HOUR;
      const mult = Math.exp(r.normal() * 0.3);
      let budget = dailyLitres * mult;
      if (r.chance(showerP)) (at(r.chance(0.6) ? w + r.between(0.2, 1.5) * HOUR : b - r.between(0.5, 2) * HOUR, r.between(25, 50)), (budget -= 35));
      if (r.chance(laundryP)) (at(w + r.between(1.5, 4) * HOUR, r.between(30, 60)), (budget -= 40));
      // The morning: most days a use soon after getting up (the habit the model should learn).
      if (r.chance(morningHabit)) (at(w + r.between(0.05, 1) * HOUR, smallMean * r.between(0.7, 1.5)), (budget -= smallMean));
      const n = r.poisson(Math.max(0.5, budget / smallMean));
      for (let k = 0; k < n; k++) {
        const u = r.next();
        let t: number;
        if (u < 0.25) t = w + r.between(0, 2) * HOUR;
        else if (u < 0.45) t = day0 + (11.5 + r.normal() * 0.7) * HOUR;
        else if (u < 0.65) t = day0 + (17.8 + r.normal() * 0.8) * HOUR;
        else if (u < 0.8) t = b - r.between(0, 1.2) * HOUR;
        else t = w + r.next() * (b - w);
        at(Math.min(Math.max(t, w), b), smallMean * r.between(0.4, 1.8));
      }
      for (let k = r.poisson(nightToilet); k > 0; k--) at(b + r.next() * (w + DAY - b), cls === 'frugal' ? smallMean : r.between(3, 6));
    }
    uses.sort((a, b) => a[0] - b[0]);
    elder.uses = uses.map((u) => u[0]);
    for (const inc of elder.incidents) {
      let last = start;
      for (const u of elder.uses) if (u < inc.start) last = u;
      inc.lastUse = last;
    }

    // Outages: a third of the meters lose their uplink once for 6–30 h.
    if (r.chance(0.3)) {
      const s = start + r.between(1, o.days - 2) * DAY;
      elder.outages.push({ from: s, to: Math.min(end, s + r.between(6, 30) * HOUR), backlog: r.chance(0.5) });
    }

    // The meter: 1 L register, intervals, uploads.
    const sim = new WaterMeterSim({ id: elder.deviceId, kind: 'water-meter', format: elder.format, communityId: COMMUNITY_ID, householdId: elder.householdId });
    sim.stamp = (t) => t + elder.skewMs;
    devices.set(elder.deviceId, sim);
    const intervalMs = meter.endsWith('-60') ? HOUR : 15 * MINUTE;
    const uploadsPerDay = meter.startsWith('hourly') ? 24 : Number(meter[2]);
    const firstUpload = meter.startsWith('hourly') ? 0 : r.between(0, 24 / uploadsPerDay) * HOUR;
    let register = 100_000 + r.int(50_000); // litres, fractional; the meter shows its floor
    let ui = 0;
    const pending: Array<{ start: number; end: number; litres: number }> = [];
    const litresIn = (a: number, b: number) => {
      let l = 0;
      while (ui < uses.length && uses[ui][0] < b) l += uses[ui++][1];
      if (elder.drip && b > elder.drip.from) l += (elder.drip.lph * (b - Math.max(a, elder.drip.from))) / HOUR;
      return l;
    };
    const out = (t: number, o: Outage | undefined) => o !== undefined && t >= o.from && t < o.to;
    const outage = elder.outages[0];
    const pr = r.fork('uploads');
    let nextUpload = start + firstUpload;
    for (let t = start; t < end; t += intervalMs) {
      const before = Math.floor(register);
      register += litresIn(t, t + intervalMs);
      const litres = Math.floor(register) - before;
      // An outage without backlog loses what the meter measured then (a reset logger, a full buffer).
      if (!(out(t, outage) && !outage.backlog)) pending.push({ start: t, end: t + intervalMs, litres });
      while (nextUpload <= t + intervalMs && nextUpload < end) {
        const sendAt = nextUpload + (meter.startsWith('hourly') ? pr.between(5, 90) * 1000 : pr.between(0, 10) * MINUTE);
        nextUpload += (24 / uploadsPerDay) * HOUR;
        if (out(sendAt, outage)) continue;
        // A failed upload: the intervals wait for the next one.
        if (pr.chance(meter.startsWith('hourly') ? 0.03 : 0.05)) continue;
        const ready = pending.filter((p) => p.end <= sendAt);
        if (!ready.length) continue;
        pending.splice(0, ready.length);
        const canonical = {
          type: 'reading',
          ts: isoCst(sendAt + elder.skewMs),
          totalM3: Math.floor(register) / 1000,
          intervals: ready.map((p) => ({ start: isoCst(p.start + elder.skewMs), end: isoCst(p.end + elder.skewMs), litres: p.litres })),
          valve: 'open',
          batteryPct: 90,
          rssi: -90,
        };
        // A batch that arrives hours late (an NB retry on the next network attach).
        const late = !meter.startsWith('hourly') && pr.chance(0.08) ? pr.between(1, 6) * HOUR : 0;
        messages.push(sim.message(sendAt + late, canonical));
        // The same batch again (the meter did not see the acknowledgement).
        if (pr.chance(0.04)) messages.push(sim.message(sendAt + late + pr.between(1, 15) * MINUTE, canonical));
      }
    }
    elders.push(elder);
  }
  messages.sort((a, b) => a.t - b.t);
  return { start, end, learnedFrom, elders, messages, devices };
}

export const COMMUNITY_ID = 'carebench';
