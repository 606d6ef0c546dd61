// Care visits, absences and registered visitors in PostgreSQL; all working set, in memory and written through.
// The recent-visits and absences lists are queries; pruning is a unit of its own that also drops the rows
// from memory.
import type pg from 'pg';
import type { AbsenceRecord, AbsencesRepo, CareVisitRecord, CareVisitsRepo, VisitorRecord, VisitorsRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, lit, MemMap } from './unit.js';

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

const ends = (a: AbsenceRecord) => a.endedAt ?? a.until;
const newestFirst = (a: AbsenceRecord, b: AbsenceRecord) => b.from - a.from || b.id - a.id;

export function pgCare(x: PgContext): { repos: { careVisits: CareVisitsRepo; absences: AbsencesRepo; visitors: VisitorsRepo }; loadable: Loadable } {
  const { unit } = x;
  const visits = new MemMap<number, CareVisitRecord>(unit);
  const absences = new MemMap<number, AbsenceRecord>(unit);
  const visitors = new MemMap<string, VisitorRecord>(unit);
  const vkey = (communityId: string, plate: string) => `${communityId}\u0000${plate}`;

  const loadable: Loadable = {
    async load(db: Pick<pg.Pool, 'query'>) {
      const [v, a, p] = await Promise.all([
        db.query<VisitRow>('SELECT * FROM care_visits'),
        db.query<AbsenceRow>('SELECT * FROM care_absences'),
        db.query<{ community_id: string; plate: string; until: number; registered_by: string; registered_at: number }>('SELECT * FROM visitors'),
      ]);
      visits.clear();
      absences.clear();
      visitors.clear();
      for (const r of v.rows) visits.load(r.id, visit(r));
      for (const r of a.rows) absences.load(r.id, absence(r));
      for (const r of p.rows)
        visitors.load(vkey(r.community_id, r.plate), { communityId: r.community_id, plate: r.plate, until: r.until, registeredBy: r.registered_by, registeredAt: r.registered_at });
    },
  };

  const lastVisit = (householdId: string) => {
    let last: CareVisitRecord | undefined;
    for (const v of visits.values()) if (v.householdId === householdId && (!last || v.at > last.at || (v.at === last.at && v.id > last.id))) last = v;
    return last;
  };
  const changeAbsence = (id: number, sql: string, change: (a: AbsenceRecord) => AbsenceRecord) => {
    const a = absences.get(id);
    if (a) absences.set(id, change(a));
    unit.write(sql);
  };

  return {
    loadable,
    repos: {
      careVisits: {
        add: (v) => {
          const id = x.id();
          const sql = insert('care_visits', { id, household_id: v.householdId, community_id: v.communityId, grid_id: v.gridId, visited_by: v.by, at: v.at, note: v.note ?? null, logged_at: v.loggedAt });
          visits.set(id, { id, ...v });
          unit.write(sql);
          return id;
        },
        last: (householdId) => {
          const v = lastVisit(householdId);
          return v && { ...v };
        },
        recent: async (householdId, limit) =>
          (await x.query<VisitRow>('SELECT * FROM care_visits WHERE household_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [householdId, limit])).map(visit),
        lastEach: (after) => {
          const out = new Map<string, number>();
          for (const v of visits.values()) if (v.at > after && v.at > (out.get(v.householdId) ?? -Infinity)) out.set(v.householdId, v.at);
          return out;
        },
        prune: async (before) => {
          const gone = await x.query<{ id: number }>('DELETE FROM care_visits WHERE at < $1 RETURNING id', [before]);
          for (const r of gone) visits.m.delete(r.id);
          return gone.length;
        },
      },
      absences: {
        add: (a) => {
          const id = x.id();
          const sql = insert('care_absences', {
            id,
            household_id: a.householdId,
            community_id: a.communityId,
            grid_id: a.gridId,
            reason: a.reason,
            note: a.note ?? null,
            from_at: a.from,
            until_at: a.until,
            created_by: a.createdBy,
            created_at: a.createdAt,
          });
          absences.set(id, { id, ...a });
          unit.write(sql);
          return id;
        },
        get: (id) => {
          const a = absences.get(id);
          return a && { ...a };
        },
        ofHousehold: (householdId, after, limit) =>
          [...absences.values()]
            .filter((a) => a.householdId === householdId && ends(a) > after)
            .sort(newestFirst)
            .slice(0, limit)
            .map((a) => ({ ...a })),
        since: async (after, limit) =>
          (await x.query<AbsenceRow>('SELECT * FROM care_absences WHERE COALESCE(ended_at, until_at) > $1 ORDER BY from_at DESC, id DESC LIMIT $2', [after, limit])).map(absence),
        live: (after) =>
          [...absences.values()]
            .filter((a) => ends(a) > after)
            .sort((a, b) => (a.householdId < b.householdId ? -1 : a.householdId > b.householdId ? 1 : newestFirst(a, b)))
            .map((a) => ({ ...a })),
        end: (id, at, by, note) =>
          changeAbsence(id, `UPDATE care_absences SET ended_at = ${lit(at)}, ended_by = ${lit(by)}, end_note = ${lit(note)} WHERE id = ${lit(id)}`, (a) => {
            const { endNote: _, ...rest } = a;
            return { ...rest, endedAt: at, endedBy: by, ...(note !== null ? { endNote: note } : {}) };
          }),
        changeUntil: (id, until) =>
          changeAbsence(id, `UPDATE care_absences SET until_at = ${lit(until)}, prompted_at = NULL WHERE id = ${lit(id)}`, (a) => {
            const { promptedAt: _, ...rest } = a;
            return { ...rest, until };
          }),
        prompt: (id, at) => {
          const a = absences.get(id);
          if (!a || a.promptedAt !== undefined) return false;
          changeAbsence(id, `UPDATE care_absences SET prompted_at = ${lit(at)} WHERE id = ${lit(id)} AND prompted_at IS NULL`, (r) => ({ ...r, promptedAt: at }));
          return true;
        },
        prune: async (before) => {
          const gone = await x.query<{ id: number }>('DELETE FROM care_absences WHERE COALESCE(ended_at, until_at) < $1 RETURNING id', [before]);
          for (const r of gone) absences.m.delete(r.id);
          return gone.length;
        },
      },
      visitors: {
        all: () => [...visitors.values()].map((v) => ({ ...v })),
        put: (v) => {
          const sql = `${insert('visitors', { community_id: v.communityId, plate: v.plate, until: v.until, registered_by: v.registeredBy, registered_at: v.registeredAt })}
            ON CONFLICT (community_id, plate) DO UPDATE SET until = EXCLUDED.until, registered_by = EXCLUDED.registered_by, registered_at = EXCLUDED.registered_at`;
          visitors.set(vkey(v.communityId, v.plate), { ...v });
          unit.write(sql);
        },
      },
    },
  };
}
