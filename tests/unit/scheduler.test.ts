import { describe, it, expect, vi, afterEach } from 'vitest';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { DeadlineHeap, Scheduler, MAX_TIMER_MS, type Deadline } from '../../src/clock/scheduler.js';
import { EventClock, WallClock } from '../../src/clock/clock.js';
import { openDb } from '../../src/store/db.js';
import { tempDir } from '../helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  vi.useRealTimers();
  dirs.splice(0).forEach((d) => d.remove());
});

function eventScheduler(start = 0) {
  const clock = new EventClock(start);
  const fired: Deadline[] = [];
  const s = new Scheduler({ clock, onDue: (due) => fired.push(...due) });
  s.start();
  return { clock, fired, s };
}

describe('DeadlineHeap', () => {
  it('pops in due order whatever the push order', () => {
    const h = new DeadlineHeap();
    const dues = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009);
    dues.forEach((d, i) => h.push(`k${i}`, d));
    const out: number[] = [];
    for (let d = h.pop(); d; d = h.pop()) out.push(d.due);
    expect(out).toEqual([...dues].sort((a, b) => a - b));
  });
});

describe('Scheduler on the event clock', () => {
  it('fires what is due when the clock advances, oldest first, and nothing before', () => {
    const { clock, fired, s } = eventScheduler(1000);
    s.set('b', 3000);
    s.set('a', 2000);
    s.set('c', 9000);
    expect(s.advance()).toBe(0);
    clock.observe(3500);
    expect(s.advance()).toBe(2);
    expect(fired.map((d) => d.key)).toEqual(['a', 'b']);
    expect(s.size).toBe(1);
  });

  it('cancels and reschedules by key (lazily: the old heap entry is skipped)', () => {
    const { clock, fired, s } = eventScheduler();
    s.set('x', 100);
    s.set('y', 100);
    s.cancel('y');
    s.set('x', 500); // moved later
    clock.observe(200);
    s.advance();
    expect(fired).toEqual([]);
    s.set('x', 150); // moved earlier again
    s.advance();
    expect(fired).toEqual([{ key: 'x', due: 150 }]);
    clock.observe(1000);
    s.advance();
    expect(fired).toHaveLength(1); // the stale 100 and 500 entries never fire
  });

  it('keeps the heap at the size of the live deadlines however often they move', () => {
    const { s } = eventScheduler();
    for (let round = 0; round < 50; round++) for (let k = 0; k < 200; k++) s.set(`m${k}`, 10_000 + round * 10 + k);
    for (let k = 0; k < 200; k++) s.cancel(`m${k}`);
    for (let k = 0; k < 300; k++) s.set(`n${k}`, 1e6 + k);
    expect(s.size).toBe(300);
    expect(s.heapSize).toBeLessThan(2 * 1024 + 2 * 300);
  });

  it('fires a deadline set by a handler within the same advance when it is already due', () => {
    const clock = new EventClock(0);
    const seen: string[] = [];
    const s: Scheduler = new Scheduler({
      clock,
      onDue: (due) => due.forEach((d) => (seen.push(d.key), d.key === 'first' && s.set('second', 50))),
    });
    s.start();
    s.set('first', 10);
    clock.observe(100);
    s.advance();
    expect(seen).toEqual(['first', 'second']);
  });

  it('survives a failing handler and reports it', () => {
    const clock = new EventClock(0);
    const errors: unknown[] = [];
    const s = new Scheduler({ clock, onDue: () => { throw new Error('boom'); }, onError: (e) => errors.push(e) });
    s.start();
    s.set('a', 1);
    clock.observe(5);
    expect(s.advance()).toBe(1);
    expect(errors).toHaveLength(1);
    expect(s.size).toBe(0);
  });
});

describe('Scheduler on the wall clock', () => {
  it('keeps one unref\'d timer for the earliest deadline and re-arms when an earlier one comes', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const fired: string[] = [];
    const s = new Scheduler({ clock: new WallClock(), onDue: (d) => fired.push(...d.map((x) => x.key)) });
    s.start();
    s.set('late', 1_000_000 + 60_000);
    expect(vi.getTimerCount()).toBe(1);
    s.set('early', 1_000_000 + 1_000);
    s.set('later', 1_000_000 + 120_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(['early']);
    vi.advanceTimersByTime(59_000);
    expect(fired).toEqual(['early', 'late']);
    s.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('guards against setTimeout\'s 2^31 ms limit: a deadline 40 days away waits, then fires', () => {
    vi.useFakeTimers({ now: 0 });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const fired: string[] = [];
    const s = new Scheduler({ clock: new WallClock(), onDue: (d) => fired.push(...d.map((x) => x.key)) });
    s.start();
    const due = 40 * 24 * 3_600_000;
    s.set('far', due);
    expect(spy.mock.calls.at(-1)![1]).toBe(MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(due - MAX_TIMER_MS);
    expect(fired).toEqual(['far']);
    s.stop();
  });

  it('costs no timer at all when nothing is scheduled', () => {
    vi.useFakeTimers();
    const s = new Scheduler({ clock: new WallClock(), onDue: () => undefined });
    s.start();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Scheduler persistence', () => {
  function db() {
    const d = tempDir('shaobing-sched-');
    dirs.push(d);
    return openDb({ dataDir: d.path, synchronous: 'normal' });
  }

  it('brings deadlines back after a restart and fires a passed one once, at start', () => {
    const store = db();
    const first = new Scheduler({ clock: new EventClock(0), store: sqliteStore(store).deadlines, onDue: () => undefined });
    first.start();
    first.set('no_water_use:wm-1', 5_000);
    first.set('device_offline:wm-1', 1e12);
    first.cancel('device_offline:wm-1');
    first.stop();

    vi.useFakeTimers({ now: 10_000 }); // the service was down past the deadline
    const handled: Deadline[] = [];
    const store2 = sqliteStore(store).deadlines;
    const second: Scheduler = new Scheduler({
      clock: new WallClock(),
      store: store2,
      // The firing handler claims each deadline inside its own transaction, as the rule engine does.
      onDue: (due) => store.transaction(() => due.forEach((d) => second.claim(d) && handled.push(d)))(),
    });
    second.start();
    expect(second.get('no_water_use:wm-1')).toBe(5_000);
    expect(second.get('device_offline:wm-1')).toBeUndefined();
    vi.advanceTimersByTime(0);
    expect(handled).toEqual([{ key: 'no_water_use:wm-1', due: 5_000 }]);
    second.reload();
    vi.advanceTimersByTime(1_000);
    expect(handled).toHaveLength(1); // claimed: gone from the table, not fired again
    expect(store.prepare('SELECT COUNT(*) FROM deadlines').pluck().get()).toBe(0);
    second.stop();
    store.close();
  });

  it('claims a deadline only while the table still holds it at that time', () => {
    const store = db();
    const s = new Scheduler({ clock: new EventClock(0), store: sqliteStore(store).deadlines, onDue: () => undefined });
    s.start();
    s.set('k', 100);
    s.set('k', 200);
    expect(s.claim({ key: 'k', due: 100 })).toBe(false);
    expect(s.claim({ key: 'k', due: 200 })).toBe(true);
    expect(s.claim({ key: 'k', due: 200 })).toBe(false);
    store.close();
  });
});
