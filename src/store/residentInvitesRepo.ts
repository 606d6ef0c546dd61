// Invite generations of households (src/residents/invites.ts): a row only once an invite was revoked.
import type { Db } from './db.js';
import type { ResidentInvitesRepo as Invites } from './store.js';

export class ResidentInvitesRepo implements Invites {
  private readonly s;
  constructor(db: Db) {
    this.s = {
      all: db.prepare('SELECT household_id AS householdId, generation FROM resident_invites'),
      bump: db.prepare(
        `INSERT INTO resident_invites (household_id, generation, revoked_at, revoked_by) VALUES (?, 2, ?, ?)
         ON CONFLICT (household_id) DO UPDATE SET generation = generation + 1, revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by
         RETURNING generation`,
      ),
    };
  }

  generations(): Map<string, number> {
    return new Map((this.s.all.all() as Array<{ householdId: string; generation: number }>).map((r) => [r.householdId, r.generation]));
  }

  /** Move the household's generation on; returns the new one. */
  revoke(householdId: string, at: number, by: string): number {
    return (this.s.bump.get(householdId, at, by) as { generation: number }).generation;
  }
}
