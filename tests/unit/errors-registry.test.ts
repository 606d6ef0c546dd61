// One error registry (src/errors.ts): every SB_* code the source uses is registered once, with its HTTP status
// (or, for what stops start-up, its exit status), and a throw site cannot state a status of its own.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ERRORS, STARTUP_ERRORS, toAppError } from '../../src/errors.js';

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.(ts|js)$/.test(name)) yield p;
  }
}

describe('error registry', () => {
  it('every SB_* code in src/ is registered (API errors or start-up errors)', () => {
    const known = new Set([...Object.keys(ERRORS), ...Object.keys(STARTUP_ERRORS)]);
    const unknown: string[] = [];
    for (const file of sources('src')) {
      if (file.endsWith('errors.ts') || file.includes('/web/')) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/'(SB_[A-Z_]+)'/g)) if (!known.has(m[1]!)) unknown.push(`${file}: ${m[1]}`);
    }
    expect(unknown).toEqual([]);
  });

  it('no throw site repeats a status: the code decides it', () => {
    const repeated: string[] = [];
    for (const file of sources('src')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new AppError\('SB_[A-Z_]+',[^\n]*?, \d{3}\)/g)) repeated.push(`${file}: ${m[0]}`);
    }
    expect(repeated).toEqual([]);
  });

  it('codes are disjoint, statuses are errors, messages are there', () => {
    for (const k of Object.keys(STARTUP_ERRORS)) expect(Object.keys(ERRORS)).not.toContain(k);
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.status, code).toBeLessThan(600);
      expect(e.message.length, code).toBeGreaterThan(0);
      expect(new AppError(code as keyof typeof ERRORS).toJSON()).toEqual({ statusCode: e.status, code, message: e.message });
    }
    expect(STARTUP_ERRORS.SB_CONFIG_INVALID.exit).toBe(78);
  });

  it('anything else becomes a registered code, never a stack', () => {
    expect(toAppError(new Error('boom at /srv/x.ts:12')).toJSON()).toEqual({ statusCode: 500, code: 'SB_INTERNAL', message: 'internal error' });
    expect(toAppError({ statusCode: 404 }).code).toBe('SB_NOT_FOUND');
  });
});
