// Who may take each step of an alert's workflow (四单制, DESIGN.md). Seeing an alert (the caller's grids, a
// volunteer's paired elders — src/api/auth.ts) is one question; this module answers the other: of what the
// caller sees, what may they *do*. The table below is the whole policy; README "Who may do what" and the
// OpenAPI summaries are generated from the same words (STEP_RULES), so they cannot drift.
//
//   确认 ack       staff who are told of alerts in the grid; a paired volunteer for their elder's care alerts
//   派单 dispatch  the grid head or property duty — they run the grid's jobs
//   接单 accept    the assignee, and nobody else
//   办结 resolve   the assignee; the grid head or property duty at any step (a false alarm checked on site);
//                  special-care staff and a paired volunteer for care alerts
//   评单 rate      the one who asked: whoever dispatched the job (the grid head when nobody did), and the
//                  residents' and owners' committees, who speak for residents — never who did the work;
//                  for a resident's own report or request (随手拍, 点单), the household that filed it and nobody else
//
// The admin token (an operator) may acknowledge, dispatch and resolve, but neither accept a job nor rate one:
// those belong to a person. A one-tap link from a chat message is a capability for its group and only
// acknowledges (src/api/ack.ts); it does not pass through here.
import type { Role } from '../config/schema.js';
import type { AlertKind, AlertView } from './types.js';
import { TRANSITIONS, canMove, type Transition } from './lifecycle.js';

export interface Actor {
  id: string;
  roles: readonly Role[];
  /** The admin token or a person with role admin. */
  admin: boolean;
  /** A resident signed in through their household's invite (src/residents): that household's id. */
  household?: string;
}

export interface StepFacts {
  alert: Pick<AlertView, 'kind' | 'status' | 'assignee' | 'resolvedBy' | 'rating' | 'householdId'>;
  /** Who dispatched the job most recently (派单人), from the timeline. */
  dispatchedBy?: string;
  /** The actor is a paired care contact (volunteer) of the alert's household. */
  caresForHousehold: boolean;
}

/** An elder's care: the volunteer's own work. */
export const CARE_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(['no_water_use', 'missed_check', 'continuous_water_flow', 'slow_leak']);

/** Filed by a resident from the phone page: rated by the household that filed it. */
export const RESIDENT_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(['resident_report', 'resident_request']);

const ACKNOWLEDGERS: readonly Role[] = ['property_duty', 'grid_head', 'grid_member', 'special_care', 'emergency', 'residents_committee'];
const DISPATCHERS: readonly Role[] = ['grid_head', 'property_duty'];
const COMMITTEES: readonly Role[] = ['residents_committee', 'owners_committee'];
/** Who a job may be dispatched to: people who go and do it (a paired volunteer too, for their elder's care alert). */
export const ASSIGNABLE_ROLES: readonly Role[] = ['property_duty', 'grid_head', 'grid_member', 'special_care', 'emergency'];

/** Each step in Chinese and who may take it, in words (README, OpenAPI, error messages). */
export const STEP_RULES: Record<Transition, { zh: string; who: string }> = {
  ack: {
    zh: '确认',
    who: "property duty, the grid head and members, special-care and emergency staff, the residents' committee, admin; a paired volunteer for their elder's care alerts",
  },
  dispatch: { zh: '派单', who: 'the grid head or property duty (or admin)' },
  accept: { zh: '接单', who: 'the assignee only' },
  resolve: {
    zh: '办结',
    who: 'the assignee; the grid head or property duty (or admin) at any step; special-care staff and a paired volunteer for care alerts',
  },
  rate: {
    zh: '评单',
    who: "whoever dispatched the job (the grid head if nobody did) and the residents' and owners' committees; never whoever accepted or resolved it; a resident's report or request only by the household that filed it",
  },
};

const has = (a: Actor, roles: readonly Role[]) => a.roles.some((r) => roles.includes(r));
const careWork = (a: Actor, f: StepFacts) =>
  CARE_KINDS.has(f.alert.kind) && (has(a, ['special_care']) || (has(a, ['volunteer']) && f.caresForHousehold));

/** May `actor` take `step`? (Whether the alert's status allows it is lifecycle.ts's question.) */
export function mayTake(step: Transition, a: Actor, f: StepFacts): boolean {
  // A resident's household takes one step only: rating what it filed.
  if (a.household !== undefined) return step === 'rate' && RESIDENT_KINDS.has(f.alert.kind) && f.alert.householdId === a.household;
  switch (step) {
    case 'ack':
      return a.admin || has(a, ACKNOWLEDGERS) || careWork(a, f);
    case 'dispatch':
      return a.admin || has(a, DISPATCHERS);
    case 'accept':
      return f.alert.assignee !== undefined && f.alert.assignee === a.id;
    case 'resolve':
      return a.admin || has(a, DISPATCHERS) || (f.alert.assignee !== undefined && f.alert.assignee === a.id) || careWork(a, f);
    case 'rate': {
      // No one rates their own work.
      if (a.id === f.alert.assignee || a.id === f.alert.resolvedBy) return false;
      if (RESIDENT_KINDS.has(f.alert.kind)) return false;
      if (has(a, COMMITTEES)) return true;
      return f.dispatchedBy !== undefined ? f.dispatchedBy === a.id : has(a, ['grid_head']);
    }
  }
}

/** The steps the actor may take now: allowed for them and by the alert's status (the console's buttons). */
export function allowedSteps(actor: Actor, facts: StepFacts): Transition[] {
  return TRANSITIONS.filter(
    (t) => canMove(t, facts.alert.status) && !(t === 'rate' && facts.alert.rating) && mayTake(t, actor, facts),
  );
}

/** May this person be sent the job (派单)? Whether they serve the alert's grid is checked by the caller. */
export function assignable(person: { roles: readonly Role[] }, alert: Pick<AlertView, 'kind'>, caresForHousehold: boolean): boolean {
  return person.roles.some((r) => ASSIGNABLE_ROLES.includes(r)) || (CARE_KINDS.has(alert.kind) && person.roles.includes('volunteer') && caresForHousehold);
}
