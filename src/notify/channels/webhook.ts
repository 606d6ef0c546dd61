// Generic JSON webhook (a street operations centre, an integrator). Signed like GitHub/Stripe webhooks:
//   X-Shaobing-Timestamp: <ms>
//   X-Shaobing-Signature: sha256=<hex HMAC-SHA256(key = secret, message = timestamp + "." + body)>
// The receiver recomputes it and refuses stale timestamps (replay protection). Any 2xx is success.
import { createHmac } from 'node:crypto';
import { judgeStatus, type Channel } from './types.js';

export function webhookSignature(secret: string, timestampMs: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`;
}

export const webhook: Channel = {
  type: 'webhook',
  maxBytes: 256_000,
  build(dest, notices, now) {
    const body = JSON.stringify({
      source: 'shaobing',
      sentAt: new Date(now).toISOString(),
      notifications: notices.map((n) => ({ title: n.title, lines: n.lines, severity: n.severity, alertId: n.alertId, ackUrl: n.ackUrl, snapshotUrl: n.snapshotUrl, alert: n.data })),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-shaobing-timestamp': String(now) };
    if (dest.secret) headers['x-shaobing-signature'] = webhookSignature(dest.secret, now, body);
    return { url: dest.url, headers, body };
  },
  judge(status) {
    return judgeStatus(status) ?? { ok: true };
  },
};
