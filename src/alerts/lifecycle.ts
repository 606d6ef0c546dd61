// The community's own workflow (四单制, DESIGN.md): open → acknowledged → dispatched (派单) → accepted (接单)
// → resolved → rated (评单). A person may close an alert at any step (a false smoke alarm is closed by the duty
// staff who checked it); a job may be dispatched again until somebody accepts it. Anything else is an illegal
// move: 409 with a stable code.
import { AppError } from '../errors.js';
import type { AlertStatus } from './types.js';

export const TRANSITIONS = ['ack', 'dispatch', 'accept', 'resolve', 'rate'] as const;
export type Transition = (typeof TRANSITIONS)[number];

const MOVES: Record<Transition, { from: readonly AlertStatus[]; to: AlertStatus; event: string }> = {
  ack: { from: ['open'], to: 'acknowledged', event: 'acknowledged' },
  dispatch: { from: ['open', 'acknowledged', 'dispatched'], to: 'dispatched', event: 'dispatched' },
  accept: { from: ['dispatched'], to: 'accepted', event: 'accepted' },
  resolve: { from: ['open', 'acknowledged', 'dispatched', 'accepted'], to: 'resolved', event: 'resolved' },
  // Rated is recorded on a resolved alert; the status stays resolved (CONTRACT.md status list).
  rate: { from: ['resolved'], to: 'resolved', event: 'rated' },
};

/** Does the alert's status allow `t`? */
export function canMove(t: Transition, from: AlertStatus): boolean {
  return MOVES[t].from.includes(from);
}

/** The status after `t`, or a 409 SB_ILLEGAL_TRANSITION naming what is allowed. */
export function move(t: Transition, from: AlertStatus): { to: AlertStatus; event: string } {
  const m = MOVES[t];
  if (!m.from.includes(from))
    throw new AppError('SB_ILLEGAL_TRANSITION', `cannot ${t} an alert that is ${from} (allowed from: ${m.from.join(', ')})`);
  return { to: m.to, event: m.event };
}
