// The alert engine: drives the rule runner (src/rules/lib/runner.ts) on every accepted reading (inside the ingest
// transaction, as a ReadingHandler), on deadlines (src/clock/scheduler.ts, each firing in its own transaction)
// and on visitor registrations, care visits and absences (src/alerts/visitors.ts, care.ts: each runs its inputs
// through RuleInputs), and carries out what the rules decide — alert changes, deadlines, rule state — in that
// same transaction (it is the runner's RuleWorld and RuleEffects over the store). It also holds the alert lifecycle the API and the notifier work through (AlertDesk). The `alert`
// and `parking` bus events and the alerts-opened metric follow only after the commit; if a batch rolls back,
// what this engine holds in memory is read again from the store.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { DeviceInfo, Directory } from '../config/inventory.js';
import type { Inventory } from '../config/schema.js';
import type { Clock } from '../clock/clock.js';
import type { EventBus } from '../bus.js';
import type { Metrics } from '../metrics.js';
import type { DeviceKindDef } from '../ingest/types.js';
import type { DeviceStates, DeviceState } from '../state/deviceState.js';
import type { Reading } from '../ingest/reading.js';
import type { ReadingHandler } from '../ingest/pipeline.js';
import { Scheduler, type Deadline } from '../clock/scheduler.js';
import { rules as allRules } from '../rules/index.js';
import { RuleSettings } from '../rules/lib/config.js';
import type { OpenAlert, RuleConfigBase, RuleInput, SubjectLookup } from '../rules/lib/types.js';
import { RuleRunner, deadlineKey, type AnyRule, type Decision, type RuleEffects, type RuleWorld } from '../rules/lib/runner.js';
import type { LotState } from '../rules/lotFull.js';
import { AlertStore, type OpenRequest } from './store.js';
import { RuleStates } from './ruleState.js';
import { Visitors } from './visitors.js';
import { Care } from './care.js';
import { LotBoard } from './lots.js';
import { ContextBuilder } from '../rules/lib/context.js';
import type { Transition } from './lifecycle.js';
import type { AlertKind, AlertView, LotCounts } from './types.js';

export interface RuleEngineDeps {
  store: Store;
  directory: Directory;
  kinds: readonly DeviceKindDef[];
  clock: Clock;
  bus: EventBus;
  metrics: Metrics;
  states: DeviceStates;
  log: Logger;
  /** settings.rules */
  settings: Record<string, unknown>;
  communities: readonly Inventory[];
  rules?: readonly AnyRule[];
}

/**
 * Work other modules do with alert changes (notifications): called inside the transaction that made the
 * change, so what they queue commits with it; `committed` runs after the commit.
 */
export interface AlertHooks {
  /** Deadlines keyed `${name}:…` are handed to `deadline`. */
  name: string;
  opened?(alert: AlertView, how: 'created' | 'reopened', now: number): void;
  transitioned?(alert: AlertView, t: Transition, actor: string, now: number): void;
  /** A deadline of this hook; returns the alerts it changed (published after the commit), if any. */
  deadline?(subject: string, due: number, now: number): void | AlertView[];
  committed?(): void;
  /** A gentle notice about a household to its carers (an absence overdue), inside the transaction. */
  careNotice?(at: { communityId: string; gridId: string; householdId: string }, title: string, lines: string[], now: number): void;
}

/**
 * What the notifier (and its phone steps) do with alerts and with their own deadlines, through the engine:
 * the alert as it stands, lines on its timeline, system lifecycle moves, and deadlines keyed `${hook}:…` that
 * the engine's scheduler hands back to the hook's `deadline`. Inside a hook call these join the transaction
 * that called it.
 */
