// The rule runner's index (src/rules/lib/runner.ts): a reading meets only the rules of its device kind that take
// its type, and every reading type a rule names is one its kinds can send (a typo would make the rule deaf).
import { describe, it, expect } from 'vitest';
import pino from 'pino';
import { RuleRunner } from '../../src/rules/lib/runner.js';
import { kindsOfRule } from '../../src/rules/lib/types.js';
import { rules } from '../../src/rules/index.js';
import { deviceKinds } from '../../devices/index.js';

const runner = new RuleRunner(rules, deviceKinds, pino({ level: 'silent' }));
const names = (kind: string, type: string) => runner.rulesFor(kind, type).map((r) => r.name);

/** The message types a kind's canonical schema allows (`type` enum, or a single const). */
function typesOf(kind: string): string[] {
  const def = deviceKinds.find((k) => k.kind === kind)!;
  const t = (def.schema as { properties?: { type?: { enum?: string[]; const?: string } } }).properties?.type;
  return t?.enum ?? (t?.const ? [t.const] : []);
}

describe('rule runner index', () => {
  it('gives a reading the rules of its kind that take its type, in registry order', () => {
    expect(names('smoke-detector', 'alarm')).toContain('smoke');
    expect(names('smoke-detector', 'heartbeat')).not.toContain('smoke');
    // Health rules take every type of every kind they watch.
    expect(names('smoke-detector', 'heartbeat')).toContain('device_offline');
    expect(names('smart-gate', 'heartbeat')).not.toContain('unregistered_vehicle');
    expect(names('smart-gate', 'plate')).toEqual(expect.arrayContaining(['unregistered_vehicle', 'visitor_overstay', 'lot_full']));
    const order = rules.map((r) => r.name);
    const got = names('water-meter', 'reading');
    expect(got).toEqual(order.filter((n) => got.includes(n)));
    expect(names('no-such-kind', 'reading')).toEqual([]);
  });

  it('matches the kinds: every rule of a kind is there for some type, and a declared type is one the kind sends', () => {
    const problems: string[] = [];
    for (const rule of rules) {
      for (const kind of kindsOfRule(rule, deviceKinds)) {
        const types = typesOf(kind);
        if (!types.length) {
          problems.push(`${kind}: schema names no message types`);
          continue;
        }
        if (!types.some((t) => names(kind, t).includes(rule.name))) problems.push(`${rule.name}: no ${kind} type reaches it`);
        for (const t of rule.readingTypes ?? []) if (!types.includes(t)) problems.push(`${rule.name}: ${kind} never sends '${t}'`);
      }
    }
    expect(problems).toEqual([]);
  });
});
