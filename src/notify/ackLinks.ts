// One-tap acknowledge links in messages: signed (HMAC-SHA256 with a key kept in the data dir), expiring,
// and single use (the token's id is recorded when used). The link names the alert and the person, so the
// audit trail says who acknowledged from their phone.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface AckClaims {
  alertId: number;
  personId: string;
  /** Expiry, epoch ms. */
  exp: number;
  /** Random id, recorded on use (single use). */
  jti: string;
}

export function newAckKey(): string {
  return randomBytes(32).toString('base64url');
}

export function signAck(key: string, claims: Omit<AckClaims, 'jti'>): string {
  const body = Buffer.from(JSON.stringify({ ...claims, jti: randomBytes(9).toString('base64url') })).toString('base64url');
  const mac = createHmac('sha256', key).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export type AckCheck = { ok: true; claims: AckClaims } | { ok: false; code: 'SB_ACK_INVALID' | 'SB_ACK_EXPIRED'; message: string };

export function verifyAck(key: string, token: string, now: number): AckCheck {
  const [body, mac] = token.split('.');
  if (!body || !mac) return { ok: false, code: 'SB_ACK_INVALID', message: '链接无效' };
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, code: 'SB_ACK_INVALID', message: '链接无效' };
  let claims: AckClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AckClaims;
  } catch {
    return { ok: false, code: 'SB_ACK_INVALID', message: '链接无效' };
  }
  if (!(claims.exp > now)) return { ok: false, code: 'SB_ACK_EXPIRED', message: '链接已过期' };
  return { ok: true, claims };
}