export interface AlertDesk {
  /** The alert as it stands (in the current transaction, if there is one). */
  get(id: number): AlertView | undefined;
  /** A line on the alert's timeline, in the current transaction. */
  record(id: number, at: number, type: string, actor: string, data?: Record<string, unknown>): void;
  /** A lifecycle move in the current transaction (a hook's own step: the hooks are not told again). */
  move(id: number, t: Transition, actor: string, body: { assignee?: string; note?: string }, now: number): AlertView;
  /** A lifecycle move in its own transaction: hooks told, published after the commit. */
  transition(id: number, t: Transition, actor: string, body: { assignee?: string; note?: string; score?: number; comment?: string }): AlertView;
  /** Work in one transaction; the alerts it returns are published after the commit. */
  runInTransaction(fn: (now: number) => AlertView[]): void;
  /** Set (or move) a hook's deadline; its key starts with the hook's name. */
  setDeadline(key: string, due: number): void;
  cancelDeadline(key: string): void;
}

/** Put an input to a rule for a subject now, inside the unit of work `RuleInputs.unit` opened. */
export type RunInput = (rule: AnyRule, subject: string, input: RuleInput) => void;

/**
 * How inputs other than readings and deadlines — a visitor registered, a care visit logged, an absence marked —
 * reach the rules (src/alerts/visitors.ts, src/alerts/care.ts): `unit(fn)` runs `fn` as one unit of work in
 * which `run` applies what the rule decides; rule state is written with it, what changed is published after
 * the commit, and if the unit fails the engine's memory is read again from the store and the error goes on.
 */
export interface RuleInputs {
  readonly rules: readonly AnyRule[];
  unit<T>(fn: (run: RunInput) => T): T;
}

/** What one transaction changed, published once it commits. */
interface Effects {
  alerts: Map<number, AlertView>;
  opened: AlertKind[];
  lots: Map<string, number>;
}

const newEffects = (): Effects => ({ alerts: new Map(), opened: [], lots: new Map() });

export class RuleEngine {
  readonly alerts: AlertStore;
  readonly scheduler: Scheduler;
  /** Care visits and absences, and the rules that take them (src/alerts/care.ts). */
  readonly care: Care;
  /** Visitors' plates, and the rules that take registrations (src/alerts/visitors.ts). */
  readonly visitors: Visitors;
  /** Which rules a reading concerns, their contexts and verdicts, what their actions mean (src/rules/lib/runner.ts). */
  readonly runner: RuleRunner;
  private readonly ruleStates: RuleStates;
  private readonly contexts: ContextBuilder;
  private readonly lookups = new WeakMap<DeviceInfo, SubjectLookup>();
  private settings!: RuleSettings;
  private readonly lotBoard: LotBoard;
  /** Readings of the current ingest batch (and what they changed), until ingest says the batch committed. */
  private readonly pending = new Map<Reading, Effects>();
  /** Readings of the current batch the rules ran on (pending holds only those that changed alerts or lots). */
  private handled = 0;
  /** Whether the last reading handled was counted in `handled` (an undo takes it back). */
  private lastCounted = false;
  private running = false;
  private readonly runReading: (plan: Decision[]) => Effects;
  /** Where the runner's effects of the input being run are gathered (published after its commit). */
  private fx: Effects = newEffects();
  /** The effects applyAll uses next while they are empty (see there). */
  private spare: Effects = newEffects();

  readonly hooks: AlertHooks[] = [];

  /** The notifier's way to alerts and its deadlines (src/notify takes this, not the engine). */
  readonly desk: AlertDesk = {
    get: (id) => this.alerts.get(id),
    record: (id, at, type, actor, data) => this.alerts.record(id, at, type, actor, data),
    move: (id, t, actor, body, now) => this.alerts.transition(id, t, actor, body, now),
    transition: (id, t, actor, body) => this.transition(id, t, actor, body),
    runInTransaction: (fn) => this.runInTransaction(fn),
    setDeadline: (key, due) => this.scheduler.set(key, due),
    cancelDeadline: (key) => this.scheduler.cancel(key),
  };

