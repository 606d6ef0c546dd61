// Notification tables in SQLite: the outbox and its attempts, texts and calls with their receipts, one-tap
// pages, and used acknowledgement links.
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import type { AckTokensRepo, ContactLink, OutboxRepo, OutboxRow, PhoneMessage, PhoneRepo } from '../store.js';

interface OutboxDbRow {
  id: number;
  alert_id: number | null;
  destination: string;
  notice: string;
  due_at: number;
  attempts: number;
  created_at: number;
}

const outboxRow = (r: OutboxDbRow): OutboxRow => ({
  id: r.id,
  alertId: r.alert_id,
  destination: r.destination,
  notice: r.notice,
  dueAt: r.due_at,
  attempts: r.attempts,
  createdAt: r.created_at,
});

export function sqliteNotify(db: Db): { outbox: OutboxRepo; phone: PhoneRepo; ackTokens: AckTokensRepo } {
  let p: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    insert: db.prepare(
      `INSERT INTO outbox (alert_id, destination, notice, due_at, next_try_at, attempts, status, created_at)
       VALUES (?, ?, ?, ?, 0, 0, 'pending', ?)`,
    ),
    // Up to `perDestination` due rows per destination, not `limit` overall: a backlog for one paced robot
    // must not keep another destination's smoke alarm out of the selection.
    dueChat: db.prepare(
      `SELECT id, alert_id, destination, notice, due_at, attempts, created_at FROM (
         SELECT *, ROW_NUMBER() OVER (PARTITION BY destination ORDER BY due_at, id) AS n FROM outbox
         WHERE status = 'pending' AND due_at <= ? AND next_try_at <= ? AND destination NOT LIKE 'phone:%')
       WHERE n <= ? ORDER BY due_at, id LIMIT ?`,
    ),
    duePhone: db.prepare(
      `SELECT id, alert_id, destination, notice, due_at, attempts, created_at FROM outbox
       WHERE status = 'pending' AND destination IN ('phone:sms', 'phone:call') AND due_at <= ? AND next_try_at <= ?
       ORDER BY due_at, id LIMIT ?`,
    ),
    sent: db.prepare(`UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?`),
    retry: db.prepare(`UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?`),
    failed: db.prepare(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`),
    next: db.prepare(
      `SELECT destination, MIN(MAX(due_at, next_try_at)) AS at FROM outbox
       WHERE status = 'pending' AND destination NOT LIKE 'phone:%' GROUP BY destination`,
    ),
    attempt: db.prepare(
      `INSERT INTO notification_attempts (alert_ids, outbox_ids, destination, channel, ok, reason, merged, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  });
  const s = () => (p ??= prepare());
  let ph: ReturnType<typeof preparePhone> | undefined;
  const preparePhone = () => ({
    count: db.prepare(`SELECT COUNT(*) FROM phone_messages WHERE number = ? AND channel = ? AND sent_at > ?`).pluck(),
    sameAlert: db.prepare(`SELECT COUNT(*) FROM phone_messages WHERE number = ? AND channel = ? AND alert_id = ? AND sent_at > ?`).pluck(),
    insert: db.prepare(
      `INSERT INTO phone_messages (outbox_id, alert_id, channel, provider, number, ref, status, detail, sent_at, next_poll_at, done_at, context)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    pending: db.prepare(
      `SELECT id, outbox_id, alert_id, channel, provider, number, ref, sent_at, context FROM phone_messages WHERE status = 'accepted' AND next_poll_at <= ? ORDER BY id LIMIT ?`,
    ),
    final: db.prepare(`UPDATE phone_messages SET status = ?, detail = ?, done_at = ?, next_poll_at = NULL WHERE id = ? AND status = 'accepted'`),
    later: db.prepare(`UPDATE phone_messages SET next_poll_at = ? WHERE id = ?`),
    link: db.prepare('INSERT INTO contact_links (code, alert_id, purpose, who, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
    getLink: db.prepare('SELECT code, alert_id, purpose, who, expires_at, used_at, answer FROM contact_links WHERE code = ?'),
    useLink: db.prepare('UPDATE contact_links SET used_at = ?, answer = ? WHERE code = ? AND used_at IS NULL'),
    // A page already texted to this contact about this elder, still unanswered, for an alert still open.
    openAsk: db
      .prepare(
        `SELECT l.alert_id FROM contact_links l JOIN alerts a ON a.id = l.alert_id
         WHERE l.purpose = 'ask' AND l.who = ? AND l.used_at IS NULL AND l.expires_at > ? AND a.household_id = ? AND a.status = 'open' LIMIT 1`,
      )
      .pluck(),
  });
  const phs = () => (ph ??= preparePhone());
  let ack: { used: Statement; use: Statement } | undefined;
  const acks = () =>
    (ack ??= {
      used: db.prepare('SELECT 1 FROM ack_tokens_used WHERE jti = ?'),
      use: db.prepare('INSERT INTO ack_tokens_used (jti, used_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING'),
    });
  return {
    outbox: {
      enqueue: (e) => Number(s().insert.run(e.alertId, e.destination, e.notice, e.dueAt, e.createdAt).lastInsertRowid),
      due: (q) =>
        (q.destinations === 'chat'
          ? (s().dueChat.all(q.appNow, q.wallNow, q.perDestination, q.limit) as OutboxDbRow[])
          : (s().duePhone.all(q.appNow, q.wallNow, q.limit) as OutboxDbRow[])
        ).map(outboxRow),
      nextPerDestination: () => s().next.all() as Array<{ destination: string; at: number }>,
      sent: (id, at) => void s().sent.run(at, id),
      retry: (id, nextTryAt, error) => void s().retry.run(nextTryAt, error, id),
      failed: (id, error) => void s().failed.run(error, id),
      recordAttempt: (a) =>
        void s().attempt.run(JSON.stringify(a.alertIds), JSON.stringify(a.outboxIds), a.destination, a.channel, a.ok ? 1 : 0, a.reason, a.merged, a.at),
      prune: async (before) =>
        db
          .prepare(
            `DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?
               AND (alert_id IS NULL OR alert_id IN (SELECT id FROM alerts WHERE status = 'resolved'))`,
          )
          .run(before).changes,
    },
    phone: {
      add: (m) =>
        void phs().insert.run(m.outboxId, m.alertId, m.channel, m.provider, m.number, m.ref, m.status, m.detail, m.sentAt, m.nextPollAt, m.doneAt, m.context),
      countSince: (q) =>
        (q.alertId === undefined ? phs().count.get(q.number, q.channel, q.since) : phs().sameAlert.get(q.number, q.channel, q.alertId, q.since)) as number,
      awaitingReceipt: (at, limit) =>
        (
          phs().pending.all(at, limit) as Array<{
            id: number;
            outbox_id: number;
            alert_id: number | null;
            channel: string;
            provider: string;
            number: string;
            ref: string | null;
            sent_at: number;
            context: string;
          }>
        ).map(
          (r): PhoneMessage => ({
            id: r.id,
            outboxId: r.outbox_id,
            alertId: r.alert_id,
            channel: r.channel,
            provider: r.provider,
            number: r.number,
            ref: r.ref,
            sentAt: r.sent_at,
            context: r.context,
          }),
        ),
      finish: (id, status, detail, at) => phs().final.run(status, detail, at, id).changes > 0,
      pollLater: (id, at) => void phs().later.run(at, id),
      addLink: (l) => void phs().link.run(l.code, l.alertId, l.purpose, l.who, l.createdAt, l.expiresAt),
      link: (code) => {
        const r = phs().getLink.get(code) as
          | { code: string; alert_id: number; purpose: 'ask' | 'ack'; who: string; expires_at: number; used_at: number | null; answer: string | null }
          | undefined;
        return (
          r &&
          ({ code: r.code, alertId: r.alert_id, purpose: r.purpose, who: r.who, expiresAt: r.expires_at, usedAt: r.used_at, answer: r.answer } satisfies ContactLink)
        );
      },
      useLink: (code, at, answer) => phs().useLink.run(at, answer, code).changes > 0,
      openAsk: (who, now, householdId) => phs().openAsk.get(who, now, householdId) as number | undefined,
    },
    ackTokens: {
      used: (jti) => !!acks().used.get(jti),
      use: (jti, at) => acks().use.run(jti, at).changes > 0,
    },
  };
}
