// What a rule is: `evaluate(input, state, ctx) → actions`, pure (DESIGN.md "Rules are pure"). A rule never
// touches the store, the clock or the bus: the runner (src/rules/lib/runner.ts, driven by src/alerts/engine.ts) gives it its own state for one
// subject, the time and the places involved, and applies the actions it returns in the transaction that
// caused them.
import type { DeviceKindName } from '../../config/schema.js';
import type { HealthWatch, DeviceKindDef } from '../../ingest/types.js';
import type { DeviceInfo, HouseholdInfo, LotInfo, SpaceInfo } from '../../config/inventory.js';
import type { Reading } from '../../ingest/reading.js';
import type { DeviceState } from '../../state/deviceState.js';
import type { AlertKind, AlertPlace, AlertStatus, Severity } from '../../alerts/types.js';
import type { AbsenceFacts, CareFacts } from './care.js';

/** What a rule's state is kept per: a device, a parking lot, a licence plate in a community, or a household. */
export type SubjectType = 'device' | 'lot' | 'plate' | 'household';

export type RuleInput =
  | { type: 'reading'; reading: Reading }
  /** The rule's own deadline for this subject came due. */
  | { type: 'deadline'; due: number }
  /** POST /api/visitors registered (or extended) a visitor plate. */
  | { type: 'visitor'; until: number; by: string }
  /** POST /api/care/visits logged a visit to a household (`by` a person id, `at` epoch ms). */
  | { type: 'visit'; household: string; by: string; at: number; note?: string }
  /** POST /api/care/absences marked the household away, or a person changed or ended an absence (`by` a person id). */
  | { type: 'absence'; household: string; by: string; change: 'marked' | 'changed' | 'ended'; absence: AbsenceFacts };

/** The open (not yet resolved) alert of this rule's kind for this subject, if any. */
export interface OpenAlert {
  id: number;
  status: AlertStatus;
  severity: Severity;
  count: number;
  openedAt: number;
  details: Record<string, unknown>;
}

export interface GateInfo {
  id: string;
  name: string;
  lotId: string;
  gridId: string;
  communityId: string;
}

export interface RuleContext<C> {
  /** The injected clock's time, epoch ms. */
  now: number;
  subject: string;
  /** This rule's settings for this subject: defaults < settings.rules < community < grid < household. */
  config: C;
  /** Best-known place for an alert about this subject (the rule may add a plate). */
  place: AlertPlace;
  alert?: OpenAlert;
  /** This rule's pending deadline for this subject, epoch ms. */
  deadline?: number;
  device?: DeviceInfo;
  deviceState?: DeviceState;
  /** The device kind's Chinese label (烟感), heartbeat period, routine message types and whether it uploads periodically (src/state/cadence.ts). */
  kind?: { label: string; heartbeatSeconds: number; periodic?: boolean; routineTypes?: readonly string[] };
  household?: HouseholdInfo;
  space?: SpaceInfo;
  lot?: LotInfo;
  gate?: GateInfo;
  /** Short Chinese place name for titles: 6号楼302, 6号楼东侧 消防通道, 小区大门. */
  where: string;
  /** The household's absences and last logged visit (src/rules/lib/care.ts); absent when there are none. */
  care?: CareFacts;
  /** Plate lists of the subject's community (plates normalised with normalisePlate). */
  plates: {
    isResident(plate: string): boolean;
    /** A registered visitor's allowed-until time, epoch ms. */
    visitorUntil(plate: string): number | undefined;
  };
}

export type Action<S> =
  /** Open an alert of the rule's kind for the subject, or count a repeat of the open one. */
  | { type: 'open'; severity: Severity; title: string; details: Record<string, unknown>; place?: Partial<AlertPlace> }
  /** Change the open alert's details (and title) without counting a repeat. */
  | { type: 'update'; details: Record<string, unknown>; title?: string }
  /** Resolve the open alert automatically, with the reason shown on its timeline. */
  | { type: 'resolve'; reason: string }
  /** A line on the open alert's timeline (e.g. the detector reported alarm_cleared). */
  | { type: 'note'; note: string; data?: Record<string, unknown> }
  | { type: 'deadline'; due: number }
  | { type: 'cancelDeadline' }
  /** The rule's new state for the subject; null forgets it. */
  | { type: 'state'; state: S | null }
  /** A household rule: water use at home ended an absence early (recorded on the absence, ended by 'water'). */
  | { type: 'endAbsence'; id: number; at: number; note: string }
  /**
   * A household rule: an absence's end passed with no sign of the elder back. A gentle notice (no alert) to the
   * household's carers — special-care staff of its grid and its paired volunteer — once per absence.
   */
  | { type: 'absenceOverdue'; id: number; title: string; lines: string[] }
  /** lot_full only: the lot's live counts changed. */
  | { type: 'lot'; occupied: number };

export interface Rule<S = unknown, C extends RuleConfigBase = RuleConfigBase> {
  /** The alert kind it raises; also its key in `rules:` settings, in deadline keys and in rule state. */
  name: AlertKind;
  /** One line for docs/rules.md and the API. */
  description: string;
  subjectType: SubjectType;
  /** Device kinds whose readings it looks at. */
  deviceKinds: readonly DeviceKindName[];
  /** A device-health rule: it looks at every kind whose definition lists this watch (not only `deviceKinds`). */
  health?: HealthWatch;
  /**
   * The reading types (`type` of the payload) it can act on; absent = every type. The runner skips the rule for
   * other types before calling `subjects()` or building any context (src/rules/lib/runner.ts).
   */
  readingTypes?: readonly string[];
  /** Inputs other than readings and its own deadlines that it takes. */
  takesVisitors?: boolean;
  /**
   * Logged care visits. A household rule gets them for the household; a device rule for each device of the
   * household of a kind in deviceKinds.
   */
  takesVisits?: boolean;
  /** Absences marked, changed or ended (`absence` input), delivered as takesVisits says. */
  takesAbsences?: boolean;
  /** Whether it keeps state per subject (stateless rules skip the state read on the hot path). */
  stateful: boolean;
  defaults: C;
  /** JSON Schema properties of its settings (the common `enabled` and `flapHoldMinutes` are added). */
  configSchema: Record<string, unknown>;
  /** The subjects a reading concerns; none means the rule has nothing to do with it. */
  subjects(reading: Reading, ctx: SubjectLookup): string[];
  evaluate(input: RuleInput, state: S | undefined, ctx: RuleContext<C>): Action<S>[];
}

export interface RuleConfigBase {
  enabled: boolean;
  /** A self-clearing alert that comes back within this time re-opens the same alert (flap damping). */
  flapHoldMinutes: number;
}

/** What `subjects()` may look at: the reading's device and where it is. */
export interface SubjectLookup {
  device: DeviceInfo;
  space?: SpaceInfo;
  household?: HouseholdInfo;
}

/** Plates as people and cameras write them differ in case, spaces and the middle dot: 沪A·12345 = 沪A12345. */
export function normalisePlate(plate: string): string {
  return plate.replace(/[\s·•.\-]/g, '').toUpperCase();
}

/** The kinds a rule looks at among these registered kinds: a health rule follows the kinds' own `health` lists. */
export function kindsOfRule(rule: Pick<Rule, 'deviceKinds' | 'health'>, kinds: readonly Pick<DeviceKindDef, 'kind' | 'health'>[]): string[] {
  const watch = rule.health;
  return watch ? kinds.filter((k) => k.health.includes(watch)).map((k) => k.kind) : [...rule.deviceKinds];
}
