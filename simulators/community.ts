// The community simulator: plays one sample community from its inventory — every water meter, smoke detector,
// parking sensor and gate camera it lists — as a realistic stream of device messages in virtual time.
//
//   water   diurnal use per household (morning and evening peaks, quiet nights) in 15-minute intervals; days
//           away (a lone elder staying with her daughter: the 珠海 false alarm of DOMAIN.md §1); now and then a
//           tap left running. Canonical meters report hourly with their intervals, NB meters upload the batch
//           once or twice a day (their heartbeatSeconds), as DOMAIN.md §1 describes.
//   gate    rush hours: residents' cars (households[].plates) out in the morning and back in the evening, errands
//           in between; visitors with plates of their own, most registered through POST /api/visitors beforehand,
//           some not, a few staying past their time.
//   parking resident bays follow their car; visitor bays fill with visitors; short stops in no-parking zones
//           and fire lanes, and once in a while a car that stays.
//   health  heartbeats per kind (smoke daily, parking 6 h, gate every minute), monthly smoke self-tests, the
//           occasional fault, tamper, reboot, dead meter and low battery.
//
// Deterministic for a seed: every draw comes from a seeded PRNG stream of its own entity (lib/prng.ts), and
// events are taken from a virtual-time queue in (time, order) — so any speed, from real time to as fast as
// the service takes it, sends the same bytes. On the event clock the messages' `ts` drive the service's time,
// so a day replays in seconds.
//
//   npm run community -- --community chunjiang --url mqtt://localhost:1883 [--seed 7] [--speed 60|max]
//       [--clock wall|event] [--start 2026-03-02T00:00:00+08:00] [--hours 24] [--api http://localhost:8080
//       --token <admin token>] [--secrets config/sample-secrets.json] [--dry-run]
import { parseArgs } from 'node:util';
import type { Inventory } from '../src/config/schema.js';
import type { CanonicalPayload } from '../src/ingest/types.js';
import { Rng } from './lib/prng.js';
import { EventQueue } from './lib/queue.js';
import { DAY, HOUR, MINUTE, cstHour, cstMidnight, isoCst, CST_OFFSET_MS } from './lib/time.js';
import { homeProvince, randomPlate } from './lib/plates.js';
import { devicesOf, loadCommunities, loadSecrets } from './lib/inventory.js';
import { ApiClient } from './lib/api.js';
import { connectAll, disconnectAll, play, type SimEvent } from './lib/play.js';
import { createDevice, type HelperArgs, type SimulatedDevice } from './devices/index.js';
import { SmokeDetectorSim } from './devices/smoke-detector.js';
import { WaterMeterSim } from './devices/water-meter.js';
import { ParkingSensorSim } from './devices/parking-sensor.js';
import { SmartGateSim } from './devices/smart-gate.js';
import { runAsCli } from './lib/cli.js';

export type { SimEvent };

/** How often things happen; per device (or household, space) per day unless the name says otherwise. */
export interface Rates {
  /** A household goes away for 1–3 days (no water use, meter still reporting). */
  away: number;
  /** A tap left running for 2–4 hours. */
  leak: number;
  /** A meter's valve fault or tamper alarm. */
  meterFault: number;
  /** A meter dies (flat battery, broken module) and stays silent. */
  meterSilent: number;
  /** Smoke detector self-test (button pressed; monthly maintenance). */
  smokeSelfTest: number;
  smokeFault: number;
  /** Cooking smoke sets a detector off (cleared a few minutes later). */
  smokeAlarm: number;
  /** Share of battery devices whose battery is already low at the start. */
  lowBatteryShare: number;
  /** Visitors per household per day. */
  visitorsPerHousehold: number;
  /** Share of visitors nobody registered. */
  unregisteredVisitorShare: number;
  /** Share of registered visitors staying past their time. */
  overstayShare: number;
  /** Stops per fire-lane space per day; `longStopShare` of all stops stay past the dwell limit. */
  fireLaneStops: number;
  noParkingStops: number;
  longStopShare: number;
  /** Share of cars that commute on a weekday (at weekends a third of it). */
  commuteShare: number;
  /** A parking sensor reboots (Nwave startup message). */
  sensorReboot: number;
}

