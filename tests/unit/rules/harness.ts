// Runs one rule through the real rule runner (src/rules/lib/runner.ts) — the index by kind and type, the rule's
// `subjects()`, its context, and what each action means — over an in-memory world that keeps what the engine
// would keep between calls (the rule's state, its pending deadline, whether its alert is open), so a test reads
// as a story of messages. Nothing here touches a store or a clock: rules are pure.
import pino from 'pino';
import type { Action, Rule, RuleConfigBase, RuleContext, RuleInput, OpenAlert } from '../../../src/rules/lib/types.js';
import { RuleRunner, type Decision, type RuleEffects, type RuleWorld } from '../../../src/rules/lib/runner.js';
import type { Places } from '../../../src/rules/lib/context.js';
import { deviceKinds } from '../../../devices/index.js';
import type { Reading } from '../../../src/ingest/reading.js';
import type { DeviceInfo, HouseholdInfo, LotInfo, SpaceInfo } from '../../../src/config/inventory.js';
import type { DeviceKindName } from '../../../src/config/schema.js';
import { COMMON_DEFAULTS } from '../../../src/rules/lib/config.js';
import { emptySamples, observe, type CadenceSamples } from '../../../src/state/cadence.js';
import type { CareFacts } from '../../../src/rules/lib/care.js';

export const T0 = Date.parse('2025-03-01T00:00:00+08:00');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export function device(kind: DeviceKindName, extra: Partial<DeviceInfo> = {}): DeviceInfo {
  return { id: 'dev-1', kind, format: 'canonical', communityId: 'c1', gridId: 'g1', uplinkTopic: 'iot/c1/dev-1/up', ...extra };
}

export const elder: HouseholdInfo = {
  id: 'h-6-302',
  room: '302',
  communityId: 'c1',
  gridId: 'g1',
  buildingId: 'b6',
  buildingName: '6号楼',
  loneElder: true,
  displayName: '王婆婆',
  careContacts: [],
  plates: [],
};

export const family: HouseholdInfo = { ...elder, id: 'h-6-301', room: '301', loneElder: false, displayName: undefined };

export function reading(d: DeviceInfo, type: string, ts: number, fields: Record<string, unknown> = {}): Reading {
  return { deviceId: d.id, kind: d.kind, communityId: d.communityId, gridId: d.gridId, type, ts, receivedAt: ts, payload: { type, ...fields } };
}

export interface HarnessOptions {
  device?: DeviceInfo;
  household?: HouseholdInfo;
  space?: SpaceInfo;
  lot?: LotInfo;
  gate?: RuleContext<unknown>['gate'];
  subject?: string;
  config?: Record<string, unknown>;
  where?: string;
  residents?: string[];
  visitors?: Record<string, number>;
  heartbeatSeconds?: number;
  /** The kind uploads on its own schedule (water meters): device_offline follows the observed cadence. */
  periodic?: boolean;
  label?: string;
  /** Last heard (deviceState.lastSeenAt), for device_offline. */
  lastSeenAt?: number;
}

export class Harness<S, C extends RuleConfigBase> {
  state: S | undefined;
  deadline: number | undefined;
  alert: OpenAlert | undefined;
  /** Every action returned, in order, with the time it was returned at. */
  readonly log: Array<{ at: number; action: Action<S> }> = [];
  opened = 0;
  lot: number | undefined;
  lastSeenAt: number | undefined;
  /** The device's cadence samples, as DeviceStates keeps them (every reading observed). */
  cadence: CadenceSamples = emptySamples();
  /** What the care desk said (absences, the last visit): ctx.care. */
  care: CareFacts | undefined;

  constructor(
    readonly rule: Rule<S, C>,
    readonly o: HarnessOptions = {},
  ) {
    this.lastSeenAt = o.lastSeenAt;
    this.subject = o.subject ?? o.device?.id ?? 'subject';
    this.runner = new RuleRunner([rule], deviceKinds, pino({ level: 'silent' }));
  }

