// Each stateful rule's state per subject, as JSON, written in the transaction that changed it. The most
// recently used states are also kept in memory (a reading's rules find their state without a query and a
// JSON parse); the engine forgets them all if a transaction rolls back, so memory is never ahead of the store.
// Rules are pure and never change a state object they were given, so a cached object can be handed out as is.
import type { Db } from '../store/db.js';

export class RuleStates {
  private readonly s;
  private readonly cache = new Map<string, unknown>();

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
    const json = this.s.get.get(rule, subject) as string | undefined;
    const state = json === undefined ? undefined : (JSON.parse(json) as S);
    this.remember(key, state);
    return state;
  }

  put(rule: string, subject: string, state: unknown, now: number): void {
    if (state === null) this.s.del.run(rule, subject);
    else this.s.put.run(rule, subject, JSON.stringify(state), now);
    this.remember(`${rule}\u0000${subject}`, state ?? undefined);
  }

  /** Drop what memory holds (after a rolled-back transaction). */
  forget(): void {
    this.cache.clear();
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