  readonly handler: ReadingHandler = {
    name: 'rules',
    handle: (r: Reading, s: DeviceState) => this.handle(r, s),
    // End of the ingest batch, still inside its transaction: one write per changed rule state.
    flush: () => this.ruleStates.flush(),
    // The last reading's savepoint rolled back after its rule work was done and flushed (ingest set it aside).
    undo: () => {
      if (this.lastReading) this.pending.delete(this.lastReading);
      if (this.lastCounted) this.handled--;
      this.lastCounted = false;
      this.resync();
    },
    // The batch committed: publish what its readings changed, then (event clock) fire what came due.
    committed: (readings) => this.committed(readings),
    // The batch rolled back (it is about to be tried again, message by message): memory as the store has it.
    rolledBack: () => this.rolledBack(),
  };
  private lastReading: Reading | null = null;

  /** What the runner asks, answered from the store and memory (inside the current transaction). */
  private readonly world: RuleWorld = {
    places: (rule, subject, reading) => this.contexts.places(rule.subjectType, subject, reading),
    config: (rule, p) => this.settings.resolve<RuleConfigBase>(rule, p.place.communityId, p.place.gridId, p.household, p.levelKey),
    openAlert: (kind, subject) => this.alerts.openFor(kind, subject),
    deadline: (key) => this.scheduler.get(key),
    state: (kind, subject) => this.ruleStates.get(kind, subject),
    // What the rules consult about a household: its absences and last visit (src/rules/lib/care.ts).
    care: (householdId) => this.care.facts(householdId),
  };

  /** What the rules' actions do: written in the current transaction, gathered in `this.fx` for publishing. */
  private readonly effects: RuleEffects = {
    open: (kind, subject, req) => {
      const res = this.alerts.openOrRepeat({ kind, subject, ...req });
      this.fx.alerts.set(res.alert.id, res.alert);
      if (res.created) this.fx.opened.push(kind);
      if (res.created || res.reopened) for (const h of this.hooks) h.opened?.(res.alert, res.created ? 'created' : 'reopened', req.now);
    },
    update: (kind, subject, details, title, now) => changed(this.fx, this.alerts.update(kind, subject, details, title, now)),
    resolve: (kind, subject, reason, now) => changed(this.fx, this.alerts.resolveAuto(kind, subject, reason, now)),
    note: (kind, subject, note, data, now) => changed(this.fx, this.alerts.note(kind, subject, note, data, now)),
    setDeadline: (key, due) => this.scheduler.set(key, due),
    cancelDeadline: (key) => this.scheduler.cancel(key),
    putState: (kind, subject, state, now) => this.ruleStates.put(kind, subject, state, now),
    lot: (lotId, occupied) => void this.fx.lots.set(lotId, occupied),
    endAbsence: (id, at, note) => this.care.endByWater(id, at, note),
    absenceOverdue: (id, title, lines, now) => {
      const cur = this.care.absences.prompt(id, now);
      if (cur) for (const h of this.hooks) h.careNotice?.(cur, title, lines, now);
    },
  };

  constructor(private readonly deps: RuleEngineDeps) {
    this.runner = new RuleRunner(deps.rules ?? allRules, deps.kinds, deps.log);
    this.alerts = new AlertStore(deps.store.alerts);
    this.ruleStates = new RuleStates(deps.store.ruleState);
    const inputs: RuleInputs = {
      rules: this.runner.rules,
      unit: (fn) => this.unit(fn),
    };
    this.visitors = new Visitors(deps.store.visitors, deps.directory, deps.clock, inputs);
    this.care = new Care(deps.store, deps.directory, deps.clock, inputs);
    this.lotBoard = new LotBoard(deps.directory);
    this.contexts = new ContextBuilder(deps.directory, deps.kinds, deps.states, this.visitors.plates);
    this.scheduler = new Scheduler({
      clock: deps.clock,
      store: deps.store.deadlines,
      onDue: (due) => this.fire(due),
      onError: (err) => deps.log.error({ err }, 'deadline firing failed'),
    });
    // A savepoint per reading: a failing write undoes that reading's rule work and nothing else of the batch.
    this.runReading = (plan: Decision[]) => deps.store.transaction(() => this.applyAll(plan));
  }

