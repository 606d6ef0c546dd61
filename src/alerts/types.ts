// The Alert of CONTRACT.md ("Alert", "Alert kinds") and the values its fields take.
// Alert kinds are declared once, with their label, routing and rule, in kinds.ts.
export { ALERT_KINDS, type AlertKind } from './kinds.js';
import type { AlertKind } from './kinds.js';

export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** CONTRACT.md status list; "rated" is recorded on a resolved alert as `rating`, the status stays resolved. */
export const STATUSES = ['open', 'acknowledged', 'dispatched', 'accepted', 'resolved'] as const;
export type AlertStatus = (typeof STATUSES)[number];

/** Where an alert is: the micro-grid decides who sees it; the rest is for the person who goes there. */
export interface AlertPlace {
  communityId: string;
  gridId: string;
  deviceId?: string;
  householdId?: string;
  spaceId?: string;
  plate?: string;
}

/** The Alert as the API and the `alert` bus event carry it (times ISO 8601, title in Chinese). */
/** An alert to open, or whose repeat to count, for a kind and subject (a rule's `open` action, a filing). */
export interface AlertOpening {
  place: AlertPlace;
  severity: Severity;
  title: string;
  details: Record<string, unknown>;
  now: number;
  /** A self-clearing alert back within this time re-opens the same alert (flap damping). */
  flapHoldMs: number;
}

export interface AlertView extends AlertPlace {
  id: number;
  kind: AlertKind;
  severity: Severity;
  status: AlertStatus;
  title: string;
  details: Record<string, unknown>;
  count: number;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  /** Person the job was dispatched to (派单). */
  assignee?: string;
  /** Why it was resolved: the person's note, or the automatic reason. */
  resolution?: string;
  resolvedBy?: string;
  /** 评单: recorded once on a resolved alert. */
  rating?: { score: number; comment?: string; by: string; at: string };
}

export interface TimelineEntry {
  at: string;
  /** opened, repeated, reopened, acknowledged, dispatched, accepted, resolved, rated, note, updated */
  type: string;
  /** A person's id, or `system` for what a rule did. */
  actor: string;
  data?: Record<string, unknown>;
}

/** A parking lot's live counts (GET /api/parking/lots, the `parking` bus event). */
export interface LotCounts {
  id: string;
  name: string;
  communityId: string;
  gridId: string;
  capacity: number;
  occupied: number;
  free: number;
  updatedAt: string | null;
}
