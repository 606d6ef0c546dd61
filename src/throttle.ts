// Failure throttles (issue 12): whoever keeps failing to authenticate — a console sign-in, a bearer token, a
// device's MQTT password — is slowed with an exponential backoff and then refused for a while; whoever stops
// failing is forgotten. One class for every surface; the policies are below each user.
//
// Race-free by construction: an attempt is *counted before* its outcome is known (`attempt`), so a burst of
// concurrent tries cannot all slip through while the first ones are still being checked; a success then takes
// its own count back (`succeed`). Memory is bounded: keys are dropped after `forgetMs` of quiet, and past
// `maxKeys` the oldest are dropped first (which only relaxes the limit).

export interface ThrottlePolicy {
  /** Attempts allowed before any wait. */
  free: number;
  /** The first wait once `free` is used up; it doubles with every further attempt… */
  baseMs: number;
  /** …up to this. */
  capMs: number;
  /** From this many attempts on, the key is refused outright for `banMs` (a ban), however long it waited. */
  banAfter?: number;
  banMs?: number;
  /** A key with no attempt for this long starts afresh. */
  forgetMs: number;
}

interface Entry {
  count: number;
  last: number;
  /** Refused until then. */
  until: number;
  banned: boolean;
}

export class Throttle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly policy: ThrottlePolicy,
    private readonly opts: { now?: () => number; maxKeys?: number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private entry(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.last > this.policy.forgetMs && now >= e.until) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Milliseconds before `key` may try again; 0 = now. */
  wait(key: string): number {
    const now = this.now();
    const e = this.entry(key, now);
    return e ? Math.max(0, e.until - now) : 0;
  }

  /** Is `key` banned (not merely waiting)? */
  banned(key: string): boolean {
    const now = this.now();
    const e = this.entry(key, now);
    return !!e && e.banned && e.until > now;
  }

  /** Count an attempt now, before its outcome; answers the wait it earns the next one. */
  attempt(key: string): number {
    const now = this.now();
    let e = this.entry(key, now);
    if (!e) {
      const max = this.opts.maxKeys ?? 10_000;
      if (this.entries.size >= max) this.evict(now, max);
      e = { count: 0, last: now, until: 0, banned: false };
      this.entries.set(key, e);
    } else {
      // Re-insert: Map order is then least-recently-failed first, which is what eviction drops.
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    e.count++;
    e.last = now;
    const p = this.policy;
    if (p.banAfter !== undefined && e.count >= p.banAfter) {
      e.banned = true;
      e.until = now + (p.banMs ?? p.capMs);
    } else if (e.count >= p.free) {
      e.until = now + Math.min(p.capMs, p.baseMs * 2 ** Math.min(30, e.count - p.free));
    }
    return Math.max(0, e.until - now);
  }

  /** The attempt succeeded: `reset` forgets the key; `undo` only takes this attempt's count back. */
  succeed(key: string, mode: 'reset' | 'undo'): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (mode === 'reset' || e.count <= 1) {
      this.entries.delete(key);
      return;
    }
    e.count--;
    // Taking an attempt back never leaves a wait the remaining count would not have earned.
    if (!e.banned && e.count < this.policy.free) e.until = 0;
  }

  /** Keys refused right now (waiting or banned), for a gauge. */
  blocked(): number {
    const now = this.now();
    let n = 0;
    for (const e of this.entries.values()) if (e.until > now) n++;
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number, max: number): void {
    for (const [k, e] of this.entries) if (now - e.last > this.policy.forgetMs && now >= e.until) this.entries.delete(k);
    // Still full: drop the least recently failing tenth.
    if (this.entries.size >= max) {
      let drop = Math.ceil(max / 10);
      for (const k of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(k);
      }
    }
  }
}
