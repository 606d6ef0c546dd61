// Reads what buildDigest (src/jobs/digest.ts) needs from the store: the alerts of some micro-grids alive in a
// window, and the lines of their audit trail that open, answer or close them. Kept apart so the digest itself
// stays a pure function tested with fixtures.
import type { Store } from '../store/store.js';
import type { Inventory } from '../config/schema.js';
import { buildDigest, type Digest, type DigestAlert, type DigestEvent } from './digest.js';

const TRAIL = ['opened', 'reopened', 'acknowledged', 'dispatched', 'accepted', 'resolved'];

export interface DigestQuery {
  community: Inventory;
  /** Grid ids to cover; 'all' = every grid of the community. */
  grids: Set<string> | 'all';
  from: number;
  to: number;
  utcOffsetMinutes: number;
  /** Devices by status now (DeviceStatusBoard.counts), for a window that ends now. */
  devices?: { ok: number; late: number; offline: number };
}

const ratingOf = (r: Record<string, unknown>) => ({ score: r.score as number, at: Date.parse(r.at as string) });

export async function loadDigest(store: Pick<Store, 'alerts'>, q: DigestQuery): Promise<Digest> {
  const grids = q.community.grids.filter((g) => q.grids === 'all' || q.grids.has(g.id)).map((g) => ({ id: g.id, name: g.name }));
  const w = await store.alerts.window({ communityId: q.community.id, gridIds: grids.map((g) => g.id), from: q.from, to: q.to, types: TRAIL });
  const alerts: DigestAlert[] = w.alerts.map((r) => {
    const category = r.kind === 'resident_report' || r.kind === 'resident_request' ? r.details.category : undefined;
    return {
      id: r.id,
      kind: r.kind as DigestAlert['kind'],
      gridId: r.gridId,
      title: r.title,
      ...(r.deviceId ? { deviceId: r.deviceId } : {}),
      ...(r.householdId ? { householdId: r.householdId } : {}),
      openedAt: r.openedAt,
      resolvedAt: r.resolvedAt,
      ...(typeof category === 'string' && category ? { category } : {}),
      ...(r.rating ? { rating: ratingOf(r.rating) } : {}),
    };
  });
  const events: DigestEvent[] = w.events.map((e) => ({ alertId: e.alertId, at: e.at, type: e.type, actor: e.actor }) as DigestEvent);
  return buildDigest({
    community: { id: q.community.id, name: q.community.name },
    grids,
    from: q.from,
    to: q.to,
    alerts,
    events,
    utcOffsetMinutes: q.utcOffsetMinutes,
    devices: q.devices,
  });
}
