// Who hears about an alert (DESIGN.md "People are reached where they already are"; issue #4 defaults):
// by kind and severity → roles within the subject's micro-grid, plus the household's own care contacts.
// An alert that wakes the whole committee for a flat battery gets the system switched off, so device
// health goes to property only — into the daily digest — unless it leaves an elder unprotected.
import type { Directory, PersonInfo } from '../config/inventory.js';
import type { Role } from '../config/schema.js';
import type { AlertKind, AlertView, Severity } from '../alerts/types.js';
import { byAlertKind } from '../alerts/kinds.js';

export interface Route {
  roles: Role[];
  /** Also the household's paired volunteer (care contacts that are people). */
  careContacts: boolean;
  /** Not sent at once: listed in the committee's daily digest instead. */
  digestOnly?: boolean;
}

/** Per kind, from its declaration (src/alerts/kinds.ts). */
export const DEFAULT_ROUTES = byAlertKind('route') as Record<AlertKind, Route>;

export interface Recipient {
  person: PersonInfo;
  /** Why this person: a role, or `care` for a household's paired volunteer. */
  via: Role | 'care';
}

/** An elder is left unprotected when their flat's smoke detector or water meter stops working. */
export function leavesElderUnprotected(alert: Pick<AlertView, 'kind' | 'householdId'>, directory: Directory): boolean {
  if (!['device_offline', 'low_battery', 'device_fault', 'device_tamper'].includes(alert.kind) || !alert.householdId) return false;
  return directory.households.get(alert.householdId)?.loneElder === true;
}

export function routeFor(kind: AlertKind, overrides: Partial<Record<AlertKind, Partial<Route>>> = {}): Route {
  return { ...DEFAULT_ROUTES[kind], ...overrides[kind] };
}

/** The people to notify now for this alert (empty when it only goes to the digest). */
export function recipients(
  alert: Pick<AlertView, 'kind' | 'severity' | 'communityId' | 'gridId' | 'householdId'>,
  directory: Directory,
  overrides: Partial<Record<AlertKind, Partial<Route>>> = {},
  extraRoles: Role[] = [],
): Recipient[] {
  const route = routeFor(alert.kind, overrides);
  const unprotected = leavesElderUnprotected(alert, directory);
  if (route.digestOnly && !unprotected && extraRoles.length === 0) return [];
  const roles = new Set<Role>([...route.roles, ...extraRoles]);
  const out = new Map<string, Recipient>();
  for (const person of directory.people.values()) {
    if (person.communityId !== alert.communityId) continue;
    const inGrid = person.grids.includes(alert.gridId) || (person.roles.includes('admin') && person.grids.length === 0);
    if (!inGrid) continue;
    const role = person.roles.find((r) => roles.has(r));
    if (role) out.set(person.id, { person, via: role });
  }
  if ((route.careContacts || unprotected) && alert.householdId) {
    for (const c of directory.households.get(alert.householdId)?.careContacts ?? []) {
      const person = c.personId ? directory.people.get(c.personId) : undefined;
      if (person && !out.has(person.id)) out.set(person.id, { person, via: 'care' });
    }
  }
  return [...out.values()];
}

export function isUrgent(severity: Severity): boolean {
  return severity === 'critical';
}
