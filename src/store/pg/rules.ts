// Rule state and deadlines in PostgreSQL; both are working set, held in memory and written through.
import type pg from 'pg';
import type { DeadlinesRepo, RuleStateRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, Json, lit, MemMap } from './unit.js';

export function pgRules(x: PgContext): { repos: { ruleState: RuleStateRepo; deadlines: DeadlinesRepo }; loadable: Loadable } {
  const { unit } = x;
  /** `${rule}\u0000${subject}` → state and when. */
  const states = new MemMap<string, { rule: string; subject: string; json: string; at: number }>(unit);
  const deadlines = new MemMap<string, number>(unit);
  const key = (rule: string, subject: string) => `${rule}\u0000${subject}`;
  return {
    loadable: {
      async load(db: Pick<pg.Pool, 'query'>) {
        const [s, d] = await Promise.all([
          db.query<{ rule: string; subject: string; state: unknown; updated_at: number }>('SELECT rule, subject, state, updated_at FROM rule_state'),
          db.query<{ key: string; due: number }>('SELECT key, due FROM deadlines'),
        ]);
        states.clear();
        deadlines.clear();
        for (const r of s.rows) states.load(key(r.rule, r.subject), { rule: r.rule, subject: r.subject, json: JSON.stringify(r.state), at: r.updated_at });
        for (const r of d.rows) deadlines.load(r.key, r.due);
      },
    },
    repos: {
      ruleState: {
        get: (rule, subject) => {
          const s = states.get(key(rule, subject));
          return s && (JSON.parse(s.json) as unknown);
        },
        put: (rule, subject, state, at) => {
          const json = new Json(state);
          if (json.text === undefined) throw new TypeError('a rule state must be a JSON value');
          states.set(key(rule, subject), { rule, subject, json: json.text, at });
          unit.write(
            `${insert('rule_state', { rule, subject, state: json, updated_at: at })}
             ON CONFLICT (rule, subject) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
          );
        },
        delete: (rule, subject) => {
          states.delete(key(rule, subject));
          unit.write(`DELETE FROM rule_state WHERE rule = ${lit(rule)} AND subject = ${lit(subject)}`);
        },
        all: (rule) => [...states.values()].filter((s) => s.rule === rule).map((s) => ({ subject: s.subject, state: JSON.parse(s.json) as unknown })),
        newest: () => {
          let max: number | undefined;
          for (const s of states.values()) if (max === undefined || s.at > max) max = s.at;
          return max;
        },
      },
      deadlines: {
        all: () => [...deadlines.entries()].map(([k, due]) => ({ key: k, due })),
        upsert: (k, due) => {
          deadlines.set(k, due);
          unit.write(`${insert('deadlines', { key: k, due })} ON CONFLICT (key) DO UPDATE SET due = EXCLUDED.due`);
        },
        delete: (k) => {
          deadlines.delete(k);
          unit.write(`DELETE FROM deadlines WHERE key = ${lit(k)}`);
        },
        claim: (k, due) => {
          if (deadlines.get(k) !== due) return false;
          deadlines.delete(k);
          unit.write(`DELETE FROM deadlines WHERE key = ${lit(k)} AND due = ${lit(due)}`);
          return true;
        },
      },
    },
  };
}
