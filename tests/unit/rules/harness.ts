// Calls one rule directly, the way the engine does, and keeps what the engine would keep between calls (the
// rule's state, its pending deadline, whether its alert is open) so a test reads as a story of messages.
// Nothing here touches a store or a clock: rules are pure.
import type { Action, Rule, RuleConfigBase, RuleContext, RuleInput, OpenAlert } from '../../../src/rules/lib/types.js';
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
  }

  ctx(now: number): RuleContext<C> {
    const o = this.o;
    const d = o.device;
    return {
      now,
      subject: o.subject ?? d?.id ?? 'subject',
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

  /** Run one input at `now` and apply the actions the way the engine would. */
  run(input: RuleInput, now: number): Action<S>[] {
    if (input.type === 'reading') {
      this.lastSeenAt = Math.max(this.lastSeenAt ?? -Infinity, input.reading.ts);
      this.cadence = observe(this.cadence, input.reading.ts, input.reading.receivedAt);
    }
    const actions = this.rule.evaluate(input, this.state, this.ctx(now));
    for (const a of actions) {
      this.log.push({ at: now, action: a });
      switch (a.type) {
        case 'open':
          if (!this.alert) {
            this.opened++;
            this.alert = { id: this.opened, status: 'open', severity: a.severity, count: 1, openedAt: now, details: a.details };
          } else this.alert = { ...this.alert, count: this.alert.count + 1, details: a.details };
          break;
        case 'update':
          if (this.alert) this.alert = { ...this.alert, details: a.details };
          break;
        case 'resolve':
          this.alert = undefined;
          break;
        case 'deadline':
          this.deadline = a.due;
          break;
        case 'cancelDeadline':
          this.deadline = undefined;
          break;
        case 'state':
          this.state = a.state ?? undefined;
          break;
        case 'lot':
          this.lot = a.occupied;
          break;
        case 'note':
          break;
      }
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