export const DEFAULT_RATES: Rates = {
  away: 0.02,
  leak: 0.003,
  meterFault: 0.002,
  meterSilent: 0.001,
  smokeSelfTest: 1 / 30,
  smokeFault: 0.002,
  smokeAlarm: 0.001,
  lowBatteryShare: 0.03,
  visitorsPerHousehold: 0.1,
  unregisteredVisitorShare: 0.15,
  overstayShare: 0.08,
  fireLaneStops: 0.6,
  noParkingStops: 1.5,
  longStopShare: 0.08,
  commuteShare: 0.7,
  sensorReboot: 0.01,
};

/** A scripted event: `helper` of device `deviceId`, `at` ms after the start (the demo's early smoke alarm). */
export interface Injection {
  at: number;
  deviceId: string;
  helper: string;
  args?: HelperArgs;
}

export interface CommunitySimOptions {
  community: Inventory;
  seed: string | number;
  /** Virtual start, epoch ms; default Monday 2026-03-02 00:00 China time. */
  start?: number;
  /** Virtual length, ms; default 24 h. */
  durationMs?: number;
  /** Virtual time → time written into messages (the wall-clock demo runs faster than real time). */
  stamp?: (t: number) => number;
  rates?: Partial<Rates>;
  inject?: Injection[];
  /** Gate camera heartbeat period; cameras send every 5–30 s (DOMAIN.md §4), one a minute keeps volume sane. */
  gateHeartbeatSeconds?: number;
  /** Devices to leave out (e.g. ones a scenario drives itself). */
  exclude?: Iterable<string>;
}

export const DEFAULT_START = Date.parse('2026-03-02T00:00:00+08:00');

/** Relative water use by hour of day (China time): quiet nights, a morning peak, a lower evening peak. */
const HOUR_WEIGHT = [0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 2.0, 3.0, 2.2, 1.2, 0.8, 1.2, 1.0, 0.5, 0.4, 0.5, 0.8, 1.5, 2.2, 2.5, 2.0, 1.5, 0.8, 0.3];
const WEIGHT_SUM = HOUR_WEIGHT.reduce((a, b) => a + b, 0);
const SLOT = 15 * MINUTE;
/** Litres in one use (a flush, washing up, a shower's share of a slot). */
const MEAN_USE_LITRES = 6;

type Action = () => void;

interface Meter {
  device: WaterMeterSim;
  rng: Rng;
  householdId?: string;
  loneElder: boolean;
  dailyLitres: number;
  /** The current (or last) stay away from home. */
  awayFrom: number;
  awayUntil: number;
  leaks: Array<{ from: number; to: number; lph: number }>;
  slotEnd: number;
  period: number;
}

interface Car {
  plate: string;
  rng: Rng;
  inside: boolean;
  bay?: ParkingSensorSim;
}

interface Visitor {
  plate: string;
  bay?: ParkingSensorSim;
}

export class CommunitySimulator {
  readonly devices = new Map<string, SimulatedDevice>();
  readonly start: number;
  readonly end: number;
  readonly rates: Rates;
  /** What happened, by story (visitors, away days, long fire-lane stops, …) and messages by device kind. */
  readonly stats: Record<string, number> = {};
  private readonly queue = new EventQueue<Action>();
  private readonly rng: Rng;
  private readonly silent = new Set<string>();
  private out: SimEvent[] = [];
  private outIndex = 0;
  private now: number;
  private readonly meters: Meter[] = [];
  private readonly cars: Car[] = [];
  private readonly gateIn?: SmartGateSim;
  private readonly gateOut?: SmartGateSim;
  private readonly visitorBays: ParkingSensorSim[] = [];
  private readonly province: string;
  private readonly stamp: (t: number) => number;

