// Absences (外出、住院、子女家): a household marked away from/until (POST /api/care/absences). The rules that judge
// silence — no_water_use, missed_check — do not judge the time an absence covers (src/rules/lib/care.ts). Rows
// live in care_absences; the engine keeps each household's recent and future absences in memory (a Map lookup
// per rule run), written in the transaction that runs the rules on the change and read again from the store
// if that transaction rolls back. Kept a year (src/jobs/retention.ts).
import type { Db } from '../store/db.js';
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

interface Row {
  id: number;
  household_id: string;
  community_id: string;
  grid_id: string;
  reason: AbsenceReason;
  note: string | null;
  from_at: number;
  until_at: number;
  created_by: string;
  created_at: number;
  ended_at: number | null;
  ended_by: string | null;
  end_note: string | null;
  prompted_at: number | null;
}

const toAbsence = (r: Row): Absence => ({
  id: r.id,
  householdId: r.household_id,
  communityId: r.community_id,
  gridId: r.grid_id,
  reason: r.reason,
  ...(r.note !== null ? { note: r.note } : {}),
  from: r.from_at,
  until: r.until_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
  ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  ...(r.ended_by !== null ? { endedBy: r.ended_by } : {}),
  ...(r.end_note !== null ? { endNote: r.end_note } : {}),
  ...(r.prompted_at !== null ? { promptedAt: r.prompted_at } : {}),
});

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
  private readonly s;
  /** householdId → its absences ending after (load time − ABSENCE_MEMORY_MS), newest first. */
  private readonly recent = new Map<string, AbsenceFacts[]>();

  constructor(private readonly db: Db) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO care_absences (household_id, community_id, grid_id, reason, note, from_at, until_at, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare('SELECT * FROM care_absences WHERE id = ?'),
      ofHousehold: db.prepare('SELECT * FROM care_absences WHERE household_id = ? AND COALESCE(ended_at, until_at) > ? ORDER BY from_at DESC, id DESC LIMIT ?'),
      since: db.prepare('SELECT * FROM care_absences WHERE COALESCE(ended_at, until_at) > ? ORDER BY from_at DESC, id DESC LIMIT ?'),
      live: db.prepare('SELECT * FROM care_absences WHERE COALESCE(ended_at, until_at) > ? ORDER BY household_id, from_at DESC, id DESC'),
      end: db.prepare('UPDATE care_absences SET ended_at = ?, ended_by = ?, end_note = ? WHERE id = ?'),
      until: db.prepare('UPDATE care_absences SET until_at = ?, prompted_at = NULL WHERE id = ?'),
      prompt: db.prepare('UPDATE care_absences SET prompted_at = ? WHERE id = ? AND prompted_at IS NULL'),
      prune: db.prepare('DELETE FROM care_absences WHERE COALESCE(ended_at, until_at) < ?'),
    };
  }

  /** (Re)read the in-memory view from the store. */
  load(now: number): void {
    this.recent.clear();
    for (const r of this.s.live.all(now - ABSENCE_MEMORY_MS) as Row[]) {
      const list = this.recent.get(r.household_id) ?? [];
      list.push(facts(toAbsence(r)));
      this.recent.set(r.household_id, list);
    }
  }

  get(id: number): Absence | undefined {
    const r = this.s.get.get(id) as Row | undefined;
    return r && toAbsence(r);
  }

  /** Absences of a household ending after `after`, newest first. */
  list(householdId: string, after: number, limit = 50): Absence[] {
    return (this.s.ofHousehold.all(householdId, after, limit) as Row[]).map(toAbsence);
  }

  /** Absences of every household ending after `after`, newest first. */
  since(after: number, limit = 1000): Absence[] {
    return (this.s.since.all(after, limit) as Row[]).map(toAbsence);
  }

  /** What the rules see for the household (absences only). */
  factsOf(householdId: string): readonly AbsenceFacts[] | undefined {
    return this.recent.get(householdId);
  }

  add(a: Omit<Absence, 'id' | 'endedAt' | 'endedBy' | 'endNote'>): Absence {
    const id = Number(this.s.insert.run(a.householdId, a.communityId, a.gridId, a.reason, a.note ?? null, a.from, a.until, a.createdBy, a.createdAt).lastInsertRowid);
    return this.refresh(id)!;
  }

  end(id: number, at: number, by: string, note?: string): Absence {
    this.s.end.run(at, by, note ?? null, id);
    return this.refresh(id)!;
  }

  changeUntil(id: number, until: number): Absence {
    this.s.until.run(until, id);
    return this.refresh(id)!;
  }

  /** Record the overdue notice; the absence if this is its first, else undefined (one notice per absence). */
  prompt(id: number, at: number): Absence | undefined {
    return this.s.prompt.run(at, id).changes ? this.get(id) : undefined;
  }

  /** Delete absences that ended before `before`; the number deleted. */
  prune(before: number): number {
    return this.s.prune.run(before).changes;
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
