// Links to an alert's camera snapshot in chat messages: signed (HMAC-SHA256 with a key derived from the
// acknowledge-link key, so neither kind of link opens the other), expiring (the acknowledge links' TTL), and naming
// the alert and the destination the message went to. The link opens the alert's newest snapshot as it is when
// fetched (the picture is stored after the message is queued), and only while that destination still reaches the
// staff of the alert's grid (src/notify/index.ts Notifier.reachesGridStaff): a person moved off the grid, or a
// robot whose group no longer takes the grid in, gets nothing from an old message.
import { createHmac } from 'node:crypto';
import { signAck, verifyAck, type AckCheck } from './ackLinks.js';

const PURPOSE = 'shaobing snapshot links v1';
const DEST = 'snapshot:';

export function snapshotKey(ackKey: string): string {
  return createHmac('sha256', ackKey).update(PURPOSE).digest('base64url');
}

export function signSnapshot(ackKey: string, alertId: number, destination: string, exp: number): string {
  return signAck(snapshotKey(ackKey), { alertId, personId: `${DEST}${destination}`, exp });
}

/** The alert and destination a snapshot link names, or why it does not open. */
export function verifySnapshot(ackKey: string, token: string, now: number): { ok: true; alertId: number; destination: string } | Extract<AckCheck, { ok: false }> {
  const v = verifyAck(snapshotKey(ackKey), token, now);
  if (!v.ok) return v;
  if (!v.claims.personId.startsWith(DEST)) return { ok: false, code: 'SB_ACK_INVALID', message: '链接无效' };
  return { ok: true, alertId: v.claims.alertId, destination: v.claims.personId.slice(DEST.length) };
}
