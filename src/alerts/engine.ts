// The alert engine: drives the rule runner (src/rules/lib/runner.ts) on every accepted reading (inside the ingest
// transaction, as a ReadingHandler), on deadlines (src/clock/scheduler.ts, each firing in its own transaction)
// and on visitor registrations, care visits and absences, and carries out what the rules decide — alert
// changes, deadlines, rule state — in that same transaction (it is the runner's RuleWorld and RuleEffects over
// the store). It also holds the alert lifecycle the API and the notifier work through (AlertDesk). The `alert`
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
import { normalisePlate, type OpenAlert, type RuleConfigBase, type RuleInput, type SubjectLookup } from '../rules/lib/types.js';
import { RuleRunner, deadlineKey, type AnyRule, type Decision, type RuleEffects, type RuleWorld } from '../rules/lib/runner.js';
import type { LotState } from '../rules/lotFull.js';
import { plateSubject } from '../rules/unregisteredVehicle.js';
import { AlertStore, type OpenRequest } from './store.js';
import { RuleStates } from './ruleState.js';
import { PlateLists } from './visitors.js';
import { CareVisits } from './careVisits.js';
import { CareAbsences, careFacts, ABSENCE_MEMORY_MS, type Absence } from './absences.js';
import type { AbsenceFacts } from '../rules/lib/care.js';
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
  /** Logged care visits (care_visits). */
  readonly visits: CareVisits;
  /** Absences people marked (care_absences). */
  readonly absences: CareAbsences;
  /** Which rules a reading concerns, their contexts and verdicts, what their actions mean (src/rules/lib/runner.ts). */
  readonly runner: RuleRunner;
  /** Each household's newest logged visit (what the rules consult as a sign of life). */
  private lastVisit = new Map<string, number>();
  /** Devices of each household, for the device rules that take visits or absences. */
  private readonly householdDevices = new Map<string, string[]>();
  private readonly plates: PlateLists;
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
    care: (householdId) => careFacts(this.absences.factsOf(householdId), this.lastVisit.get(householdId)),
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
    endAbsence: (id, at, note) => {
      const cur = this.absences.get(id);
      if (cur && cur.endedAt === undefined && at < cur.until) this.absences.end(id, at, 'water', note);
    },
    absenceOverdue: (id, title, lines, now) => {
      const cur = this.absences.prompt(id, now);
      if (cur) for (const h of this.hooks) h.careNotice?.(cur, title, lines, now);
    },
  };

  constructor(private readonly deps: RuleEngineDeps) {
    this.runner = new RuleRunner(deps.rules ?? allRules, deps.kinds, deps.log);
    this.alerts = new AlertStore(deps.store.alerts);
    this.ruleStates = new RuleStates(deps.store.ruleState);
    this.plates = new PlateLists(deps.store.visitors, deps.directory);
    this.visits = new CareVisits(deps.store.careVisits);
    this.absences = new CareAbsences(deps.store.absences);
    for (const d of deps.directory.devices.values())
      if (d.householdId) this.householdDevices.set(d.householdId, [...(this.householdDevices.get(d.householdId) ?? []), d.id]);
    this.lotBoard = new LotBoard(deps.directory);
    this.contexts = new ContextBuilder(deps.directory, deps.kinds, deps.states, this.plates);
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
    this.plates.load();
    this.loadCare();
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

  /** Apply decisions into a fresh set of effects (the caller decides the transaction). */
  private applyAll(plan: readonly Decision[]): Effects {
    const outer = this.fx;
    const fx = (this.fx = newEffects());
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
    this.plates.load();
    this.loadCare();
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

  // ── visitors, people, the replay clock ────────────────────────────────────────────────────────────────

  /** POST /api/visitors: register or extend a visitor plate; the plate rules see it in the same transaction. */
  registerVisitor(communityId: string, plate: string, until: number, by: string): { plate: string; until: number } {
    const p = normalisePlate(plate);
    const fx = this.transact(() => {
      const fx = newEffects();
      this.plates.register({ communityId, plate: p, until, registeredBy: by, registeredAt: this.deps.clock.now() });
      for (const rule of this.runner.rules) if (rule.takesVisitors) this.run(rule, plateSubject(communityId, p), { type: 'visitor', until, by }, fx);
      return fx;
    });
    this.publish(fx);
    return { plate: p, until };
  }

  /**
   * POST /api/care/visits: log a visit to a household (the API checked who may); the care-round rule sees it as
   * a sign of life in the same transaction, so the visit and the alert it resolves commit together.
   */
  logVisit(householdId: string, by: string, at: number, note?: string): { id: number; householdId: string; at: number } {
    const h = this.deps.directory.households.get(householdId);
    if (!h) throw new Error(`unknown household ${householdId}`);
    let id = 0;
    const fx = this.transact(() => {
      const fx = newEffects();
      id = this.visits.add({ householdId, communityId: h.communityId, gridId: h.gridId, by, at, note, loggedAt: this.deps.clock.now() });
      if (at > (this.lastVisit.get(householdId) ?? -Infinity)) this.lastVisit.set(householdId, at);
      this.runCare((r) => r.takesVisits, householdId, { type: 'visit', household: householdId, by, at, note }, fx);
      return fx;
    });
    this.publish(fx);
    return { id, householdId, at };
  }

  /**
   * POST /api/care/absences and its changes (the API checked who may): the absence is written and the rules that
   * take absences see it in the same transaction (an open no_water_use for a household just marked 住院 resolves).
   */
  markAway(a: Omit<Absence, 'id' | 'endedAt' | 'endedBy' | 'endNote' | 'createdAt'>): Absence {
    let out!: Absence;
    this.publish(
      this.transact(() => {
        out = this.absences.add({ ...a, createdAt: this.deps.clock.now() });
        return this.absenceChanged(out, a.createdBy, 'marked');
      }),
    );
    return out;
  }

  /** A person ends an absence (the elder is back) or moves its end. */
  changeAbsence(id: number, by: string, change: { until: number } | { end: number; note?: string }): Absence {
    let out!: Absence;
    this.publish(
      this.transact(() => {
        out = 'until' in change ? this.absences.changeUntil(id, change.until) : this.absences.end(id, change.end, by, change.note);
        return this.absenceChanged(out, by, 'until' in change ? 'changed' : 'ended');
      }),
    );
    return out;
  }

  private absenceChanged(a: Absence, by: string, change: 'marked' | 'changed' | 'ended'): Effects {
    const fx = newEffects();
    const absence: AbsenceFacts = this.absences.factsOf(a.householdId)?.find((x) => x.id === a.id) ?? a;
    this.runCare((r) => r.takesAbsences, a.householdId, { type: 'absence', household: a.householdId, by, change, absence }, fx);
    return fx;
  }

  /** Run a care input (visit, absence) through the rules that take it: household rules once, device rules per device of the household. */
  private runCare(takes: (r: AnyRule) => boolean | undefined, householdId: string, input: RuleInput, fx: Effects): void {
    for (const rule of this.runner.rules) {
      if (!takes(rule)) continue;
      if (rule.subjectType === 'household') this.run(rule, householdId, input, fx);
      else if (rule.subjectType === 'device')
        for (const id of this.householdDevices.get(householdId) ?? [])
          if (rule.deviceKinds.includes(this.deps.directory.devices.get(id)!.kind)) this.run(rule, id, input, fx);
    }
  }

  private loadCare(): void {
    const now = this.deps.clock.now();
    this.absences.load(now);
    this.lastVisit = this.visits.lastEach(now - ABSENCE_MEMORY_MS);
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
