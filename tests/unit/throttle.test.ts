// The failure throttle on its own, on a clock of the test's: free tries, a doubling wait up to its cap, a ban,
// forgetting, taking a success back, and a bounded memory.
import { describe, it, expect } from 'vitest';
import { Throttle } from '../../src/throttle.js';

const SEC = 1000;

describe('Throttle', () => {
  it('lets `free` attempts through, then doubles the wait up to its cap', () => {
    let now = 0;
    const t = new Throttle({ free: 3, baseMs: SEC, capMs: 8 * SEC, forgetMs: 60 * SEC }, { now: () => now });
    expect([t.attempt('a'), t.attempt('a')]).toEqual([0, 0]);
    expect(t.attempt('a')).toBe(SEC); // the third is let through, the next waits
    expect(t.wait('a')).toBe(SEC);
    expect(t.wait('b')).toBe(0); // keys are independent
    const waits = [];
    for (let i = 0; i < 5; i++) {
      now += t.wait('a');
      waits.push(t.attempt('a'));
    }
    expect(waits).toEqual([2 * SEC, 4 * SEC, 8 * SEC, 8 * SEC, 8 * SEC]);
    expect(t.blocked()).toBe(1);
  });

  it('bans for banMs from banAfter attempts on, then forgets a key that went quiet', () => {
    let now = 0;
    const t = new Throttle({ free: 2, baseMs: 10, capMs: 100, banAfter: 5, banMs: 60 * SEC, forgetMs: 10 * SEC }, { now: () => now });
    for (let i = 0; i < 4; i++) {
      now += t.wait('dev');
      t.attempt('dev');
    }
    expect(t.banned('dev')).toBe(false);
    now += t.wait('dev');
    expect(t.attempt('dev')).toBe(60 * SEC);
    expect(t.banned('dev')).toBe(true);
    now += 59 * SEC;
    expect(t.wait('dev')).toBe(SEC);
    now += SEC + 10 * SEC + 1;
    expect(t.wait('dev')).toBe(0);
    expect(t.attempt('dev')).toBe(0); // a fresh start
  });

  it('takes a success back: reset forgets the key, undo only its own count', () => {
    const t = new Throttle({ free: 2, baseMs: SEC, capMs: 10 * SEC, forgetMs: 60 * SEC }, { now: () => 0 });
    t.attempt('ip');
    t.attempt('ip');
    expect(t.wait('ip')).toBe(SEC);
    t.succeed('ip', 'undo');
    expect(t.wait('ip')).toBe(0); // one failure left, under `free`
    t.attempt('ip');
    t.succeed('ip', 'reset');
    expect(t.size).toBe(0);
  });

  it('keeps at most maxKeys keys, dropping the least recently failing first', () => {
    let now = 0;
    const t = new Throttle({ free: 1, baseMs: SEC, capMs: SEC, forgetMs: 60 * SEC }, { now: () => now, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) {
      now++;
      t.attempt(`k${i}`);
    }
    expect(t.size).toBeLessThanOrEqual(100);
    expect(t.wait('k999')).toBeGreaterThan(0); // the newest is still held
  });
});
