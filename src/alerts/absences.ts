// Absences (外出、住院、子女家): a household marked away from/until (POST /api/care/absences). The rules that judge
// silence — no_water_use, missed_check — do not judge the time an absence covers (src/rules/lib/care.ts). Rows
// live in care_absences; the engine keeps each household's recent and future absences in memory (a Map lookup
// per rule run), written in the transaction that runs the rules on the change and read again from the store
// if that transaction rolls back. Kept a year (src/jobs/retention.ts).
import type { AbsenceRecord, AbsencesRepo } from '../store/store.js';
import type { AbsenceFacts, AbsenceReason, CareFacts } from '../rules/lib/care.js';

export interface Absence extends AbsenceFacts {
  householdId: string;
  communityId: string;
  gridId: string;
  note?: string;
  createdBy: string;
  createdAt: number;
  endNote?: string;
  /** When the "overdue return" notice went out (missed_check). */
  promptedAt?: number;
}

const toAbsence = (r: AbsenceRecord): Absence => r as Absence;

const DAY = 86_400_000;
/** How long an ended absence stays in memory for the rules: a 12 h window plus NB batches arriving a day late. */
export const ABSENCE_MEMORY_MS = 3 * DAY;

const facts = (a: Absence): AbsenceFacts => ({
  id: a.id,
  reason: a.reason,
  from: a.from,
  until: a.until,
  ...(a.endedAt !== undefined ? { endedAt: a.endedAt } : {}),
  ...(a.endedBy !== undefined ? { endedBy: a.endedBy } : {}),
});

export class CareAbsences {
  /** householdId → its absences ending after (load time − ABSENCE_MEMORY_MS), newest first. */
  private readonly recent = new Map<string, AbsenceFacts[]>();

  constructor(private readonly repo: AbsencesRepo) {}

  /** (Re)read the in-memory view from the store. */
  load(now: number): void {
    this.recent.clear();
    for (const r of this.repo.live(now - ABSENCE_MEMORY_MS)) {
      const list = this.recent.get(r.householdId) ?? [];
      list.push(facts(toAbsence(r)));
      this.recent.set(r.householdId, list);
    }
  }

  get(id: number): Absence | undefined {
    const r = this.repo.get(id);
    return r && toAbsence(r);
  }

  /** Absences of a household ending after `after`, newest first. */
  list(householdId: string, after: number, limit = 50): Absence[] {
    return this.repo.ofHousehold(householdId, after, limit).map(toAbsence);
  }

  /** Absences of every household ending after `after`, newest first. */
  async since(after: number, limit = 1000): Promise<Absence[]> {
    return (await this.repo.since(after, limit)).map(toAbsence);
  }

  /** What the rules see for the household (absences only). */
  factsOf(householdId: string): readonly AbsenceFacts[] | undefined {
    return this.recent.get(householdId);
  }

  add(a: Omit<Absence, 'id' | 'endedAt' | 'endedBy' | 'endNote'>): Absence {
    const id = this.repo.add(a);
    return this.refresh(id)!;
  }

  end(id: number, at: number, by: string, note?: string): Absence {
    this.repo.end(id, at, by, note ?? null);
    return this.refresh(id)!;
  }

  changeUntil(id: number, until: number): Absence {
    this.repo.changeUntil(id, until);
    return this.refresh(id)!;
  }

  /** Record the overdue notice; the absence if this is its first, else undefined (one notice per absence). */
  prompt(id: number, at: number): Absence | undefined {
    return this.repo.prompt(id, at) ? this.get(id) : undefined;
  }

  private refresh(id: number): Absence | undefined {
    const a = this.get(id);
    if (!a) return undefined;
    const list = (this.recent.get(a.householdId) ?? []).filter((x) => x.id !== id);
    list.push(facts(a));
    list.sort((x, y) => y.from - x.from || y.id - x.id);
    this.recent.set(a.householdId, list);
    return a;
  }
}

/** Care facts for a household from its absences and last visit; undefined when there are none. */
export function careFacts(absences: readonly AbsenceFacts[] | undefined, lastVisitAt: number | undefined): CareFacts | undefined {
  if (!absences?.length && lastVisitAt === undefined) return undefined;
  return lastVisitAt === undefined ? { absences: absences ?? [] } : { absences: absences ?? [], lastVisitAt };
}