  constructor(private readonly opts: CommunitySimOptions) {
    const c = opts.community;
    this.rng = new Rng(`${opts.seed}/${c.id}`);
    this.rates = { ...DEFAULT_RATES, ...opts.rates };
    this.start = opts.start ?? DEFAULT_START;
    this.end = this.start + (opts.durationMs ?? DAY);
    this.now = this.start;
    this.stamp = opts.stamp ?? ((t) => t);
    const exclude = new Set(opts.exclude ?? []);

    for (const info of devicesOf(c)) {
      if (exclude.has(info.id)) continue;
      const d = createDevice(info);
      d.stamp = this.stamp;
      const r = this.rng.fork(`battery/${d.info.id}`);
      d.batteryPct = r.chance(this.rates.lowBatteryShare) ? r.range(8, 18) : r.range(45, 100);
      d.rssi = -r.range(70, 110);
      this.devices.set(d.info.id, d);
    }

    const households = new Map(c.buildings.flatMap((b) => b.households.map((h) => [h.id, h] as const)));
    const spaces = new Map(c.parkingLots.flatMap((l) => l.spaces.map((s) => [s.id, s] as const)));
    const allPlates = [...households.values()].flatMap((h) => h.plates);
    this.province = homeProvince(allPlates);

    // Gates: a camera per lane when the community has two (…-in / …-out), else one camera for both lanes.
    const gates = [...this.devices.values()].filter((d): d is SmartGateSim => d instanceof SmartGateSim);
    this.gateIn = gates.find((g) => /-in$/.test(g.info.id)) ?? gates[0];
    this.gateOut = gates.find((g) => /-out$/.test(g.info.id)) ?? gates[gates.length - 1];

    // Cars: every resident plate, all parked at home at the start; the resident bays go to some of them.
    const carRng = this.rng.fork('cars');
    for (const plate of allPlates) this.cars.push({ plate, rng: this.rng.fork(`car/${plate}`), inside: true });
    const residentBays: ParkingSensorSim[] = [];
    for (const d of this.devices.values()) {
      if (!(d instanceof ParkingSensorSim) || !d.info.spaceId) continue;
      const zone = spaces.get(d.info.spaceId)?.zone;
      if (zone === 'resident') residentBays.push(d);
      else if (zone === 'visitor') this.visitorBays.push(d);
      else if (zone === 'fire_lane' || zone === 'no_parking') this.scheduleStops(d, zone);
      this.scheduleHeartbeats(d, (t) => this.emit(d, d.helpers.heartbeat(t, {})));
      this.scheduleDaily((day) => {
        const r = this.rng.fork(`reboot/${d.info.id}/${day}`);
        if (r.chance(this.rates.sensorReboot)) this.at(day + r.between(0, DAY), () => this.emit(d, d.helpers.startup(this.now, {})));
      });
    }
    const bayCars = [...this.cars];
    for (let i = bayCars.length - 1; i > 0; i--) {
      const j = carRng.int(i + 1);
      [bayCars[i], bayCars[j]] = [bayCars[j], bayCars[i]];
    }
    residentBays.forEach((bay, i) => {
      const car = bayCars[i];
      if (!car) return;
      car.bay = bay;
      bay.occupied = true; // parked overnight; its first message says so
      bay.since = this.start - car.rng.between(2, 14) * HOUR;
    });
    for (const car of this.cars) this.scheduleDaily((day) => this.planCar(car, day));
    if (this.gateIn) this.scheduleDaily((day) => this.planVisitors(day, households.size));
    for (const g of new Set([this.gateIn, this.gateOut])) if (g) this.scheduleGateHeartbeats(g);

    // Meters and smoke detectors.
    for (const d of this.devices.values()) {
      if (d instanceof WaterMeterSim) this.addMeter(d, d.info.householdId ? households.get(d.info.householdId) : undefined);
      else if (d instanceof SmokeDetectorSim) this.addSmokeDetector(d);
    }

    for (const inj of opts.inject ?? []) {
      const d = this.devices.get(inj.deviceId);
      if (!d) throw new Error(`injection for unknown device '${inj.deviceId}' (not in ${c.id})`);
      d.helper(inj.helper, this.start, inj.args); // fail now, not mid-run, on a bad helper name
      this.at(this.start + inj.at, () => {
        this.count('injected');
        this.push(d.helper(inj.helper, this.now, inj.args ?? {}));
      });
    }
  }

