// Care visits a volunteer or staff member logged (POST /api/care/visits): a sign of life for the care
// rounds (src/rules/missedCheck.ts). Written in the transaction that runs the rules on the visit, so a
// visit never commits without the alert it resolved. Kept a year (src/jobs/retention.ts).
import type { Db } from '../store/db.js';

export interface CareVisit {
  id: number;
  householdId: string;
  communityId: string;
  gridId: string;
  by: string;
  /** When the visit happened, epoch ms. */
  at: number;
  note?: string;
  loggedAt: number;
}

interface Row {
  id: number;
  household_id: string;
  community_id: string;
  grid_id: string;
  visited_by: string;
  at: number;
  note: string | null;
  logged_at: number;
}

const toVisit = (r: Row): CareVisit => ({
  id: r.id,
  householdId: r.household_id,
  communityId: r.community_id,
  gridId: r.grid_id,
  by: r.visited_by,
  at: r.at,
  ...(r.note !== null ? { note: r.note } : {}),
  loggedAt: r.logged_at,
});

export class CareVisits {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare(
        'INSERT INTO care_visits (household_id, community_id, grid_id, visited_by, at, note, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      last: db.prepare('SELECT * FROM care_visits WHERE household_id = ? ORDER BY at DESC, id DESC LIMIT 1'),
      recent: db.prepare('SELECT * FROM care_visits WHERE household_id = ? ORDER BY at DESC, id DESC LIMIT ?'),
      prune: db.prepare('DELETE FROM care_visits WHERE at < ?'),
      lastEach: db.prepare('SELECT household_id AS h, MAX(at) AS at FROM care_visits WHERE at > ? GROUP BY household_id'),
    };
  }

  add(v: Omit<CareVisit, 'id'>): number {
    return Number(this.s.insert.run(v.householdId, v.communityId, v.gridId, v.by, v.at, v.note ?? null, v.loggedAt).lastInsertRowid);
  }

  last(householdId: string): CareVisit | undefined {
    const r = this.s.last.get(householdId) as Row | undefined;
    return r && toVisit(r);
  }

  recent(householdId: string, limit: number): CareVisit[] {
    return (this.s.recent.all(householdId, limit) as Row[]).map(toVisit);
  }

  /** Each household's newest visit after `after` (what the rules consult as a sign of life). */
  lastEach(after: number): Map<string, number> {
    return new Map((this.s.lastEach.all(after) as Array<{ h: string; at: number }>).map((r) => [r.h, r.at]));
  }

  /** Delete visits older than `before`; the number deleted. */
  prune(before: number): number {
    return this.s.prune.run(before).changes;
  }
}
