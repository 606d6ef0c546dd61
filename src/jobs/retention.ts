// Retention: keep the store from growing without bound. Ages are judged on the injected clock's now.
// - rejections beyond settings.store.rejectionsMax: ingest already prunes them, but only after every 500 new
//   rejections (src/ingest/pipeline.ts), so the table can overshoot by that much; this trims it exactly.
// - notification outbox rows sent more than 30 days ago, for alerts that are resolved (and digests, which
//   belong to no alert). Rows of open alerts and failed rows stay: they are the evidence of who was told.
// - care visits older than a year, and absences that ended more than a year ago.
import type { Store } from '../store/store.js';

const DAY = 86_400_000;

export const RETENTION = { outboxDays: 30, careVisitDays: 365 } as const;

export interface RetentionDeps {
  store: Store;
  now: number;
  rejectionsMax: number;
  outboxDays?: number;
  careVisitDays?: number;
}

export interface RetentionResult {
  rejections: number;
  outbox: number;
  careVisits: number;
  careAbsences: number;
}

export async function runRetention(d: RetentionDeps): Promise<RetentionResult> {
  const { store, now } = d;
  const careBefore = now - (d.careVisitDays ?? RETENTION.careVisitDays) * DAY;
  // Each delete is a unit of its own: nothing ties them together, and none holds the others' rows.
  return {
    rejections: await store.rejections.keepNewest(d.rejectionsMax),
    outbox: await store.outbox.prune(now - (d.outboxDays ?? RETENTION.outboxDays) * DAY),
    careVisits: await store.careVisits.prune(careBefore),
    careAbsences: await store.absences.prune(careBefore),
  };
}