  /** The next event in virtual-time order, or undefined once the run is over. */
  next(): SimEvent | undefined {
    while (this.outIndex >= this.out.length) {
      this.out = [];
      this.outIndex = 0;
      const e = this.queue.pop();
      if (!e || e.t >= this.end) return undefined;
      this.now = e.t;
      e.item();
    }
    return this.out[this.outIndex++];
  }

  *events(): Generator<SimEvent> {
    for (let e = this.next(); e; e = this.next()) yield e;
  }

  // --- plumbing ----------------------------------------------------------------------------------------

  private at(t: number, action: Action): void {
    if (t >= this.start && t < this.end) this.queue.push(Math.round(t), action);
  }

  private count(what: string, n = 1): void {
    this.stats[what] = (this.stats[what] ?? 0) + n;
  }

  private push(m: ReturnType<SimulatedDevice['message']>): void {
    this.out.push({ type: 'mqtt', ...m });
    this.count(`messages.${this.devices.get(m.deviceId)?.info.kind ?? 'unknown'}`);
  }

  /** A message from `d` now, unless it has gone silent. */
  private emit(d: SimulatedDevice, canonical: CanonicalPayload): void {
    if (this.silent.has(d.info.id)) return;
    this.push(d.message(this.now, canonical));
  }

  private helper(d: SimulatedDevice, name: string, args: HelperArgs = {}): void {
    if (this.silent.has(d.info.id)) return;
    this.push(d.helper(name, this.now, args));
  }

  /** Run `plan(midnight)` at every China-time midnight of the run (and at the start, for the first day). */
  private scheduleDaily(plan: (day: number) => void): void {
    this.at(this.start, () => plan(cstMidnight(this.start)));
    for (let day = cstMidnight(this.start) + DAY; day < this.end; day += DAY) this.at(day, () => plan(day));
  }

  /** Every `heartbeatSeconds` (device override, else the kind's), at a phase of the device's own. */
  private scheduleHeartbeats(d: SimulatedDevice, beat: (t: number) => void, defaultSeconds = 6 * 3600): void {
    const period = (d.info.heartbeatSeconds ?? defaultSeconds) * 1000;
    const r = this.rng.fork(`heartbeat/${d.info.id}`);
    const first = this.start + r.between(0, period);
    const tick = (t: number) => {
      this.at(t, () => {
        beat(this.now);
        tick(t + period + r.between(-30_000, 30_000));
      });
    };
    tick(first);
  }

  private scheduleGateHeartbeats(g: SmartGateSim): void {
    const period = (this.opts.gateHeartbeatSeconds ?? 60) * 1000;
    const phase = this.rng.fork(`gate/${g.info.id}`).between(0, period);
    for (let t = this.start + phase; t < this.end; t += period) this.at(t, () => this.helper(g, 'heartbeat'));
  }

  // --- water ---------------------------------------------------------------------------------------------

