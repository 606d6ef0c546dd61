// Care visits, absences and registered visitors in SQLite.
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import type { AbsenceRecord, AbsencesRepo, CareVisitRecord, CareVisitsRepo, VisitorRecord, VisitorsRepo } from '../store.js';

interface VisitRow {
  id: number;
  household_id: string;
  community_id: string;
  grid_id: string;
  visited_by: string;
  at: number;
  note: string | null;
  logged_at: number;
}

const visit = (r: VisitRow): CareVisitRecord => ({
  id: r.id,
  householdId: r.household_id,
  communityId: r.community_id,
  gridId: r.grid_id,
  by: r.visited_by,
  at: r.at,
  ...(r.note !== null ? { note: r.note } : {}),
  loggedAt: r.logged_at,
});

interface AbsenceRow {
  id: number;
  household_id: string;
  community_id: string;
  grid_id: string;
  reason: string;
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

const absence = (r: AbsenceRow): AbsenceRecord => ({
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

export function sqliteCare(db: Db): { careVisits: CareVisitsRepo; absences: AbsencesRepo; visitors: VisitorsRepo } {
  let v: ReturnType<typeof prepareVisits> | undefined;
  const prepareVisits = () => ({
    insert: db.prepare('INSERT INTO care_visits (household_id, community_id, grid_id, visited_by, at, note, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    last: db.prepare('SELECT * FROM care_visits WHERE household_id = ? ORDER BY at DESC, id DESC LIMIT 1'),
    recent: db.prepare('SELECT * FROM care_visits WHERE household_id = ? ORDER BY at DESC, id DESC LIMIT ?'),
    prune: db.prepare('DELETE FROM care_visits WHERE at < ?'),
    lastEach: db.prepare('SELECT household_id AS h, MAX(at) AS at FROM care_visits WHERE at > ? GROUP BY household_id'),
  });
  const vs = () => (v ??= prepareVisits());
  let a: ReturnType<typeof prepareAbsences> | undefined;
  const prepareAbsences = () => ({
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
  });
  const as = () => (a ??= prepareAbsences());
  let upsert: Statement | undefined;
  return {
    careVisits: {
      add: (x) => Number(vs().insert.run(x.householdId, x.communityId, x.gridId, x.by, x.at, x.note ?? null, x.loggedAt).lastInsertRowid),
      last: (householdId) => {
        const r = vs().last.get(householdId) as VisitRow | undefined;
        return r && visit(r);
      },
      recent: async (householdId, limit) => (vs().recent.all(householdId, limit) as VisitRow[]).map(visit),
      lastEach: (after) => new Map((vs().lastEach.all(after) as Array<{ h: string; at: number }>).map((r) => [r.h, r.at])),
      prune: async (before) => vs().prune.run(before).changes,
    },
    absences: {
      add: (x) =>
        Number(as().insert.run(x.householdId, x.communityId, x.gridId, x.reason, x.note ?? null, x.from, x.until, x.createdBy, x.createdAt).lastInsertRowid),
      get: (id) => {
        const r = as().get.get(id) as AbsenceRow | undefined;
        return r && absence(r);
      },
      ofHousehold: (householdId, after, limit) => (as().ofHousehold.all(householdId, after, limit) as AbsenceRow[]).map(absence),
      since: async (after, limit) => (as().since.all(after, limit) as AbsenceRow[]).map(absence),
      live: (after) => (as().live.all(after) as AbsenceRow[]).map(absence),
      end: (id, at, by, note) => void as().end.run(at, by, note, id),
      changeUntil: (id, until) => void as().until.run(until, id),
      prompt: (id, at) => as().prompt.run(at, id).changes > 0,
      prune: async (before) => as().prune.run(before).changes,
    },
    visitors: {
      all: () =>
        (
          db.prepare('SELECT community_id, plate, until, registered_by, registered_at FROM visitors').all() as Array<{
            community_id: string;
            plate: string;
            until: number;
            registered_by: string;
            registered_at: number;
          }>
        ).map((r): VisitorRecord => ({ communityId: r.community_id, plate: r.plate, until: r.until, registeredBy: r.registered_by, registeredAt: r.registered_at })),
      put: (x) =>
        void (upsert ??= db.prepare(
          `INSERT INTO visitors (community_id, plate, until, registered_by, registered_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(community_id, plate) DO UPDATE SET until = excluded.until, registered_by = excluded.registered_by, registered_at = excluded.registered_at`,
        )).run(x.communityId, x.plate, x.until, x.registeredBy, x.registeredAt),
    },
  };
}
