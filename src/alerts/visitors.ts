// Visitors' plates. The plate lists unregistered_vehicle and visitor_overstay look at: residents' plates from
// the inventory (households[].plates) and visitors registered through POST /api/visitors {plate, communityId,
// until}; a registration is written and run through the rules that take visitors in one unit of work the engine
// opens (RuleInputs), published after the commit.
import type { VisitorsRepo } from '../store/store.js';
import type { Directory } from '../config/inventory.js';
import type { Clock } from '../clock/clock.js';
import { normalisePlate } from '../rules/lib/types.js';
import { plateSubject } from '../rules/unregisteredVehicle.js';
import type { RuleInputs } from './engine.js';

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

export class Visitors {
  /** What the plate rules' context looks at (src/rules/lib/context.ts PlateSource). */
  readonly plates: PlateLists;

  constructor(
    repo: VisitorsRepo,
    directory: Directory,
    private readonly clock: Clock,
    private readonly inputs: RuleInputs,
  ) {
    this.plates = new PlateLists(repo, directory);
  }

  /** Registered visitors as the store (inside the current unit, if any) has them. */
  load(): void {
    this.plates.load();
  }

  /** POST /api/visitors: register or extend a visitor plate; the plate rules see it in the same unit. */
  register(communityId: string, plate: string, until: number, by: string): { plate: string; until: number } {
    const p = normalisePlate(plate);
    this.inputs.unit((run) => {
      this.plates.register({ communityId, plate: p, until, registeredBy: by, registeredAt: this.clock.now() });
      for (const rule of this.inputs.rules) if (rule.takesVisitors) run(rule, plateSubject(communityId, p), { type: 'visitor', until, by });
    });
    return { plate: p, until };
  }
}
