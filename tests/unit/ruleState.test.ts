// RuleStates (src/alerts/ruleState.ts): write-behind rule state on a real SQLite store — one row write per
// subject per transaction, a savepoint's undo puts memory back, eviction never drops what is not yet written.
import { describe, it, expect, afterEach } from 'vitest';
import { RuleStates } from '../../src/alerts/ruleState.js';
import { openDb } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  while (dirs.length) dirs.pop()!.remove();
});

function db() {
  const d = tempDir('shaobing-rulestate-');
  dirs.push(d);
  return openDb({ dataDir: d.path, synchronous: 'normal' });
}

const rows = (store: ReturnType<typeof db>) =>
  store.prepare('SELECT rule, subject, state, updated_at FROM rule_state ORDER BY rule, subject').all() as Array<{ rule: string; subject: string; state: string; updated_at: number }>;

describe('RuleStates', () => {
  it('keeps puts in memory until flush, then writes each subject once with its newest state', () => {
    const store = db();
    const rs = new RuleStates(sqliteStore(store).ruleState);
    store.transaction(() => {
      rs.put('no_water_use', 'h1', { n: 1 }, 10);
      rs.put('no_water_use', 'h1', { n: 2 }, 20);
      rs.put('low_battery', 'd1', { low: false }, 15);
      expect(rs.get('no_water_use', 'h1')).toEqual({ n: 2 });
      expect(rows(store)).toEqual([]);
      rs.flush();
    })();
    expect(rows(store)).toEqual([
      { rule: 'low_battery', subject: 'd1', state: '{"low":false}', updated_at: 15 },
      { rule: 'no_water_use', subject: 'h1', state: '{"n":2}', updated_at: 20 },
    ]);
    // A fresh instance reads what was written; a null state deletes the row.
    const again = new RuleStates(sqliteStore(store).ruleState);
    expect(again.get('no_water_use', 'h1')).toEqual({ n: 2 });
    expect(again.get('no_water_use', 'nobody')).toBeUndefined();
    store.transaction(() => {
      again.put('no_water_use', 'h1', null, 30);
      again.flush();
    })();
    expect(rows(store).map((r) => r.subject)).toEqual(['d1']);
  });

  it('undo puts back what the unit since mark() changed, and flush then writes only the rest', () => {
    const store = db();
    const rs = new RuleStates(sqliteStore(store).ruleState);
    store.transaction(() => {
      rs.put('r', 'a', { v: 'kept' }, 1);
      rs.flush();
    })();
    store.transaction(() => {
      rs.mark();
      rs.put('r', 'a', { v: 'first' }, 2); // a reading that stands
      rs.mark();
      rs.put('r', 'a', { v: 'undone' }, 3); // the next reading's savepoint rolls back
      rs.put('r', 'b', { v: 'undone too' }, 3);
      rs.undo();
      expect(rs.get('r', 'a')).toEqual({ v: 'first' });
      expect(rs.get('r', 'b')).toBeUndefined();
      rs.flush();
    })();
    expect(rows(store).map((r) => [r.subject, r.state, r.updated_at])).toEqual([['a', '{"v":"first"}', 2]]);
    // A clean entry changed and undone is not written again.
    store.transaction(() => {
      rs.mark();
      rs.put('r', 'a', { v: 'undone' }, 4);
      rs.undo();
      rs.flush();
    })();
    expect(rows(store)[0].updated_at).toBe(2);
  });

  it('evicts the oldest written states beyond its limit, never one not yet written', () => {
    const store = db();
    const rs = new RuleStates(sqliteStore(store).ruleState, 2);
    store.transaction(() => {
      for (const s of ['a', 'b', 'c', 'd']) rs.put('r', s, { s }, 1);
      rs.flush();
    })();
    expect(rows(store).map((r) => r.subject)).toEqual(['a', 'b', 'c', 'd']);
    // Evicted or not, every state is still there (memory, else the store).
    for (const s of ['a', 'b', 'c', 'd']) expect(rs.get('r', s)).toEqual({ s });
    store.prepare("UPDATE rule_state SET state = '{\"s\":\"from the store\"}' WHERE subject = 'a'").run();
    rs.get('r', 'x'); // one more read pushes the oldest out
    rs.get('r', 'y');
    expect(rs.get('r', 'a')).toEqual({ s: 'from the store' });
  });

  it('forget drops memory: the next get reads the store', () => {
    const store = db();
    const rs = new RuleStates(sqliteStore(store).ruleState);
    store.transaction(() => {
      rs.put('r', 'a', { v: 1 }, 1);
      rs.flush();
    })();
    store.prepare("UPDATE rule_state SET state = '{\"v\":2}'").run();
    expect(rs.get('r', 'a')).toEqual({ v: 1 });
    rs.forget();
    expect(rs.get('r', 'a')).toEqual({ v: 2 });
  });
});
