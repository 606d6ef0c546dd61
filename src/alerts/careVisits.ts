// Care visits a volunteer or staff member logged (POST /api/care/visits): a sign of life for the care
// rounds (src/rules/missedCheck.ts). Written in the transaction that runs the rules on the visit, so a
// visit never commits without the alert it resolved. Kept a year (src/jobs/retention.ts).
import type { CareVisitRecord, CareVisitsRepo } from '../store/store.js';

/** A logged visit: the store's record (`at` is when the visit happened, epoch ms). */
export type CareVisit = CareVisitRecord;

export class CareVisits {
  constructor(private readonly repo: CareVisitsRepo) {}

  add(v: Omit<CareVisit, 'id'>): number {
    return this.repo.add(v);
  }

  last(householdId: string): CareVisit | undefined {
    return this.repo.last(householdId);
  }

  recent(householdId: string, limit: number): Promise<CareVisit[]> {
    return this.repo.recent(householdId, limit);
  }

  /** Each household's newest visit after `after` (what the rules consult as a sign of life). */
  lastEach(after: number): Map<string, number> {
    return this.repo.lastEach(after);
  }
}