  /** Validate rule settings (throws with every problem), load alerts, visitors, lots and deadlines. */
  start(): void {
    const { deps } = this;
    this.settings = new RuleSettings(this.runner.rules, { settings: deps.settings, communities: deps.communities });
    this.contexts.forget(); // places carry the settings resolved for them (src/rules/lib/runner.ts)
    this.alerts.load();
    this.visitors.load();
    this.care.load();
    this.lotBoard.load(this.ruleStates.all<LotState>('lot_full'));
    if (deps.clock.mode === 'event') {
      // The event clock starts at 0 in a new process; time never goes back across a restart.
      const newest = Math.max(
        this.ruleStates.newest() ?? 0,
        deps.store.alerts.newestUpdate() ?? 0,
      );
      deps.clock.observe(newest);
    }
    // A payload that fails to decode still proves the device is alive: let device_offline look again.
    deps.bus.on('rejection', 'rules', (rej) => rej.deviceId && this.heardFrom(rej.deviceId));
    this.running = true;
    this.scheduler.start(); // wall clock: deadlines that passed while we were down fire on the next tick
  }

  stop(): void {
    this.running = false;
    this.scheduler.stop();
    this.deps.bus.removeOwner('rules');
  }

  get up(): boolean {
    return this.running && this.scheduler.up;
  }

  // ── readings (inside the ingest transaction) ──────────────────────────────────────────────────────────

  private handle(r: Reading, _state: DeviceState): void {
    if (!this.running) return;
    this.lastReading = r;
    this.lastCounted = false;
    this.ruleStates.mark();
    try {
      // Rules are pure: evaluate them all first. Most readings only change rule state (kept in memory until
      // the batch flushes), and those need no savepoint; one that opens, changes or resolves an alert or
      // moves a deadline is applied inside its own savepoint, so a failure undoes that reading alone.
      const plan: Decision[] = [];
      const lookup = this.lookupOf(r);
      if (lookup) this.runner.forReading(r, lookup, this.deps.clock.now(), this.world, plan);
      const fx = RuleRunner.writes(plan) ? this.runReading(plan) : this.applyAll(plan);
      if (fx.alerts.size || fx.lots.size) this.pending.set(r, fx);
      this.handled++;
      this.lastCounted = true;
    } catch (err) {
      // A busy or full store fails the whole ingest batch, which is tried again: the alert must not be lost.
      if (this.deps.store.isTransient(err)) throw err;
      this.deps.log.error({ err, deviceId: r.deviceId, type: r.type }, 'applying rule actions failed; the reading\'s rule work was undone');
      // The savepoint undid this reading's writes; earlier readings of the batch stand (their rule states
      // are still to be written by flush).
      this.ruleStates.undo();
      this.reloadIndexes();
    }
  }

  /** What a rule's `subjects()` may look at for a reading: its device and where it is; undefined = unknown device. */
  private lookupOf(r: Reading): SubjectLookup | undefined {
    const device = this.deps.directory.devices.get(r.deviceId);
    if (!device) return undefined;
    // Kept per DeviceInfo (a device provisioned again is a new object; spaces and households do not change).
    let lookup = this.lookups.get(device);
    if (!lookup)
      this.lookups.set(device, (lookup = {
        device,
        space: device.spaceId ? this.deps.directory.spaces.get(device.spaceId) : undefined,
        household: device.householdId ? this.deps.directory.households.get(device.householdId) : undefined,
      }));
    return lookup;
  }

  /** The open alerts a reading concerns (its rules' subjects), e.g. to attach a camera's snapshot once stored. */
  openAlertsOf(r: Reading): OpenAlert[] {
    const lookup = this.lookupOf(r);
    if (!lookup) return [];
    const out: OpenAlert[] = [];
    for (const rule of this.runner.rulesFor(r.kind, r.type))
      for (const subject of rule.subjects(r, lookup)) {
        const a = this.alerts.openFor(rule.name, subject);
        if (a) out.push(a);
      }
    return out;
  }

  /**
   * Apply decisions into a set of effects of their own (the caller decides the transaction). Most readings
   * change only rule state: their effects stay empty, and one empty set is used again (two Maps fewer per
   * reading, issue 18) — the caller keeps a set only when something is in it, and then the next reading gets a
   * new one.
   */
  private applyAll(plan: readonly Decision[]): Effects {
    const outer = this.fx;
    let fx = this.spare;
    if (fx.alerts.size || fx.opened.length || fx.lots.size) fx = this.spare = newEffects();
    this.fx = fx;
    try {
      for (const d of plan) this.runner.apply(d, this.effects);
    } finally {
      this.fx = outer;
    }
    return fx;
  }

