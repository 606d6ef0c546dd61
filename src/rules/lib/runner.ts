// The rule runner: which rules a reading can concern, the context a rule judges one subject in, the rule's
// verdict, and what each action it returns means. It holds no store, clock or transaction: it asks a RuleWorld
// (places, settings, the open alert, the pending deadline, the rule's state, the household's care facts) and
// hands each action to RuleEffects. The alert engine (src/alerts/engine.ts) gives it the store inside the
// transaction that caused the input; the rule test harness (tests/unit/rules/harness.ts) an in-memory world.
import type { Logger } from 'pino';
import type { DeviceKindDef } from '../../ingest/types.js';
import type { Reading } from '../../ingest/reading.js';
import type { AlertKind, AlertOpening } from '../../alerts/types.js';
import type { CareFacts } from './care.js';
import type { Places } from './context.js';
import { kindsOfRule, type Action, type OpenAlert, type Rule, type RuleConfigBase, type RuleContext, type RuleInput, type SubjectLookup } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rules differ in state and settings types
export type AnyRule = Rule<any, any>;

/** What the runner asks about the world a rule is judged in. */
export interface RuleWorld {
  /**
   * The device and where it is for this subject; undefined = the subject is gone (nothing to judge). A places
   * object given again is taken to have the same settings: the runner keeps each rule's config and deadline key
   * with it (a world whose settings change gives new places objects).
   */
  places(rule: AnyRule, subject: string, reading?: Reading): Places | undefined;
  /** The rule's merged settings for these places. */
  config(rule: AnyRule, places: Places): RuleConfigBase;
  openAlert(kind: AlertKind, subject: string): OpenAlert | undefined;
  /** The rule's pending deadline for the subject (key `${rule}:${subject}`). */
  deadline(key: string): number | undefined;
  state(kind: AlertKind, subject: string): unknown;
  care(householdId: string): CareFacts | undefined;
}

/** What the runner's actions do; each call belongs to the transaction of the input being run. */
export interface RuleEffects {
  open(kind: AlertKind, subject: string, req: AlertOpening): void;
  update(kind: AlertKind, subject: string, details: Record<string, unknown>, title: string | undefined, now: number): void;
  resolve(kind: AlertKind, subject: string, reason: string, now: number): void;
  note(kind: AlertKind, subject: string, note: string, data: Record<string, unknown> | undefined, now: number): void;
  setDeadline(key: string, due: number): void;
  cancelDeadline(key: string): void;
  putState(kind: AlertKind, subject: string, state: unknown, now: number): void;
  lot(lotId: string, occupied: number): void;
  endAbsence(id: number, at: number, note: string): void;
  absenceOverdue(id: number, title: string, lines: string[], now: number): void;
}

/** One rule's verdict on one subject: the actions, and what they are to be applied with. */
export interface Decision {
  rule: AnyRule;
  subject: string;
  /** The rule's deadline key for the subject. */
  key: string;
  input: RuleInput;
  ctx: RuleContext<RuleConfigBase>;
  actions: Action<unknown>[];
}

/** What the runner keeps for a rule and a places object the world gives again: see RuleRunner.slotOf. */
interface Slot {
  subject: string;
  key: string;
  config: RuleConfigBase | undefined;
}

export const deadlineKey = (rule: string, subject: string): string => `${rule}:${subject}`;

const NONE: readonly AnyRule[] = Object.freeze([]);

export class RuleRunner {
  readonly rules: readonly AnyRule[];
  readonly byName: ReadonlyMap<string, AnyRule>;
  /** device kind → the rules that look at its readings (by deviceKinds, or a health rule by the kind's watches). */
  private readonly byKind = new Map<string, AnyRule[]>();
  /** device kind → reading type → those of byKind that take the type (readingTypes); filled as types are seen. */
  private readonly byKindType = new Map<string, Map<string, readonly AnyRule[]>>();
  /** Each rule's position in `rules` (its slot in `slots`). */
  private readonly index = new Map<AnyRule, number>();
  /** Deadline keys and settings by places object and rule (slotOf). */
  private readonly slots = new WeakMap<Places, Array<Slot | undefined>>();
  /** forReading's scratch: subject type, subject, places, … of the reading being judged. */
  private readonly seen: Array<string | Places | undefined> = [];

  constructor(
    rules: readonly AnyRule[],
    kinds: readonly Pick<DeviceKindDef, 'kind' | 'health'>[],
    private readonly log: Logger,
  ) {
    this.rules = rules;
    this.byName = new Map(rules.map((r) => [r.name, r]));
    rules.forEach((r, i) => this.index.set(r, i));
    for (const r of rules) for (const k of kindsOfRule(r, kinds)) this.byKind.set(k, [...(this.byKind.get(k) ?? []), r]);
  }

  /** The rules a reading of this kind and type can concern; the others are skipped before any context is built. */
  rulesFor(kind: string, type: string): readonly AnyRule[] {
    let types = this.byKindType.get(kind);
    if (!types) this.byKindType.set(kind, (types = new Map()));
    let list = types.get(type);
    if (!list) {
      list = (this.byKind.get(kind) ?? NONE).filter((r) => !r.readingTypes || r.readingTypes.includes(type));
      if (types.size < 64) types.set(type, list); // types come from validated payloads; a bound all the same
    }
    return list;
  }