  private addMeter(device: WaterMeterSim, household: Inventory['buildings'][number]['households'][number] | undefined): void {
    const rng = this.rng.fork(`meter/${device.info.id}`);
    const loneElder = household?.loneElder ?? false;
    // A lone elder uses ~100 L a day; a family three to four times that (DOMAIN.md §1 thresholds are per day).
    const daily = loneElder ? rng.between(70, 140) : rng.between(250, 450);
    device.totalLitres = rng.range(20_000, 400_000);
    const m: Meter = {
      device,
      rng,
      householdId: household?.id,
      loneElder,
      dailyLitres: daily,
      awayFrom: -Infinity,
      awayUntil: -Infinity,
      leaks: [],
      slotEnd: this.start - (this.start % SLOT),
      period: (device.info.heartbeatSeconds ?? 12 * 3600) * 1000,
    };
    this.meters.push(m);
    this.scheduleDaily((day) => this.planMeterDay(m, day));
    // Uploads: hourly meters at a minute of their own; NB meters (12 h or 24 h) from a morning hour of their
    // own (DOMAIN.md §1: one GSM meter uploads at 11:00 and 16:00), scattered by 10–60 s (DB35/T 2106-2022).
    let nominal: number;
    if (m.period <= HOUR) nominal = this.start + rng.between(0, m.period);
    else {
      nominal = cstMidnight(this.start) + rng.between(5, 11) * HOUR;
      while (nominal < this.start) nominal += m.period;
    }
    const report = (at: number) => {
      if (at >= this.end) return;
      this.at(at + rng.between(10_000, 60_000), () => {
        this.meterReport(m);
        report(at + m.period);
      });
    };
    report(nominal);
  }

  private planMeterDay(m: Meter, day: number): void {
    const r = this.rng.fork(`meterday/${m.device.info.id}/${day}`);
    if (m.awayUntil < day && r.chance(this.rates.away)) {
      // Leaves some time in the day, back 1–3 days later.
      const from = day + r.between(7, 11) * HOUR;
      m.awayFrom = from;
      m.awayUntil = from + r.range(1, 3) * DAY;
      this.at(from, () => this.count('water.awayDays'));
    }
    if (r.chance(this.rates.leak)) {
      const from = day + r.between(6, 22) * HOUR;
      const leak = { from, to: from + r.between(2, 4) * HOUR, lph: r.between(40, 150) };
      m.leaks.push(leak);
      this.at(from, () => this.count('water.leaks'));
      // Meters with leak detection raise their own alarm after an hour of flow.
      if (r.chance(0.5)) this.at(from + HOUR, () => this.helper(m.device, 'alarm', { code: 'leak', flowLph: Math.round(leak.lph) }));
    }
    if (r.chance(this.rates.meterFault)) {
      const code = r.pick(['valve_fault', 'tamper'] as const);
      this.at(day + r.between(0, DAY), () => {
        this.count(`water.${code}`);
        this.helper(m.device, 'alarm', { code });
      });
    }
    if (r.chance(this.rates.meterSilent)) {
      this.at(day + r.between(0, DAY), () => {
        this.count('water.meterDied');
        this.silent.add(m.device.info.id);
      });
    }
  }

  private away(m: Meter, t: number): boolean {
    return t >= m.awayFrom && t < m.awayUntil;
  }

  /** Litres in one 15-minute slot: Poisson-many uses weighted by the hour, plus any running tap. */
  private slotLitres(m: Meter, slotStart: number): number {
    let litres = 0;
    if (!this.away(m, slotStart)) {
      const mean = (m.dailyLitres * HOUR_WEIGHT[Math.floor(cstHour(slotStart))]) / WEIGHT_SUM / 4;
      const uses = m.rng.poisson(mean / MEAN_USE_LITRES);
      for (let i = 0; i < uses; i++) litres += m.rng.range(2, 10);
    }
    for (const leak of m.leaks) {
      const overlap = Math.min(leak.to, slotStart + SLOT) - Math.max(leak.from, slotStart);
      if (overlap > 0) litres += (leak.lph * overlap) / HOUR;
    }
    return litres;
  }

  private meterReport(m: Meter): void {
    // Measure every slot that has ended, whether or not the reading gets out (the register keeps counting).
    const upTo = this.now - (this.now % SLOT);
    for (; m.slotEnd + SLOT <= upTo; m.slotEnd += SLOT) m.device.record(m.slotEnd, m.slotEnd + SLOT, this.slotLitres(m, m.slotEnd));
    if (this.silent.has(m.device.info.id)) {
      m.device.pending = [];
      return;
    }
    this.emit(m.device, m.device.reading(this.now));
  }