  /** Run one rule on one subject now and apply its actions into `fx` (deadlines, visitors, care). */
  private run(rule: AnyRule, subject: string, input: RuleInput, fx: Effects): void {
    // On the event clock a deadline fires at its own time, however far the batch that passed it moved the
    // clock: a replay then stamps the same times whatever the spacing of its messages.
    const clockNow = this.deps.clock.now();
    const now = input.type === 'deadline' && this.deps.clock.mode === 'event' ? Math.min(input.due, clockNow) : clockNow;
    const d = this.runner.decide(rule, subject, input, now, this.world);
    if (!d) return;
    const outer = this.fx;
    this.fx = fx;
    try {
      this.runner.apply(d, this.effects);
    } finally {
      this.fx = outer;
    }
  }

  /** After the batch committed: publish what its readings changed, in order. */
  private committed(readings: readonly Reading[]): void {
    if (this.pending.size)
      for (const r of readings) {
        const fx = this.pending.get(r);
        if (fx) this.publish(fx);
      }
    this.lastReading = null;
    const notCommitted = this.handled - readings.length;
    this.pending.clear();
    this.handled = 0;
    this.lastCounted = false;
    if (notCommitted > 0) {
      // Not expected: handled readings the batch did not commit. Memory is read again from the store.
      this.deps.log.warn({ readings: notCommitted }, 'readings handled but not committed; reloading rule memory');
      this.resync();
    }
    this.afterBatch();
  }

  /** The batch rolled back: nothing it did is published, and memory is what the store has. */
  private rolledBack(): void {
    if (this.handled) this.deps.log.warn({ readings: this.handled }, 'a processing transaction rolled back; reloading rule memory');
    this.pending.clear();
    this.handled = 0;
    this.lastCounted = false;
    this.lastReading = null;
    this.resync();
    this.afterBatch();
  }

  private afterBatch(): void {
    if (this.running && this.deps.clock.mode === 'event') this.scheduler.advance();
  }

  private resync(): void {
    this.ruleStates.forget();
    this.reloadIndexes();
  }

  /** Alerts, plates and deadlines as the store (inside the current transaction) has them. */
  private reloadIndexes(): void {
    this.alerts.load();
    this.visitors.load();
    this.care.load();
    this.scheduler.reload();
  }

  // ── deadlines (own transaction per chunk) ─────────────────────────────────────────────────────────────

  private fire(due: Deadline[]): void {
    if (!this.running) return;
    const fx = newEffects();
    let failed = false;
    const one = (d: Deadline, dfx: Effects) => this.deps.store.transaction(() => {
      if (!this.scheduler.claim(d)) return; // gone from the table: handled before a restart, or cancelled
      const sep = d.key.indexOf(':');
      const owner = d.key.slice(0, sep);
      const rule = this.runner.byName.get(owner);
      if (rule) this.run(rule, d.key.slice(sep + 1), { type: 'deadline', due: d.due }, dfx);
      else {
        // As for rules: on the event clock a deadline happens at its own time, however far a batch moved the clock.
        const now = this.deps.clock.now();
        const changed = this.hooks.find((h) => h.name === owner)?.deadline?.(d.key.slice(sep + 1), d.due, this.deps.clock.mode === 'event' ? Math.min(d.due, now) : now);
        if (changed) for (const v of changed) dfx.alerts.set(v.id, v);
      }
    });
    const chunk = (list: Deadline[]) => this.deps.store.transaction(() => {
      for (const d of list) {
        const dfx = newEffects();
        this.ruleStates.mark();
        try {
          one(d, dfx);
          for (const [id, v] of dfx.alerts) fx.alerts.set(id, v);
          fx.opened.push(...dfx.opened);
          for (const [lot, n] of dfx.lots) fx.lots.set(lot, n);
        } catch (err) {
          // That deadline's work is undone (savepoint); drop it so a broken rule cannot fire forever.
          failed = true;
          this.ruleStates.undo();
          this.deps.log.error({ err, key: d.key }, 'deadline handler failed; deadline dropped');
          this.deps.store.deadlines.claim(d.key, d.due);
        }
      }
      this.ruleStates.flush();
    });
    try {
      chunk(due);
    } catch (err) {
      this.deps.log.error({ err, count: due.length }, 'deadline transaction failed; reloading');
      this.resync();
      return;
    }
    if (failed) this.reloadIndexes(); // a rolled-back savepoint may have moved deadlines in memory too
    this.publish(fx);
  }

