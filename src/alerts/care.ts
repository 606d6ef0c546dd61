// Care (独居老人关怀): logged visits and marked absences, and the rules that take them. A visit or an absence is
// written and run through the rules that take it (the care-round rule sees a visit as a sign of life; an open
// no_water_use resolves for a household just marked 住院) in one unit of work the engine opens (RuleInputs), so
// the change and what it resolves commit together and are published after the commit. The rules consult each
// household's recent absences and newest visit (`facts`, the runner's RuleWorld.care) from memory, kept here and
// read again from the store when a unit rolls back (`load`).
import type { Store } from '../store/store.js';
import type { Directory } from '../config/inventory.js';
import type { Clock } from '../clock/clock.js';
import type { AbsenceFacts, CareFacts } from '../rules/lib/care.js';
import type { AnyRule } from '../rules/lib/runner.js';
import type { RuleInput } from '../rules/lib/types.js';
import type { RuleInputs, RunInput } from './engine.js';
import { CareVisits } from './careVisits.js';
import { CareAbsences, careFacts, ABSENCE_MEMORY_MS, type Absence } from './absences.js';

export class Care {
  /** Logged care visits (care_visits). */
  readonly visits: CareVisits;
  /** Absences people marked (care_absences). */
  readonly absences: CareAbsences;
  /** Each household's newest logged visit (what the rules consult as a sign of life). */
  private lastVisit = new Map<string, number>();
  /** Devices of each household, for the device rules that take visits or absences. */
  private readonly householdDevices = new Map<string, string[]>();

  constructor(
    store: Store,
    private readonly directory: Directory,
    private readonly clock: Clock,
    private readonly inputs: RuleInputs,
  ) {
    this.visits = new CareVisits(store.careVisits);
    this.absences = new CareAbsences(store.absences);
    for (const d of directory.devices.values())
      if (d.householdId) this.householdDevices.set(d.householdId, [...(this.householdDevices.get(d.householdId) ?? []), d.id]);
  }

  /** Absences and newest visits as the store (inside the current unit, if any) has them. */
  load(): void {
    const now = this.clock.now();
    this.absences.load(now);
    this.lastVisit = this.visits.lastEach(now - ABSENCE_MEMORY_MS);
  }

  /** What the rules consult about a household: its absences and last visit (src/rules/lib/care.ts). */
  facts(householdId: string): CareFacts | undefined {
    return careFacts(this.absences.factsOf(householdId), this.lastVisit.get(householdId));
  }

  /**
   * POST /api/care/visits: log a visit to a household (the API checked who may); the care-round rule sees it as
   * a sign of life in the same unit, so the visit and the alert it resolves commit together.
   */
  logVisit(householdId: string, by: string, at: number, note?: string): { id: number; householdId: string; at: number } {
    const h = this.directory.households.get(householdId);
    if (!h) throw new Error(`unknown household ${householdId}`);
    const id = this.inputs.unit((run) => {
      const id = this.visits.add({ householdId, communityId: h.communityId, gridId: h.gridId, by, at, note, loggedAt: this.clock.now() });
      if (at > (this.lastVisit.get(householdId) ?? -Infinity)) this.lastVisit.set(householdId, at);
      this.runCare(run, (r) => r.takesVisits, householdId, { type: 'visit', household: householdId, by, at, note });
      return id;
    });
    return { id, householdId, at };
  }

  /**
   * POST /api/care/absences and its changes (the API checked who may): the absence is written and the rules that
   * take absences see it in the same unit (an open no_water_use for a household just marked 住院 resolves).
   */
  markAway(a: Omit<Absence, 'id' | 'endedAt' | 'endedBy' | 'endNote' | 'createdAt'>): Absence {
    return this.inputs.unit((run) => {
      const out = this.absences.add({ ...a, createdAt: this.clock.now() });
      this.absenceChanged(run, out, a.createdBy, 'marked');
      return out;
    });
  }

  /** A person ends an absence (the elder is back) or moves its end. */
  changeAbsence(id: number, by: string, change: { until: number } | { end: number; note?: string }): Absence {
    return this.inputs.unit((run) => {
      const out = 'until' in change ? this.absences.changeUntil(id, change.until) : this.absences.end(id, change.end, by, change.note);
      this.absenceChanged(run, out, by, 'until' in change ? 'changed' : 'ended');
      return out;
    });
  }

  /** A rule's action (water use while away): the absence ends at `at`, if it is still on then. */
  endByWater(id: number, at: number, note: string): void {
    const cur = this.absences.get(id);
    if (cur && cur.endedAt === undefined && at < cur.until) this.absences.end(id, at, 'water', note);
  }

  private absenceChanged(run: RunInput, a: Absence, by: string, change: 'marked' | 'changed' | 'ended'): void {
    const absence: AbsenceFacts = this.absences.factsOf(a.householdId)?.find((x) => x.id === a.id) ?? a;
    this.runCare(run, (r) => r.takesAbsences, a.householdId, { type: 'absence', household: a.householdId, by, change, absence });
  }

  /** Run a care input (visit, absence) through the rules that take it: household rules once, device rules per device of the household. */
  private runCare(run: RunInput, takes: (r: AnyRule) => boolean | undefined, householdId: string, input: RuleInput): void {
    for (const rule of this.inputs.rules) {
      if (!takes(rule)) continue;
      if (rule.subjectType === 'household') run(rule, householdId, input);
      else if (rule.subjectType === 'device')
        for (const id of this.householdDevices.get(householdId) ?? [])
          if (rule.deviceKinds.includes(this.directory.devices.get(id)!.kind)) run(rule, id, input);
    }
  }
}