  // --- smoke detectors -----------------------------------------------------------------------------------

  private addSmokeDetector(d: SmokeDetectorSim): void {
    const low = d.batteryPct <= 20;
    this.scheduleHeartbeats(
      d,
      () => {
        this.helper(d, 'heartbeat');
        if (low) this.helper(d, 'lowBattery', { batteryPct: d.batteryPct });
      },
      24 * 3600,
    );
    this.scheduleDaily((day) => {
      const r = this.rng.fork(`smokeday/${d.info.id}/${day}`);
      if (r.chance(this.rates.smokeSelfTest)) {
        this.at(day + r.between(9, 18) * HOUR, () => {
          this.count('smoke.selfTests');
          this.helper(d, 'selfTest');
        });
      }
      if (r.chance(this.rates.smokeFault)) this.at(day + r.between(0, DAY), () => this.helper(d, 'fault'));
      if (d.info.householdId && r.chance(this.rates.smokeAlarm)) {
        const t = day + r.pick([r.between(11, 12.5), r.between(17.5, 19)]) * HOUR;
        this.at(t, () => {
          this.count('smoke.cookingAlarms');
          this.helper(d, 'alarm', { smokePct: r.range(20, 45) });
        });
        this.at(t + r.between(2, 10) * MINUTE, () => this.helper(d, 'alarmCleared'));
      }
    });
  }

  // --- cars, visitors and the gate -----------------------------------------------------------------------

  private gateRead(direction: 'in' | 'out', plate: string, confidence: number): void {
    const g = direction === 'in' ? this.gateIn : this.gateOut;
    if (!g) return;
    this.helper(g, direction === 'in' ? 'enter' : 'exit', { plate, confidence });
    this.count(`gate.${direction}`);
  }

  /** A car leaves: its bay frees first, the exit camera reads it a few minutes later. */
  private carOut(car: Car): void {
    if (!car.inside) return;
    car.inside = false;
    if (car.bay) this.helper(car.bay, 'leave');
    this.at(this.now + car.rng.between(1, 4) * MINUTE, () => this.gateRead('out', car.plate, car.rng.range(85, 99)));
  }

  /** A car comes home: the entry camera reads it, its bay fills a few minutes later. */
  private carIn(car: Car): void {
    if (car.inside) return;
    car.inside = true;
    this.gateRead('in', car.plate, car.rng.range(85, 99));
    const bay = car.bay;
    if (bay) this.at(this.now + car.rng.between(1, 3) * MINUTE, () => this.helper(bay, 'park'));
  }

  private trip(car: Car, out: number, back: number): void {
    this.at(out, () => this.carOut(car));
    this.at(back, () => this.carIn(car));
  }

