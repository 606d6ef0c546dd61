// Rule state and deadlines in SQLite.
import type { Db } from '../db.js';
import type { Deadline, DeadlinesRepo, RuleStateRepo } from '../store.js';

export function sqliteRules(db: Db): { ruleState: RuleStateRepo; deadlines: DeadlinesRepo } {
  let r: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    get: db.prepare('SELECT state FROM rule_state WHERE rule = ? AND subject = ?').pluck(),
    put: db.prepare(
      'INSERT INTO rule_state (rule, subject, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(rule, subject) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
    ),
    del: db.prepare('DELETE FROM rule_state WHERE rule = ? AND subject = ?'),
    all: db.prepare('SELECT subject, state FROM rule_state WHERE rule = ?'),
    newest: db.prepare('SELECT MAX(updated_at) FROM rule_state').pluck(),
    dAll: db.prepare('SELECT key, due FROM deadlines'),
    dUpsert: db.prepare('INSERT INTO deadlines (key, due) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET due = excluded.due'),
    dDel: db.prepare('DELETE FROM deadlines WHERE key = ?'),
    dClaim: db.prepare('DELETE FROM deadlines WHERE key = ? AND due = ?'),
  });
  const s = () => (r ??= prepare());
  return {
    ruleState: {
      get: (rule, subject) => {
        const json = s().get.get(rule, subject) as string | undefined;
        return json === undefined ? undefined : (JSON.parse(json) as unknown);
      },
      put: (rule, subject, state, at) => void s().put.run(rule, subject, JSON.stringify(state), at),
      delete: (rule, subject) => void s().del.run(rule, subject),
      all: (rule) =>
        (s().all.all(rule) as Array<{ subject: string; state: string }>).map((x) => ({ subject: x.subject, state: JSON.parse(x.state) as unknown })),
      newest: () => (s().newest.get() as number | null) ?? undefined,
    },
    deadlines: {
      all: () => s().dAll.all() as Deadline[],
      upsert: (key, due) => void s().dUpsert.run(key, due),
      delete: (key) => void s().dDel.run(key),
      claim: (key, due) => s().dClaim.run(key, due).changes > 0,
    },
  };
}