  ctx(now: number): RuleContext<C> {
    const o = this.o;
    const d = o.device;
    return {
      now,
      subject: this.subject,
      config: { ...COMMON_DEFAULTS, ...this.rule.defaults, ...o.config } as C,
      place: { communityId: 'c1', gridId: 'g1', deviceId: d?.id },
      alert: this.alert,
      deadline: this.deadline,
      device: d,
      deviceState: d
        ? {
            deviceId: d.id,
            connected: true,
            lastSeenAt: this.lastSeenAt ?? null,
            lastEventAt: this.lastSeenAt ?? null,
            batteryPct: null,
            rssi: null,
            lastType: null,
            last: null,
            meterTotalM3: null,
            accepted: 1,
            rejected: 0,
            cadence: this.cadence,
          }
        : undefined,
      kind: { label: o.label ?? '设备', heartbeatSeconds: o.heartbeatSeconds ?? 3600, periodic: o.periodic },
      household: o.household,
      space: o.space,
      lot: o.lot,
      gate: o.gate,
      where: o.where ?? '6号楼302',
      care: this.care,
      plates: {
        isResident: (p) => (o.residents ?? []).includes(p),
        visitorUntil: (p) => o.visitors?.[p],
      },
    };
  }

  /** The subject a deadline or another non-reading input is for: the option, else the last a reading named. */
  subject: string;
  private readonly runner: RuleRunner;
  private now = 0;

  /** What the runner asks: the options' places and settings, and what this harness keeps. */
  private readonly world: RuleWorld = {
    places: () => this.places(this.now),
    config: () => ({ ...COMMON_DEFAULTS, ...this.rule.defaults, ...this.o.config }) as RuleConfigBase,
    openAlert: () => this.alert,
    deadline: () => this.deadline,
    state: () => this.state,
    care: () => this.care,
  };

  /** What the actions do, in memory (the engine writes them to the store). */
  private readonly effects: RuleEffects = {
    open: (_kind, _subject, req) => {
      if (!this.alert) {
        this.opened++;
        this.alert = { id: this.opened, status: 'open', severity: req.severity, count: 1, openedAt: req.now, details: req.details };
      } else this.alert = { ...this.alert, count: this.alert.count + 1, details: req.details };
    },
    update: (_kind, _subject, details) => {
      if (this.alert) this.alert = { ...this.alert, details };
    },
    resolve: () => {
      this.alert = undefined;
    },
    note: () => undefined,
    setDeadline: (_key, due) => {
      this.deadline = due;
    },
    cancelDeadline: () => {
      this.deadline = undefined;
    },
    putState: (_kind, _subject, state) => {
      this.state = (state ?? undefined) as S | undefined;
    },
    lot: (_lot, occupied) => {
      this.lot = occupied;
    },
    endAbsence: () => undefined,
    absenceOverdue: () => undefined,
  };

  private places(now: number): Places {
    const { now: _now, subject: _subject, config: _config, alert: _alert, deadline: _deadline, care: _care, ...rest } = this.ctx(now);
    return { ...rest, levelKey: 'c1|g1|' };
  }

  /** Run one input at `now` through the runner; returns the actions the rule returned. */
  run(input: RuleInput, now: number): Action<S>[] {
    this.now = now;
    const decisions: Decision[] = [];
    if (input.type === 'reading') {
      const r = input.reading;
      this.lastSeenAt = Math.max(this.lastSeenAt ?? -Infinity, r.ts);
      this.cadence = observe(this.cadence, r.ts, r.receivedAt);
      const d = this.o.device;
      if (d) {
        // A device in a household says so (the inventory's rule); subjects() looks at it.
        const device = this.o.household && !d.householdId ? { ...d, householdId: this.o.household.id } : d;
        this.runner.forReading(r, { device, space: this.o.space, household: this.o.household }, now, this.world, decisions);
      }
    } else {
      const d = this.runner.decide(this.rule, this.subject, input, now, this.world);
      if (d) decisions.push(d);
    }
    const actions: Action<S>[] = [];
    for (const d of decisions) {
      if (input.type === 'reading') this.subject = d.subject;
      for (const a of d.actions as Action<S>[]) {
        this.log.push({ at: now, action: a });
        actions.push(a);
      }
      this.runner.apply(d, this.effects);
    }
    return actions;
  }

  /** A reading arrives (processed at `now`, default its own time). */
  read(r: Reading, now = r.ts): Action<S>[] {
    return this.run({ type: 'reading', reading: r }, now);
  }

  /** Move time to `now`, firing the pending deadline if it is due (as the scheduler would, repeatedly). */
  advance(now: number): Action<S>[] {
    const out: Action<S>[] = [];
    for (let i = 0; i < 100 && this.deadline !== undefined && this.deadline <= now; i++) {
      const due = this.deadline;
      this.deadline = undefined;
      out.push(...this.run({ type: 'deadline', due }, due));
    }
    return out;
  }

  /** A person resolves the alert (the rule is not asked). */
  personResolves(): void {
    this.alert = undefined;
  }

  actionsOf(type: Action<S>['type']): Array<Action<S>> {
    return this.log.map((l) => l.action).filter((a) => a.type === type);
  }
}