  private planCar(car: Car, day: number): void {
    const r = car.rng;
    const dow = new Date(day + CST_OFFSET_MS).getUTCDay();
    const weekday = dow >= 1 && dow <= 5;
    const clamp = (h: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, h));
    if (r.chance(weekday ? this.rates.commuteShare : this.rates.commuteShare / 3)) {
      // Rush hours: out around 07:45, back around 18:30.
      const out = clamp(7.75 + r.normal() * 0.6, 6, 10);
      const back = clamp(18.5 + r.normal() * 0.9, 16, 22.5);
      this.trip(car, day + out * HOUR, day + back * HOUR);
    } else if (r.chance(0.45)) {
      const out = r.between(9, 16);
      this.trip(car, day + out * HOUR, day + (out + r.between(0.5, 3)) * HOUR);
    } else if (r.chance(0.15)) {
      const out = r.between(19, 20.5);
      this.trip(car, day + out * HOUR, day + (out + r.between(0.75, 2)) * HOUR);
    }
  }

  private planVisitors(day: number, households: number): void {
    const r = this.rng.fork(`visitors/${day}`);
    const n = r.poisson(households * this.rates.visitorsPerHousehold);
    for (let i = 0; i < n; i++) {
      const vr = this.rng.fork(`visitor/${day}/${i}`);
      const province = vr.chance(0.85) ? this.province : vr.pick(['苏', '浙', '皖', '沪', '川', '渝']);
      const v: Visitor = { plate: randomPlate(vr, province) };
      const arrive = day + vr.between(9, 20.5) * HOUR;
      const stay = Math.min(vr.exp(90) + 15, 300) * MINUTE;
      const registered = !vr.chance(this.rates.unregisteredVisitorShare);
      let leave = arrive + stay;
      if (registered) {
        // The host registers the car beforehand (物业 app / console), for whole hours with one to spare.
        const allowed = Math.ceil(stay / HOUR) * HOUR + HOUR;
        const until = arrive + allowed;
        if (vr.chance(this.rates.overstayShare)) {
          leave = until + vr.between(30, 180) * MINUTE;
          this.at(arrive, () => this.count('visitors.overstaying'));
        }
        const communityId = this.opts.community.id;
        // Registered before the run began? Then at its start.
        this.at(Math.max(this.start, arrive - vr.between(5, 120) * MINUTE), () => {
          this.out.push({
            type: 'api',
            t: this.now,
            method: 'POST',
            path: '/api/visitors',
            body: { plate: v.plate, communityId, until: isoCst(Math.round(this.stamp(until))) },
            what: `register visitor ${v.plate}`,
          });
          this.count('visitors.registered');
        });
      } else this.at(arrive, () => this.count('visitors.unregistered'));
      this.at(arrive, () => {
        this.gateRead('in', v.plate, vr.range(80, 99));
        const bay = this.visitorBays.find((b) => !b.occupied && !this.silent.has(b.info.id));
        if (bay) {
          v.bay = bay;
          bay.occupied = true; // taken now, so the next visitor looks elsewhere; the sensor reports on arrival
          this.at(this.now + vr.between(1, 3) * MINUTE, () => this.helper(bay, 'park'));
        }
      });
      this.at(leave, () => {
        const bay = v.bay;
        if (bay) this.helper(bay, 'leave');
        this.at(this.now + vr.between(1, 3) * MINUTE, () => this.gateRead('out', v.plate, vr.range(80, 99)));
      });
    }
  }

  // --- fire lanes and no-parking zones -------------------------------------------------------------------

  private scheduleStops(d: ParkingSensorSim, zone: 'fire_lane' | 'no_parking'): void {
    this.scheduleDaily((day) => {
      const r = this.rng.fork(`stops/${d.info.id}/${day}`);
      const n = r.poisson(zone === 'fire_lane' ? this.rates.fireLaneStops : this.rates.noParkingStops);
      for (let i = 0; i < n; i++) {
        const t = day + r.between(7, 22) * HOUR;
        const long = r.chance(this.rates.longStopShare);
        // Deliveries and drop-offs are short; now and then somebody leaves the car there.
        const minutes = long ? (zone === 'fire_lane' ? r.between(5, 40) : r.between(12, 60)) : zone === 'fire_lane' ? r.between(0.5, 2.5) : r.between(2, 8);
        this.at(t, () => {
          if (d.occupied) return;
          this.count(long ? `parking.${zone}.long` : `parking.${zone}.short`);
          this.helper(d, 'park');
          this.at(this.now + minutes * MINUTE, () => this.helper(d, 'leave'));
        });
      }
    });
  }
}

/** Every event of a run, in order (for tests and dry runs). */
export function generate(opts: CommunitySimOptions): { events: SimEvent[]; sim: CommunitySimulator } {
  const sim = new CommunitySimulator(opts);
  return { events: [...sim.events()], sim };
}

// --- command line --------------------------------------------------------------------------------------------

