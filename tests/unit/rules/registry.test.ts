// Every rule file is registered and tested (STYLE.md 5: one generic test walks everything registered; loops
// use `continue`, never `return`, so one match cannot end the check early).
import { describe, it, expect } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { Ajv } from 'ajv';
import { rules } from '../../../src/rules/index.js';
import { ALERT_KINDS } from '../../../src/alerts/types.js';

const dir = new URL('../../../src/rules/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');

describe('rule registry', () => {
  it('lists every file in src/rules exactly once', async () => {
    const missing: string[] = [];
    for (const f of files) {
      const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
      const exported = Object.values(mod).filter((v) => rules.includes(v as (typeof rules)[number]));
      if (exported.length !== 1) missing.push(f);
    }
    expect(missing).toEqual([]);
    expect(rules).toHaveLength(files.length);
  });

  it('has a test file for every rule file', () => {
    const untested: string[] = [];
    for (const f of files) {
      if (existsSync(new URL(f.replace(/\.ts$/, '.test.ts'), import.meta.url))) continue;
      untested.push(f);
    }
    expect(untested).toEqual([]);
  });

  it('names each rule after a distinct alert kind of CONTRACT.md', () => {
    const names = rules.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(ALERT_KINDS).toContain(n);
  });

  it('has defaults that pass its own settings schema', () => {
    const ajv = new Ajv({ strict: false });
    for (const r of rules) {
      const validate = ajv.compile({ type: 'object', properties: r.configSchema });
      expect(validate(r.defaults), `${r.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(r.deviceKinds.length, r.name).toBeGreaterThan(0);
    }
  });
});
