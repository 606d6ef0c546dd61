// Notification tables in PostgreSQL. Working set: pending outbox rows (the deliverer picks from them), texts
// and calls with their receipts (per-number limits count them), one-tap pages and used acknowledgement links.
// Attempts are only written; pruning is a query.
import type pg from 'pg';
import type { AckTokensRepo, ContactLink, OutboxRepo, OutboxRow, PhoneMessage, PhoneRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, Json, lit, MemMap } from './unit.js';

/** A pending row, and the unit that queued it: a row is due only once that unit has committed. */
type Pending = OutboxRow & { nextTryAt: number; unit: number };
type Phone = PhoneMessage & { status: string; nextPollAt: number | null };

const isPhone = (destination: string) => destination.startsWith('phone:');

export function pgNotify(
  x: PgContext,
  alertOf: (id: number) => { householdId: string | null; status: string } | undefined,
): { repos: { outbox: OutboxRepo; phone: PhoneRepo; ackTokens: AckTokensRepo }; loadable: Loadable } {
  const { unit } = x;
  const pending = new MemMap<number, Pending>(unit);
  const phone = new MemMap<number, Phone>(unit);
  const links = new MemMap<string, ContactLink>(unit);
  const used = new MemMap<string, true>(unit);

  const loadable: Loadable = {
    async load(db: Pick<pg.Pool, 'query'>) {
      const [o, p, l, a] = await Promise.all([
        db.query<{ id: number; alert_id: number | null; destination: string; notice: string; due_at: number; attempts: number; created_at: number; next_try_at: number }>(
          "SELECT id, alert_id, destination, notice, due_at, attempts, created_at, next_try_at FROM outbox WHERE status = 'pending'",
        ),
        db.query<{ id: number; outbox_id: number; alert_id: number | null; channel: string; provider: string; number: string; ref: string | null; sent_at: number; context: string; status: string; next_poll_at: number | null }>(
          'SELECT id, outbox_id, alert_id, channel, provider, number, ref, sent_at, context, status, next_poll_at FROM phone_messages',
        ),
        db.query<{ code: string; alert_id: number; purpose: 'ask' | 'ack'; who: string; expires_at: number; used_at: number | null; answer: string | null }>(
          'SELECT code, alert_id, purpose, who, expires_at, used_at, answer FROM contact_links',
        ),
        db.query<{ jti: string }>('SELECT jti FROM ack_tokens_used'),
      ]);
      pending.clear();
      phone.clear();
      links.clear();
      used.clear();
      for (const r of o.rows)
        pending.load(r.id, { id: r.id, alertId: r.alert_id, destination: r.destination, notice: r.notice, dueAt: r.due_at, attempts: r.attempts, createdAt: r.created_at, nextTryAt: r.next_try_at, unit: 0 });
      for (const r of p.rows)
        phone.load(r.id, {
          id: r.id,
          outboxId: r.outbox_id,
          alertId: r.alert_id,
          channel: r.channel,
          provider: r.provider,
          number: r.number,
          ref: r.ref,
          sentAt: r.sent_at,
          context: r.context,
          status: r.status,
          nextPollAt: r.next_poll_at,
        });
      for (const r of l.rows) links.load(r.code, { code: r.code, alertId: r.alert_id, purpose: r.purpose, who: r.who, expiresAt: r.expires_at, usedAt: r.used_at, answer: r.answer });
      for (const r of a.rows) used.load(r.jti, true);
    },
  };

  const row = (p: Pending): OutboxRow => ({ id: p.id, alertId: p.alertId, destination: p.destination, notice: p.notice, dueAt: p.dueAt, attempts: p.attempts, createdAt: p.createdAt });
  const byDue = (a: Pending, b: Pending) => a.dueAt - b.dueAt || a.id - b.id;
  const message = (m: Phone): PhoneMessage => ({
    id: m.id,
    outboxId: m.outboxId,
    alertId: m.alertId,
    channel: m.channel,
    provider: m.provider,
    number: m.number,
    ref: m.ref,
    sentAt: m.sentAt,
    context: m.context,
  });

  return {
    loadable,
    repos: {
      outbox: {
        enqueue: (e) => {
          const id = x.id();
          const sql = insert('outbox', {
            id,
            alert_id: e.alertId,
            destination: e.destination,
            notice: e.notice,
            due_at: e.dueAt,
            next_try_at: 0,
            attempts: 0,
            status: 'pending',
            created_at: e.createdAt,
          });
          pending.set(id, { id, alertId: e.alertId, destination: e.destination, notice: e.notice, dueAt: e.dueAt, attempts: 0, createdAt: e.createdAt, nextTryAt: 0, unit: unit.building });
          unit.write(sql);
          return id;
        },
        // Only rows whose unit has committed: a notice never goes out for an alert change the server may still refuse.
        due: (q) => {
          const due = [...pending.values()]
            .filter((p) => unit.isCommitted(p.unit))
            .filter((p) => (q.destinations === 'chat' ? !isPhone(p.destination) : p.destination === 'phone:sms' || p.destination === 'phone:call'))
            .filter((p) => p.dueAt <= q.appNow && p.nextTryAt <= q.wallNow)
            .sort(byDue);
          if (q.destinations === 'phone') return due.slice(0, q.limit).map(row);
          // Up to `perDestination` due rows per destination (a paced robot's backlog keeps no other out).
          const taken = new Map<string, number>();
          const out: OutboxRow[] = [];
          for (const p of due) {
            const n = taken.get(p.destination) ?? 0;
            if (n >= q.perDestination) continue;
            taken.set(p.destination, n + 1);
            out.push(row(p));
            if (out.length >= q.limit) break;
          }
          return out;
        },
        nextPerDestination: () => {
          const next = new Map<string, number>();
          for (const p of pending.values()) {
            if (isPhone(p.destination)) continue;
            const at = Math.max(p.dueAt, p.nextTryAt);
            const cur = next.get(p.destination);
            if (cur === undefined || at < cur) next.set(p.destination, at);
          }
          return [...next].map(([destination, at]) => ({ destination, at }));
        },
        sent: (id, at) => {
          pending.delete(id);
          unit.write(`UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ${lit(at)}, last_error = NULL WHERE id = ${lit(id)}`);
        },
        retry: (id, nextTryAt, error) => {
          const sql = `UPDATE outbox SET attempts = attempts + 1, next_try_at = ${lit(nextTryAt)}, last_error = ${lit(error)} WHERE id = ${lit(id)}`;
          const p = pending.get(id);
          if (p) pending.set(id, { ...p, attempts: p.attempts + 1, nextTryAt });
          unit.write(sql);
        },
        failed: (id, error) => {
          const sql = `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ${lit(error)} WHERE id = ${lit(id)}`;
          pending.delete(id);
          unit.write(sql);
        },
        recordAttempt: (a) =>
          unit.write(
            insert('notification_attempts', {
              alert_ids: new Json(a.alertIds),
              outbox_ids: new Json(a.outboxIds),
              destination: a.destination,
              channel: a.channel,
              ok: a.ok,
              reason: a.reason,
              merged: a.merged,
              at: a.at,
            }),
          ),
        prune: (before) =>
          x.exec(
            `DELETE FROM outbox WHERE status = 'sent' AND sent_at < $1
               AND (alert_id IS NULL OR alert_id IN (SELECT id FROM alerts WHERE status = 'resolved'))`,
            [before],
          ),
      },
      phone: {
        add: (m) => {
          const id = x.id();
          const sql = insert('phone_messages', {
            id,
            outbox_id: m.outboxId,
            alert_id: m.alertId,
            channel: m.channel,
            provider: m.provider,
            number: m.number,
            ref: m.ref,
            status: m.status,
            detail: m.detail,
            sent_at: m.sentAt,
            next_poll_at: m.nextPollAt,
            done_at: m.doneAt,
            context: m.context,
          });
          phone.set(id, {
            id,
            outboxId: m.outboxId,
            alertId: m.alertId,
            channel: m.channel,
            provider: m.provider,
            number: m.number,
            ref: m.ref,
            sentAt: m.sentAt,
            context: m.context,
            status: m.status,
            nextPollAt: m.nextPollAt,
          });
          unit.write(sql);
        },
        countSince: (q) => {
          let n = 0;
          for (const m of phone.values())
            if (m.number === q.number && m.channel === q.channel && m.sentAt > q.since && (q.alertId === undefined || m.alertId === q.alertId)) n++;
          return n;
        },
        awaitingReceipt: (at, limit) =>
          [...phone.values()]
            .filter((m) => m.status === 'accepted' && m.nextPollAt !== null && m.nextPollAt <= at)
            .sort((a, b) => a.id - b.id)
            .slice(0, limit)
            .map(message),
        finish: (id, status, detail, at) => {
          const m = phone.get(id);
          if (!m || m.status !== 'accepted') return false;
          const sql = `UPDATE phone_messages SET status = ${lit(status)}, detail = ${lit(detail)}, done_at = ${lit(at)}, next_poll_at = NULL WHERE id = ${lit(id)} AND status = 'accepted'`;
          phone.set(id, { ...m, status, nextPollAt: null });
          unit.write(sql);
          return true;
        },
        pollLater: (id, at) => {
          const m = phone.get(id);
          if (m) phone.set(id, { ...m, nextPollAt: at });
          unit.write(`UPDATE phone_messages SET next_poll_at = ${lit(at)} WHERE id = ${lit(id)}`);
        },
        addLink: (l) => {
          const sql = insert('contact_links', { code: l.code, alert_id: l.alertId, purpose: l.purpose, who: l.who, created_at: l.createdAt, expires_at: l.expiresAt });
          if (links.has(l.code)) throw new Error(`contact link ${l.code} exists already`);
          links.set(l.code, { code: l.code, alertId: l.alertId, purpose: l.purpose, who: l.who, expiresAt: l.expiresAt, usedAt: null, answer: null });
          unit.write(sql);
        },
        link: (code) => {
          const l = links.get(code);
          return l && { ...l };
        },
        useLink: (code, at, answer) => {
          const l = links.get(code);
          if (!l || l.usedAt !== null) return false;
          const sql = `UPDATE contact_links SET used_at = ${lit(at)}, answer = ${lit(answer)} WHERE code = ${lit(code)} AND used_at IS NULL`;
          links.set(code, { ...l, usedAt: at, answer });
          unit.write(sql);
          return true;
        },
        openAsk: (who, now, householdId) => {
          for (const l of links.values()) {
            if (l.purpose !== 'ask' || l.who !== who || l.usedAt !== null || l.expiresAt <= now) continue;
            const a = alertOf(l.alertId);
            if (a && a.householdId === householdId && a.status === 'open') return l.alertId;
          }
          return undefined;
        },
      },
      ackTokens: {
        used: (jti) => used.has(jti),
        use: (jti, at) => {
          if (used.has(jti)) return false;
          const sql = `${insert('ack_tokens_used', { jti, used_at: at })} ON CONFLICT (jti) DO NOTHING`;
          used.set(jti, true);
          unit.write(sql);
          return true;
        },
      },
    },
  };
}
