// Retention: keep the store from growing without bound. Ages are judged on the injected clock's now.
// - rejections beyond settings.store.rejectionsMax: ingest already prunes them, but only after every 500 new
//   rejections (src/ingest/pipeline.ts), so the table can overshoot by that much; this trims it exactly.
// - notification outbox rows sent more than 30 days ago, for alerts that are resolved (and digests, which
//   belong to no alert). Rows of open alerts and failed rows stay: they are the evidence of who was told.
// - care visits older than a year, and absences that ended more than a year ago.
import type { Db } from '../store/db.js';

const DAY = 86_400_000;

export const RETENTION = { outboxDays: 30, careVisitDays: 365 } as const;

export interface RetentionDeps {
  db: Db;
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

export function runRetention(d: RetentionDeps): RetentionResult {
  const { db, now } = d;
  return db.transaction(
    (): RetentionResult => ({
      rejections: db.prepare('DELETE FROM rejections WHERE id <= (SELECT MAX(id) FROM rejections) - ?').run(d.rejectionsMax).changes,
      outbox: db
        .prepare(
          `DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?
             AND (alert_id IS NULL OR alert_id IN (SELECT id FROM alerts WHERE status = 'resolved'))`,
        )
        .run(now - (d.outboxDays ?? RETENTION.outboxDays) * DAY).changes,
      careVisits: db.prepare('DELETE FROM care_visits WHERE at < ?').run(now - (d.careVisitDays ?? RETENTION.careVisitDays) * DAY).changes,
      careAbsences: db
        .prepare('DELETE FROM care_absences WHERE COALESCE(ended_at, until_at) < ?')
        .run(now - (d.careVisitDays ?? RETENTION.careVisitDays) * DAY).changes,
    }),
  )();
}
