// The plate lists unregistered_vehicle and visitor_overstay look at: residents' plates from the inventory
// (households[].plates) and visitors registered through POST /api/visitors {plate, communityId, until}.
import type { Db } from '../store/db.js';
import type { Directory } from '../config/inventory.js';
import { normalisePlate } from '../rules/lib/types.js';

export interface Visitor {
  communityId: string;
  plate: string;
  until: number;
  registeredBy: string;
  registeredAt: number;
}

export class PlateLists {
  private readonly residents = new Map<string, Set<string>>();
  private readonly visitors = new Map<string, Visitor>();
  private readonly upsert;

  constructor(
    private readonly db: Db,
    directory: Directory,
  ) {
    for (const h of directory.households.values()) {
      let set = this.residents.get(h.communityId);
      if (!set) this.residents.set(h.communityId, (set = new Set()));
      for (const p of h.plates) set.add(normalisePlate(p));
    }
    this.upsert = db.prepare(
      `INSERT INTO visitors (community_id, plate, until, registered_by, registered_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(community_id, plate) DO UPDATE SET until = excluded.until, registered_by = excluded.registered_by, registered_at = excluded.registered_at`,
    );
  }

  load(): void {
    this.visitors.clear();
    const rows = this.db.prepare('SELECT community_id, plate, until, registered_by, registered_at FROM visitors').all() as Array<{
      community_id: string;
      plate: string;
      until: number;
      registered_by: string;
      registered_at: number;
    }>;
    for (const r of rows)
      this.visitors.set(`${r.community_id}/${r.plate}`, {
        communityId: r.community_id,
        plate: r.plate,
        until: r.until,
        registeredBy: r.registered_by,
        registeredAt: r.registered_at,
      });
  }

  isResident(communityId: string, plate: string): boolean {
    return this.residents.get(communityId)?.has(plate) ?? false;
  }

  visitorUntil(communityId: string, plate: string): number | undefined {
    return this.visitors.get(`${communityId}/${plate}`)?.until;
  }

  /** Inside the caller's transaction; memory follows at once (a rollback reloads). */
  register(v: Visitor): void {
    this.upsert.run(v.communityId, v.plate, v.until, v.registeredBy, v.registeredAt);
    this.visitors.set(`${v.communityId}/${v.plate}`, v);
  }
}
