// Reads what buildDigest (src/jobs/digest.ts) needs from the store: the alerts of some micro-grids alive in a
// window, and the lines of their audit trail that open, answer or close them. Kept apart so the digest itself
// stays a pure function tested with fixtures.
import type { Db } from '../store/db.js';
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

const ratingOf = (json: string) => {
  const r = JSON.parse(json) as { score: number; at: string };
  return { score: r.score, at: Date.parse(r.at) };
};

export function loadDigest(db: Db, q: DigestQuery): Digest {
  const grids = q.community.grids.filter((g) => q.grids === 'all' || q.grids.has(g.id)).map((g) => ({ id: g.id, name: g.name }));
  let alerts: DigestAlert[] = [];
  let events: DigestEvent[] = [];
  if (grids.length) {
    const marks = grids.map(() => '?').join(',');
    // resolved_at is cleared by a re-open, so "not resolved before from" keeps re-opened alerts too.
    const rows = db
      .prepare(
        `SELECT id, kind, grid_id, title, device_id, household_id, opened_at, resolved_at,
           CASE WHEN kind IN ('resident_report', 'resident_request') THEN json_extract(details, '$.category') END AS category, rating FROM alerts
         WHERE community_id = ? AND grid_id IN (${marks}) AND opened_at <= ?
           AND (resolved_at IS NULL OR resolved_at > ? OR (rating IS NOT NULL AND json_extract(rating, '$.at') > ?))`,
      )
      // A resident's 评单 in the window counts even if the order was resolved before it.
      .all(q.community.id, ...grids.map((g) => g.id), q.to, q.from, new Date(q.from).toISOString()) as Array<{
      id: number;
      kind: DigestAlert['kind'];
      grid_id: string;
      title: string;
      device_id: string | null;
      household_id: string | null;
      opened_at: number;
      resolved_at: number | null;
      category: string | null;
      rating: string | null;
    }>;
    alerts = rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      gridId: r.grid_id,
      title: r.title,
      ...(r.device_id ? { deviceId: r.device_id } : {}),
      ...(r.household_id ? { householdId: r.household_id } : {}),
      openedAt: r.opened_at,
      resolvedAt: r.resolved_at,
      ...(r.category ? { category: r.category } : {}),
      ...(r.rating ? { rating: ratingOf(r.rating) } : {}),
    }));
    const trail = db.prepare(
      `SELECT alert_id AS alertId, at, type, actor FROM alert_events
       WHERE alert_id = ? AND at <= ? AND type IN (${TRAIL.map(() => '?').join(',')}) ORDER BY id`,
    );
    for (const a of alerts) events = events.concat(trail.all(a.id, q.to, ...TRAIL) as DigestEvent[]);
  }
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
