// One deadline scheduler for every timer-based rule (DESIGN.md "Time is injected"): a binary min-heap keyed by
// due time plus a key → due map. A million watched meters cost one heap slot and one map entry each, and no
// CPU until the earliest one is due: wall mode keeps a single unref'd setTimeout for the earliest deadline,
// event mode fires when the event clock advances (after each batch, and on POST /api/replay/clock).
//
// Cancel and reschedule are lazy: the map holds the one live due time per key and a heap entry whose due no
// longer matches the map is skipped when it surfaces; the heap is rebuilt when stale entries dominate.
//
// Persistence: `set`/`cancel` write the `deadlines` table at once, so a caller inside a transaction (the
// ingest batch, a deadline firing) commits the deadline with the rule state that set it. A firing handler
// calls `claim(key, due)` inside its own transaction: the row is deleted there, so a deadline is handled
// exactly once — a crash before that commit leaves the row, and the deadline fires again at the next start.
import type { DeadlinesRepo } from '../store/store.js';
import type { Clock } from './clock.js';

/** setTimeout's delay is a signed 32-bit millisecond count; longer delays fire at once (Node: TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Deadline {
  key: string;
  due: number;
}

/** A binary min-heap of (due, key) as two parallel arrays: no object per entry. */
export class DeadlineHeap {
  private dues: number[] = [];
  private keys: string[] = [];

  get size(): number {
    return this.dues.length;
  }

  push(key: string, due: number): void {
    const { dues, keys } = this;
    let i = dues.length;
    dues.push(due);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (dues[parent] <= due) break;
      dues[i] = dues[parent];
      keys[i] = keys[parent];
      i = parent;
    }
    dues[i] = due;
    keys[i] = key;
  }

  peekDue(): number | undefined {
    return this.dues[0];
  }

  peekKey(): string | undefined {
    return this.keys[0];
  }

  pop(): Deadline | undefined {
    const { dues, keys } = this;
    if (dues.length === 0) return undefined;
    const top = { key: keys[0], due: dues[0] };
    const lastDue = dues.pop()!;
    const lastKey = keys.pop()!;
    const n = dues.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && dues[r] < dues[l] ? r : l;
        if (dues[c] >= lastDue) break;
        dues[i] = dues[c];
        keys[i] = keys[c];
        i = c;
      }
      dues[i] = lastDue;
      keys[i] = lastKey;
    }
    return top;
  }

  clear(): void {
    this.dues = [];
    this.keys = [];
  }
}

/** The store's deadlines (src/store/store.ts); absent in pure in-memory use (unit tests, the bench). */
export type DeadlineStore = DeadlinesRepo;

export interface SchedulerDeps {
  clock: Clock;
  store?: DeadlineStore;
  /** Called with due deadlines, oldest first, in chunks; runs outside any transaction. */
  onDue(due: Deadline[]): void;
  /** Reports a failing onDue (the deadlines stay claimed-or-not as the handler's transaction decided). */
  onError?(err: unknown): void;
  /** Most deadlines handed to one onDue call (one transaction). */
  chunk?: number;
}

export class Scheduler {
  private readonly heap = new DeadlineHeap();
  private readonly live = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  private running = false;
  private firing = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Load persisted deadlines; in wall mode arm the timer (deadlines that passed while down fire at once). */
  start(): void {
    this.reload();
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.disarm();
  }

  get up(): boolean {
    return this.running;
  }

  get size(): number {
    return this.live.size;
  }

  /** Heap slots including stale ones (for the bench and tests). */
  get heapSize(): number {
    return this.heap.size;
  }

  /** Forget memory and read the table again (after a rolled-back transaction). */
  reload(): void {
    this.heap.clear();
    this.live.clear();
    for (const d of this.deps.store?.all() ?? []) this.put(d.key, d.due);
    if (this.running) {
      this.disarm();
      this.arm();
    }
  }

  get(key: string): number | undefined {
    return this.live.get(key);
  }

  /** Set or move `key`'s deadline. Persisted at once: call inside the transaction that decided it. */
  set(key: string, due: number): void {
    if (!Number.isFinite(due)) throw new RangeError(`deadline for ${key} is not a time: ${due}`);
    if (this.live.get(key) === due) return;
    this.put(key, due);
    this.deps.store?.upsert(key, due);
    if (due < this.armedFor) this.arm();
  }

  cancel(key: string): void {
    if (!this.live.delete(key)) return;
    this.deps.store?.delete(key);
    this.compactIfStale();
  }

  /** Inside the firing transaction: delete the row; false if it is gone or moved (someone else handled it). */
  claim(d: Deadline): boolean {
    return this.deps.store ? this.deps.store.claim(d.key, d.due) : true;
  }

  /** Fire every deadline due at or before `now` (default: the clock). Returns how many were handed out. */
  advance(now = this.deps.clock.now(), limit = Infinity): number {
    if (this.firing) return 0; // a handler advancing the clock re-enters; the outer loop picks the rest up
    this.firing = true;
    let fired = 0;
    const chunk = this.deps.chunk ?? 500;
    try {
      // Chunk by chunk until nothing is due; a handler may set deadlines that are already due, and those go
      // out in a later chunk of the same advance.
      for (;;) {
        const batch: Deadline[] = [];
        while (batch.length < chunk && fired + batch.length < limit) {
          const due = this.heap.peekDue();
          if (due === undefined || due > now) break;
          const d = this.heap.pop()!;
          if (this.live.get(d.key) !== d.due) continue; // cancelled or moved: a stale heap entry
          this.live.delete(d.key);
          batch.push(d);
        }
        if (!batch.length) break;
        fired += this.hand(batch);
      }
    } finally {
      this.firing = false;
    }
    this.compactIfStale();
    this.arm();
    return fired;
  }

  private hand(batch: Deadline[]): number {
    try {
      this.deps.onDue(batch);
    } catch (err) {
      this.deps.onError?.(err);
    }
    return batch.length;
  }

  private put(key: string, due: number): void {
    this.live.set(key, due);
    this.heap.push(key, due);
  }

  /** Drop stale heap entries once they outnumber the live ones (keeps memory at O(live)). */
  private compactIfStale(): void {
    if (this.heap.size < 1024 || this.heap.size < 2 * this.live.size) return;
    this.heap.clear();
    for (const [key, due] of this.live) this.heap.push(key, due);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  /** Wall mode: one timer for the earliest deadline. Event mode: nothing — the clock's advance fires. */
  private arm(): void {
    if (!this.running || this.deps.clock.mode !== 'wall') return;
    const due = this.heap.peekDue();
    if (due === undefined) return this.disarm();
    if (this.timer && due >= this.armedFor) return;
    this.disarm();
    const delay = Math.min(Math.max(due - this.deps.clock.now(), 0), MAX_TIMER_MS);
    this.armedFor = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = Infinity;
      // Far deadlines wake up early (MAX_TIMER_MS) and simply re-arm; a big backlog (say every device offline
      // after an outage) is handled a chunk per timer turn so the event loop keeps breathing.
      this.advance(this.deps.clock.now(), 5000);
    }, delay);
    this.timer.unref();
  }
}