const USAGE = `npm run community -- --community <id> --url mqtt://host:1883 [options]

  --community <id>     chunjiang | guihuayuan (any community in config/settings.yaml)
  --url <mqtt url>     the broker to publish to (each device logs in with its own secret)
  --seed <s>           PRNG seed (default 1): the same seed sends the same bytes
  --clock wall|event   how the service keeps time (default wall, as npm start). wall: the day starts now and
                       messages are stamped in real time even when --speed > 1; event: message times drive it
  --speed <n>|max      virtual seconds per real second (default 1; 'max' = as fast as acknowledged)
  --start <time>       virtual start (event clock; default 2026-03-02T00:00:00+08:00)
  --hours <n>          how long to simulate (default 24)
  --api <http url>     the service's HTTP API, to register visitors (and, on the event clock, to move the
  --token <token>      clock to the end of the run); an admin or staff token
  --secrets <file>     device secrets (default config/sample-secrets.json)
  --dry-run            print what would be sent, connect to nothing`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      community: { type: 'string' },
      url: { type: 'string' },
      seed: { type: 'string', default: '1' },
      clock: { type: 'string', default: 'wall' },
      speed: { type: 'string', default: '1' },
      start: { type: 'string' },
      hours: { type: 'string', default: '24' },
      api: { type: 'string' },
      token: { type: 'string' },
      secrets: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.community || (!values.url && !values['dry-run'])) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const community = loadCommunities().find((c) => c.id === values.community);
  if (!community) {
    console.error(`no community '${values.community}' in config/settings.yaml`);
    return 64;
  }
  const speed = values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) {
    console.error(`--speed must be a positive number or 'max', not '${values.speed}'`);
    return 64;
  }
  const wall = values.clock === 'wall';
  if (wall && !Number.isFinite(speed)) {
    console.error("--speed max needs --clock event: on the wall clock messages cannot run ahead of real time");
    return 64;
  }
  const start = wall ? Date.now() : values.start ? Date.parse(values.start) : DEFAULT_START;
  if (!Number.isFinite(start)) {
    console.error(`--start '${values.start}' is not a time`);
    return 64;
  }
  // Wall clock at speed n: a virtual second lasts 1/n real second and is stamped with the real time it is sent.
  const stamp = wall ? (t: number) => start + (t - start) / speed : undefined;
  const sim = new CommunitySimulator({ community, seed: values.seed, start, durationMs: Number(values.hours) * HOUR, stamp });

  if (values['dry-run']) {
    for (const e of sim.events())
      console.log(
        e.type === 'api'
          ? `${isoCst(e.t)}  api   ${e.what}`
          : `${isoCst(e.t)}  ${e.deviceId.padEnd(16)} ${e.payload.length}B ${JSON.stringify(e.canonical).slice(0, 140)}`,
      );
    console.error(JSON.stringify(sim.stats));
    return 0;
  }

  const secrets = loadSecrets(values.secrets).devices;
  const api = values.api && values.token ? new ApiClient(values.api, values.token) : undefined;
  console.error(`${community.name}: ${sim.devices.size} devices, seed ${values.seed}, ${values.hours} h from ${isoCst(start)} at ${Number.isFinite(speed) ? `${speed}×` : 'full speed'}`);
  await connectAll(sim.devices.values(), values.url!, secrets);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  try {
    const stats = await play(sim.events(), sim.devices, {
      mqttUrl: values.url!,
      secrets,
      speed,
      api,
      signal: stop.signal,
      onProgress: (p) => process.stderr.isTTY && process.stderr.write(`\r  ${isoCst(p.t)}  ${p.messages} messages  ${p.apiCalls} API calls   `),
    });
    if (api && !wall) await api.advanceClock(sim.end).catch((err: Error) => console.error(`\ncould not move the clock to the end: ${err.message}`));
    console.error(`\ndone: ${stats.messages} messages (${Object.entries(stats.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), ${stats.apiCalls} API calls${stats.apiSkipped ? `, ${stats.apiSkipped} skipped (no --api/--token)` : ''} in ${(stats.wallMs / 1000).toFixed(1)} s`);
    console.error(`stories: ${JSON.stringify(sim.stats)}`);
  } finally {
    await disconnectAll(sim.devices.values());
  }
  return 0;
}

runAsCli(import.meta.url, main);
