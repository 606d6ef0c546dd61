// Each stateful rule's state per subject, as JSON, written in the transaction that changed it — once per
// subject per transaction (write-behind: `put` marks it dirty, `flush` at the end of the transaction writes it),
// because a water meter's rules change their state on every reading and a row write per reading was the
// largest cost of the hot path. The most
// recently used states are also kept in memory (a reading's rules find their state without a query and a
// JSON parse); the engine forgets them all if a transaction rolls back, so memory is never ahead of the store.
// Rules are pure and never change a state object they were given, so a cached object can be handed out as is.
import type { RuleStateRepo } from '../store/store.js';

/** One rule's subject in memory: its state (undefined = none) and, when changed in the current transaction, the time. */
interface Entry {
  state: unknown;
  /** Changed in the current transaction and not yet written (null/undefined state = delete the row). */
  dirty: boolean;
  now: number;
}

export class RuleStates {
  /** rule → subject → entry, most recently put last in each map (a map per rule: no key string per lookup). */
  private readonly cache = new Map<string, Map<string, Entry>>();
  private size = 0;
  /** Changed in the current transaction, not yet written, in the order of their first change. */
  private dirty: Array<[string, string, Entry]> = [];
  /** Undo log since the last mark(): the rule's map, the subject, and the entry (or its absence) before the put. */
  private journal: Array<[Map<string, Entry>, string, Entry | undefined]> = [];

  constructor(
    private readonly repo: RuleStateRepo,
    private readonly cacheMax = 200_000,
  ) {}

  private mapOf(rule: string): Map<string, Entry> {
    let m = this.cache.get(rule);
    if (!m) this.cache.set(rule, (m = new Map()));
    return m;
  }

  get<S>(rule: string, subject: string): S | undefined {
    const m = this.mapOf(rule);
    const e = m.get(subject);
    if (e) return (e.state ?? undefined) as S | undefined;
    const state = this.repo.get(rule, subject) as S | undefined;
    this.add(m, subject, { state, dirty: false, now: 0 });
    return state;
  }

  put(rule: string, subject: string, state: unknown, now: number): void {
    const m = this.mapOf(rule);
    const before = m.get(subject);
    this.journal.push([m, subject, before && { ...before }]);
    if (before && before.dirty) {
      // Changed again in this transaction: the same dirty entry, newest state (its place in the write order kept).
      before.state = state;
      before.now = now;
      return;
    }
    const e: Entry = { state, dirty: true, now };
    if (before) m.delete(subject);
    else this.size++;
    m.set(subject, e);
    this.dirty.push([rule, subject, e]);
    this.evict(m);
  }

  /** Start of a unit that may be undone alone (one reading's or one deadline's rule work, a savepoint). */
  mark(): void {
    this.journal.length = 0;
  }

  /** That unit's savepoint rolled back: put back what it changed, newest first. */
  undo(): void {
    for (let i = this.journal.length - 1; i >= 0; i--) {
      const [m, subject, before] = this.journal[i];
      const cur = m.get(subject);
      if (before) {
        if (cur) Object.assign(cur, before);
        else {
          m.set(subject, before);
          this.size++;
        }
      } else if (cur) {
        m.delete(subject);
        this.size--;
      }
    }
    // Entries no longer dirty (or gone) leave the write list.
    this.dirty = this.dirty.filter(([rule, subject, e]) => e.dirty && this.cache.get(rule)?.get(subject) === e);
    this.journal.length = 0;
  }

  /** Write every changed state; call at the end of the transaction that changed them. */
  flush(): void {
    for (const [rule, subject, e] of this.dirty) {
      if (!e.dirty) continue;
      if (e.state === null || e.state === undefined) this.repo.delete(rule, subject);
      else this.repo.put(rule, subject, e.state, e.now);
      e.dirty = false;
    }
    this.dirty = [];
    this.journal.length = 0;
  }

  /** Drop what memory holds (after a rolled-back transaction). */
  forget(): void {
    this.cache.clear();
    this.size = 0;
    this.dirty = [];
    this.journal.length = 0;
  }

  private add(m: Map<string, Entry>, subject: string, e: Entry): void {
    m.set(subject, e);
    this.size++;
    this.evict(m);
  }

  /** Over the limit: the rule's oldest clean entries go (what is dirty must stay until it is written). */
  private evict(m: Map<string, Entry>): void {
    if (this.size <= this.cacheMax) return;
    for (const [subject, e] of m) {
      if (this.size <= this.cacheMax) break;
      if (e.dirty) continue;
      m.delete(subject);
      this.size--;
    }
  }

  all<S>(rule: string): Array<{ subject: string; state: S }> {
    return this.repo.all(rule) as Array<{ subject: string; state: S }>;
  }

  /** The latest time any rule state was written (restores the event clock after a restart). */
  newest(): number | null {
    return this.repo.newest() ?? null;
  }
}
