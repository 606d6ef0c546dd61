// Each stateful rule's state per subject, as JSON, written in the transaction that changed it — once per
// subject per transaction (write-behind: `put` marks it dirty, `flush` at the end of the transaction writes it),
// because a water meter's rules change their state on every reading and a row write per reading was the
// largest cost of the hot path. The most
// recently used states are also kept in memory (a reading's rules find their state without a query and a
// JSON parse); the engine forgets them all if a transaction rolls back, so memory is never ahead of the store.
// Rules are pure and never change a state object they were given, so a cached object can be handed out as is.
import type { Db } from '../store/db.js';

export class RuleStates {
  private readonly s;
  private readonly cache = new Map<string, unknown>();
  /** Changed in the current transaction, not yet written: key → [rule, subject, state (null = delete), now]. */
  private readonly dirty = new Map<string, [string, string, unknown, number]>();
  /** Undo log since the last mark(): key, the dirty entry and the cached state before the put. */
  private journal: Array<[string, [string, string, unknown, number] | undefined, unknown, boolean]> = [];

  constructor(
    db: Db,
    private readonly cacheMax = 200_000,
  ) {
    this.s = {
      get: db.prepare('SELECT state FROM rule_state WHERE rule = ? AND subject = ?').pluck(),
      put: db.prepare(
        'INSERT INTO rule_state (rule, subject, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(rule, subject) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      ),
      del: db.prepare('DELETE FROM rule_state WHERE rule = ? AND subject = ?'),
      all: db.prepare('SELECT subject, state FROM rule_state WHERE rule = ?'),
      newest: db.prepare('SELECT MAX(updated_at) FROM rule_state').pluck(),
    };
  }

  get<S>(rule: string, subject: string): S | undefined {
    const key = `${rule}\u0000${subject}`;
    if (this.cache.has(key)) return this.cache.get(key) as S | undefined;
    const pending = this.dirty.get(key);
    if (pending) return (pending[2] ?? undefined) as S | undefined;
    const json = this.s.get.get(rule, subject) as string | undefined;
    const state = json === undefined ? undefined : (JSON.parse(json) as S);
    this.remember(key, state);
    return state;
  }

  put(rule: string, subject: string, state: unknown, now: number): void {
    const key = `${rule}\u0000${subject}`;
    this.journal.push([key, this.dirty.get(key), this.cache.get(key), this.cache.has(key)]);
    this.dirty.set(key, [rule, subject, state, now]);
    this.remember(key, state ?? undefined);
  }

  /** Start of a unit that may be undone alone (one reading's or one deadline's rule work, a savepoint). */
  mark(): void {
    this.journal = [];
  }

  /** That unit's savepoint rolled back: put back what it changed, newest first. */
  undo(): void {
    for (let i = this.journal.length - 1; i >= 0; i--) {
      const [key, dirty, cached, wasCached] = this.journal[i];
      if (dirty) this.dirty.set(key, dirty);
      else this.dirty.delete(key);
      if (wasCached) this.cache.set(key, cached);
      else this.cache.delete(key);
    }
    this.journal = [];
  }

  /** Write every changed state; call at the end of the transaction that changed them. */
  flush(): void {
    for (const [rule, subject, state, now] of this.dirty.values()) {
      if (state === null || state === undefined) this.s.del.run(rule, subject);
      else this.s.put.run(rule, subject, JSON.stringify(state), now);
    }
    this.dirty.clear();
    this.journal = [];
  }

  /** Drop what memory holds (after a rolled-back transaction). */
  forget(): void {
    this.cache.clear();
    this.dirty.clear();
    this.journal = [];
  }

  private remember(key: string, state: unknown): void {
    this.cache.delete(key); // re-insert: Map order is the eviction order, oldest use first
    this.cache.set(key, state);
    if (this.cache.size > this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
  }

  all<S>(rule: string): Array<{ subject: string; state: S }> {
    return (this.s.all.all(rule) as Array<{ subject: string; state: string }>).map((r) => ({ subject: r.subject, state: JSON.parse(r.state) as S }));
  }

  /** The latest time any rule state was written (restores the event clock after a restart). */
  newest(): number | null {
    return this.s.newest.get() as number | null;
  }
}
