// The live counts of every parking lot, as GET /api/parking/lots and the `parking` event show them. The counts
// are computed by the lot_full rule inside the ingest transaction and land here only after it commits; at start
// they are read back from that rule's saved state.
import type { Directory } from '../config/inventory.js';
import type { LotCounts } from './types.js';
import { lotOccupied, type LotState } from '../rules/lotFull.js';

export class LotBoard {
  private readonly counts = new Map<string, LotCounts>();

  constructor(private readonly directory: Directory) {}

  load(saved: Array<{ subject: string; state: LotState }>): void {
    const byLot = new Map(saved.map((r) => [r.subject, r.state]));
    for (const lot of this.directory.lots.values()) {
      const s = byLot.get(lot.id);
      this.set(lot.id, s ? lotOccupied(s, lot.capacity) : 0, null);
    }
  }

  set(lotId: string, occupied: number, at: number | null): LotCounts | undefined {
    const lot = this.directory.lots.get(lotId);
    if (!lot) return undefined;
    const counts: LotCounts = {
      id: lot.id,
      name: lot.name,
      communityId: lot.communityId,
      gridId: lot.gridId,
      capacity: lot.capacity,
      occupied,
      free: lot.capacity - occupied,
      updatedAt: at === null ? null : new Date(at).toISOString(),
    };
    this.counts.set(lotId, counts);
    return counts;
  }

  all(): LotCounts[] {
    return [...this.counts.values()];
  }
}
