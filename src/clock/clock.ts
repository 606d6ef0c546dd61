// Time is injected. `wall` is live operation; `event` lets message timestamps (and POST /api/replay/clock)
// drive time, so a recorded or simulated day replays in seconds with the same timers.
export interface Clock {
  readonly mode: 'wall' | 'event';
  /** Current time, epoch milliseconds. */
  now(): number;
  /** Event clock: move time forward to `t` (never backwards). Wall clock: ignored. */
  observe(t: number): void;
  /** Event clock: put time back to `t`, a time it showed before a transaction that then rolled back (what
   *  that transaction observed never happened). Wall clock: ignored. */
  restore(t: number): void;
}

export class WallClock implements Clock {
  readonly mode = 'wall' as const;
  now(): number {
    return Date.now();
  }
  observe(): void {}
  restore(): void {}
}

export class EventClock implements Clock {
  readonly mode = 'event' as const;
  private current: number;
  constructor(start = 0) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  observe(t: number): void {
    if (t > this.current) this.current = t;
  }
  restore(t: number): void {
    this.current = t;
  }
}

export function createClock(mode: 'wall' | 'event'): Clock {
  return mode === 'event' ? new EventClock() : new WallClock();
}