  /**
   * Judge a reading: every rule that can concern it, for every subject its `subjects()` names. Places are asked
   * once per subject (most rules look at the reading's own device). Decisions are pushed to `out`.
   */
  forReading(r: Reading, lookup: SubjectLookup, now: number, world: RuleWorld, out: Decision[]): void {
    const rules = this.rulesFor(r.kind, r.type);
    if (!rules.length) return;
    const input: RuleInput = { type: 'reading', reading: r };
    // The subjects' places of this reading, without building a key per rule (few subjects per reading).
    const seen = this.seen;
    seen.length = 0;
    for (const rule of rules) {
      for (const subject of rule.subjects(r, lookup)) {
        const type = rule.subjectType;
        let places: Places | undefined;
        let i = 0;
        while (i < seen.length && !(seen[i] === type && seen[i + 1] === subject)) i += 3;
        if (i < seen.length) places = seen[i + 2] as Places | undefined;
        else seen.push(type, subject, (places = world.places(rule, subject, r)));
        const d = places && this.decide(rule, subject, input, now, world, places);
        if (d) out.push(d);
      }
    }
    seen.length = 0;
  }

  /**
   * One rule on one subject: its context and its actions; undefined when the subject is gone, the rule is off
   * for its place, or the rule threw (logged: a bug in one rule never swallows another's alert).
   */
  decide(rule: AnyRule, subject: string, input: RuleInput, now: number, world: RuleWorld, places = world.places(rule, subject)): Decision | undefined {
    if (!places) return undefined;
    const slot = this.slotOf(rule, subject, places);
    const config = slot ? (slot.config ??= world.config(rule, places)) : world.config(rule, places);
    if (!config.enabled) return undefined;
    const key = slot ? slot.key : deadlineKey(rule.name, subject);
    const state = rule.stateful ? world.state(rule.name, subject) : undefined;
    // One literal of fixed shape (this runs for every rule on every reading).
    const ctx: RuleContext<RuleConfigBase> = {
      now,
      subject,
      config,
      place: places.place,
      alert: world.openAlert(rule.name, subject),
      deadline: world.deadline(key),
      device: places.device,
      deviceState: places.deviceState,
      kind: places.kind,
      household: places.household,
      space: places.space,
      lot: places.lot,
      gate: places.gate,
      where: places.where,
      care: places.household ? world.care(places.household.id) : undefined,
      plates: places.plates,
    };
    let actions: Action<unknown>[];
    try {
      actions = rule.evaluate(input, state, ctx) as Action<unknown>[];
    } catch (err) {
      // A rule is pure, so a throw has written nothing: skip this rule only.
      this.log.error({ err, rule: rule.name, subject, input: input.type }, 'rule failed');
      return undefined;
    }
    return { rule, subject, key, input, ctx, actions };
  }

  /**
   * The rule's deadline key and settings for the subject, kept with the places object when the world gives the
   * same one again (the engine's are kept per device: src/rules/lib/context.ts), instead of a new key string and
   * a settings lookup for every rule on every reading. Undefined for a rule the runner was not built with.
   */
  private slotOf(rule: AnyRule, subject: string, places: Places): Slot | undefined {
    const at = this.index.get(rule);
    if (at === undefined) return undefined;
    let slots = this.slots.get(places);
    if (!slots) this.slots.set(places, (slots = []));
    let slot = slots[at];
    if (slot === undefined || slot.subject !== subject) slots[at] = slot = { subject, key: deadlineKey(rule.name, subject), config: undefined };
    return slot;
  }

  /** Whether applying these decisions writes more than rule state and lot counts (alerts, deadlines, absences). */
  static writes(decisions: readonly Decision[]): boolean {
    for (const d of decisions) for (const a of d.actions) if (a.type !== 'state' && a.type !== 'lot') return true;
    return false;
  }

  /** Carry out a decision's actions, in order. */
  apply(d: Decision, fx: RuleEffects): void {
    const kind = d.rule.name as AlertKind;
    const { subject, key, ctx } = d;
    const now = ctx.now;
    for (const a of d.actions) {
      switch (a.type) {
        case 'open':
          fx.open(kind, subject, {
            place: { ...ctx.place, ...a.place },
            severity: a.severity,
            title: a.title,
            details: stripUndefined(a.details),
            now,
            flapHoldMs: ctx.config.flapHoldMinutes * 60_000,
          });
          break;
        case 'update':
          fx.update(kind, subject, stripUndefined(a.details), a.title, now);
          break;
        case 'resolve':
          fx.resolve(kind, subject, a.reason, now);
          break;
        case 'note':
          fx.note(kind, subject, a.note, a.data, now);
          break;
        case 'deadline':
          // A deadline set while its own deadline fires must lie ahead, or the firing would never end.
          fx.setDeadline(key, d.input.type === 'deadline' && a.due <= now ? now + 1 : a.due);
          break;
        case 'cancelDeadline':
          fx.cancelDeadline(key);
          break;
        case 'state':
          fx.putState(kind, subject, a.state, now);
          break;
        case 'lot':
          fx.lot(subject, a.occupied);
          break;
        case 'endAbsence':
          fx.endAbsence(a.id, a.at, a.note);
          break;
        case 'absenceOverdue':
          fx.absenceOverdue(a.id, a.title, a.lines, now);
          break;
      }
    }
  }
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
