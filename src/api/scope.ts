// Who sees what (issue 12). One scope function, `inScope`, judges every thing the API shows or acts on by
// where it is — its community, its micro-grid, its household — and every route applies it (the role × route
// walk in tests/integration/scope-walk.test.ts holds them to it). Which *actions* a role may take on what it
// sees (dispatch, accept, rate…) is a separate question, answered where the action is.
//
//  - The platform operator (the admin token of settings / SHAOBING_ADMIN_TOKEN) is above communities: all.
//  - Everybody else belongs to one community and sees only its micro-grids that they serve; a community admin
//    (role admin) with no grids listed serves every grid of their community, never another community's.
//  - A volunteer (no role but volunteer) sees only the households paired with them (careContacts personId):
//    their alerts, devices, history, rejected payloads, care round. Nothing that belongs to no household —
//    parking lots, gates, common-area detectors, whole-community reports — and not the other volunteers.
//
// Outside the caller's view is answered exactly like absent (404), so probing tells nothing.
import type { Directory, HouseholdInfo, PersonInfo } from '../config/inventory.js';
import type { Role } from '../config/schema.js';
import { AppError } from '../errors.js';

export interface Principal {
  id: string;
  roles: Role[];
  /** The platform operator (admin token): above every community. */
  platform: boolean;
  /** May provision devices: the platform operator anywhere, a community admin (role admin) in their own community. */
  admin: boolean;
  /** The caller's community; absent for the platform operator. */
  communityId?: string;
  /** Micro-grids the caller serves; 'all' only for the platform operator. */
  grids: Set<string> | 'all';
  /** A volunteer's view: the households paired with them, and nothing else. Absent for everybody else. */
  households?: Set<string>;
}

/**
 * Where a thing is. `gridId` absent = the thing belongs to the whole community (only its admins and the
 * platform see it); `householdId` absent = it belongs to no household (volunteers never see it).
 */
export interface Place {
  communityId: string;
  gridId?: string;
  householdId?: string;
}

/** The admin token's principal. */
export const PLATFORM: Principal = Object.freeze({ id: 'admin', roles: ['admin'] as Role[], platform: true, admin: true, grids: 'all' as const });

/** A person with no role but volunteer. */
export const isVolunteerOnly = (p: { roles: readonly Role[] }): boolean => p.roles.length > 0 && p.roles.every((r) => r === 'volunteer');

/** The principal of a person of the inventory (staff token or console session). */
export function principalOf(directory: Directory, person: PersonInfo): Principal {
  const grids = directory.gridsOf(person);
  const p: Principal = {
    id: person.id,
    roles: person.roles,
    platform: false,
    admin: person.roles.includes('admin'),
    communityId: person.communityId,
    // Never 'all' for a person: grids are unique across communities (src/config/load.ts), but a community's
    // admin must not see another community's even if they were not.
    grids: grids === 'all' ? new Set(directory.communities.get(person.communityId)?.grids.map((g) => g.id) ?? []) : grids,
  };
  if (isVolunteerOnly(person))
    p.households = new Set([...directory.households.values()].filter((h) => h.careContacts.some((c) => c.personId === person.id)).map((h) => h.id));
  return p;
}

/** Is the grid one the caller serves? (Grid-level only: a volunteer serves their grid but sees only their households in it.) */
export function inGrids(p: Principal, communityId: string, gridId: string): boolean {
  if (p.platform) return true;
  return communityId === p.communityId && p.grids !== 'all' && p.grids.has(gridId);
}

/** THE scope function: may the caller see (and so act on) a thing at this place? */
export function inScope(p: Principal, at: Place): boolean {
  if (p.platform) return true;
  if (at.communityId !== p.communityId) return false;
  if (at.gridId === undefined) return p.admin && !p.households;
  if (!inGrids(p, at.communityId, at.gridId)) return false;
  if (p.households) return at.householdId !== undefined && p.households.has(at.householdId);
  return true;
}

export const householdPlace = (h: HouseholdInfo): Place => ({ communityId: h.communityId, gridId: h.gridId, householdId: h.id });

/** Some grid of the community in the caller's scope: may act in its shared things (visitor plates, reports). */
export function inScopeOfCommunity(p: Principal, directory: Directory, communityId: string): boolean {
  const c = directory.communities.get(communityId);
  return c !== undefined && c.grids.some((g) => inScope(p, { communityId, gridId: g.id }));
}

/** May the caller see this person (name and roles, for the console)? Staff of the caller's grids; a volunteer also not the other volunteers. */
export function seesPerson(p: Principal, directory: Directory, person: PersonInfo): boolean {
  if (p.platform || person.id === p.id) return true;
  if (person.communityId !== p.communityId || p.grids === 'all') return false;
  const serves = directory.gridsOf(person);
  const mine = [...p.grids].some((g) => (serves === 'all' ? directory.communities.get(person.communityId)?.grids.some((x) => x.id === g) : serves.has(g)));
  return mine && (!p.households || !isVolunteerOnly(person));
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw new AppError('SB_FORBIDDEN', 'admin token required');
}

/** What affects every community (the one event clock): the platform operator only. */
export function requirePlatform(p: Principal): void {
  if (!p.platform) throw new AppError('SB_FORBIDDEN', 'the platform admin token is required');
}