  // ── inputs of people: visitors, care (their modules), filed alerts, lifecycle moves, the replay clock ──────

  /** A unit of work in which rules run on an input (RuleInputs), published after the commit. */
  private unit<T>(fn: (run: RunInput) => T): T {
    let out!: T;
    const fx = this.transact(() => {
      const fx = newEffects();
      out = fn((rule, subject, input) => this.run(rule, subject, input, fx));
      return fx;
    });
    this.publish(fx);
    return out;
  }

  /**
   * An alert a person raised rather than a rule (a resident's report or request, src/residents): opened in one
   * transaction with its notifications, after `check` (run inside it, so limits hold under concurrent filings).
   */
  openFiled(
    req: Omit<OpenRequest, 'now' | 'flapHoldMs'>,
    check: (now: number) => void = () => undefined,
    after: (alert: AlertView, now: number) => void = () => undefined,
  ): AlertView {
    let view!: AlertView;
    const fx = this.transact(() => {
      const fx = newEffects();
      const now = this.deps.clock.now();
      check(now);
      const res = this.alerts.openOrRepeat({ ...req, now, flapHoldMs: 0 });
      view = res.alert;
      after(view, now);
      fx.alerts.set(view.id, view);
      if (res.created) fx.opened.push(req.kind);
      if (res.created || res.reopened) for (const h of this.hooks) h.opened?.(view, res.created ? 'created' : 'reopened', now);
      return fx;
    });
    this.publish(fx);
    return view;
  }

  /** A stateful rule's saved state for a subject (read-only views such as GET /api/care/elders). */
  ruleState<S>(rule: AlertKind, subject: string): S | undefined {
    return this.ruleStates.get<S>(rule, subject);
  }

  /** A rule's merged settings for a household (defaults < settings < community < grid < household). */
  ruleConfig<C>(rule: AlertKind, householdId: string): C | undefined {
    const r = this.runner.byName.get(rule);
    const h = this.deps.directory.households.get(householdId);
    return r && h ? this.settings.resolve<C>(r, h.communityId, h.gridId, h) : undefined;
  }

  /** A rule's merged settings for a device's place (community < grid < household), e.g. device_offline's
   *  cadence thresholds for GET /api/devices. */
  deviceRuleConfig<C>(rule: AlertKind, device: { communityId: string; gridId: string; householdId?: string }): C | undefined {
    const r = this.runner.byName.get(rule);
    const h = device.householdId ? this.deps.directory.households.get(device.householdId) : undefined;
    return r && this.settings.resolve<C>(r, device.communityId, device.gridId, h);
  }

  /** A person's lifecycle move on alert `id` (the API checked the grid). */
  transition(id: number, t: Transition, actor: string, body: { assignee?: string; note?: string; score?: number; comment?: string }): AlertView {
    let view!: AlertView;
    const fx = this.transact(() => {
      const fx = newEffects();
      const now = this.deps.clock.now();
      view = this.alerts.transition(id, t, actor, body, now);
      fx.alerts.set(view.id, view);
      for (const h of this.hooks) h.transitioned?.(view, t, actor, now);
      return fx;
    });
    this.publish(fx);
    return view;
  }

