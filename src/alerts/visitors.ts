// The plate lists unregistered_vehicle and visitor_overstay look at: residents' plates from the inventory
// (households[].plates) and visitors registered through POST /api/visitors {plate, communityId, until}.
import type { VisitorsRepo } from '../store/store.js';
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

  constructor(
    private readonly repo: VisitorsRepo,
    directory: Directory,
  ) {
    for (const h of directory.households.values()) {
      let set = this.residents.get(h.communityId);
      if (!set) this.residents.set(h.communityId, (set = new Set()));
      for (const p of h.plates) set.add(normalisePlate(p));
    }
  }

  load(): void {
    this.visitors.clear();
    for (const v of this.repo.all()) this.visitors.set(`${v.communityId}/${v.plate}`, v);
  }

  isResident(communityId: string, plate: string): boolean {
    return this.residents.get(communityId)?.has(plate) ?? false;
  }

  visitorUntil(communityId: string, plate: string): number | undefined {
    return this.visitors.get(`${communityId}/${plate}`)?.until;
  }

  /** Inside the caller's transaction; memory follows at once (a rollback reloads). */
  register(v: Visitor): void {
    this.repo.put(v);
    this.visitors.set(`${v.communityId}/${v.plate}`, v);
  }
}