  /**
   * Work a hook does outside a reading or a deadline (a family member answering a texted page): in one
   * transaction, the alerts it changed published after the commit.
   */
  runInTransaction(fn: (now: number) => AlertView[]): void {
    const fx = this.transact(() => {
      const fx = newEffects();
      for (const v of fn(this.deps.clock.now())) fx.alerts.set(v.id, v);
      return fx;
    });
    this.publish(fx);
  }

  /** An offline device was heard from outside a reading: bring its device_offline deadline forward to now. */
  private heardFrom(deviceId: string): void {
    if (!this.running || !this.alerts.openFor('device_offline', deviceId)) return;
    const key = deadlineKey('device_offline', deviceId);
    try {
      this.transact(() => (this.scheduler.set(key, this.deps.clock.now()), newEffects()));
    } catch (err) {
      this.deps.log.error({ err, deviceId }, 'could not re-check an offline device');
      return;
    }
    if (this.deps.clock.mode === 'event') this.scheduler.advance();
  }

  /** POST /api/replay/clock: move the event clock and fire what came due. */
  advanceClock(now: number): { now: number; fired: number } {
    this.deps.clock.observe(now);
    const fired = this.scheduler.advance();
    return { now: this.deps.clock.now(), fired };
  }

  private transact(fn: () => Effects): Effects {
    try {
      return this.deps.store.transaction(() => {
        const fx = fn();
        this.ruleStates.flush();
        return fx;
      });
    } catch (err) {
      this.resync();
      throw err;
    }
  }

  private logLifecycle(): void {
    for (const e of this.alerts.takeLifecycle()) {
      const line = lifecycleLine(e, this.alerts.get(e.alertId));
      this.deps.log[line.level](line.fields, line.msg);
    }
  }

  lots(): LotCounts[] {
    return this.lotBoard.all();
  }

  // ── after commit ──────────────────────────────────────────────────────────────────────────────────────

  private publish(fx: Effects): void {
    for (const kind of fx.opened) this.deps.metrics.alertsOpened.inc({ kind });
    this.logLifecycle();
    for (const [lotId, occupied] of fx.lots) {
      const counts = this.lotBoard.set(lotId, occupied, this.deps.clock.now());
      if (counts) this.deps.bus.emit('parking', counts);
    }
    for (const v of fx.alerts.values()) this.deps.bus.emit('alert', v);
    for (const h of this.hooks) h.committed?.();
  }
}

/**
 * One log line per alert opened, re-opened, escalated or resolved, after its commit: kind, severity and place
 * by id (community, grid, household, device, space) — never the title, which names people (王婆婆家), nor a
 * plate, a phone or who a person is beyond system/person. So an operator watching `npm start` sees every alarm
 * even with no destination configured.
 */
export function lifecycleLine(
  e: { alertId: number; type: string; actor: string; data?: Record<string, unknown> },
  a: AlertView | undefined,
): { level: 'info' | 'warn'; fields: Record<string, unknown>; msg: string } {
  const fields: Record<string, unknown> = { alertId: e.alertId, event: e.type };
  if (a) {
    Object.assign(fields, { kind: a.kind, severity: a.severity, communityId: a.communityId, gridId: a.gridId });
    if (a.householdId) fields.householdId = a.householdId;
    if (a.deviceId) fields.deviceId = a.deviceId;
    if (a.spaceId) fields.spaceId = a.spaceId;
  }
  if (e.type === 'escalated' && e.data) Object.assign(fields, { step: e.data.step, afterMinutes: e.data.afterMinutes });
  if (e.type === 'resolved') fields.by = e.actor === 'system' ? 'rule' : 'person';
  const where = a ? `${a.communityId}/${a.gridId}${a.householdId ? `/${a.householdId}` : a.deviceId ? `/${a.deviceId}` : ''}` : '?';
  const what = a ? `${a.kind} (${a.severity}) at ${where}` : `#${e.alertId}`;
  const urgent = a && (a.severity === 'critical' || a.severity === 'major') && e.type !== 'resolved';
  return { level: urgent ? 'warn' : 'info', fields, msg: `alert ${e.type}: ${what}` };
}

function changed(fx: Effects, v: AlertView | undefined): void {
  if (v) fx.alerts.set(v.id, v);
}
