// Typed routes (src/api/typeProvider.ts): a route's request types come from the JSON Schema that validates it,
// never from a hand-written generic next to it, so the two cannot drift apart.
import { describe, it, expect, expectTypeOf } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaTypes } from '../../src/api/typeProvider.js';

describe('typed routes', () => {
  it('no route in src/api writes its request types by hand', () => {
    const handWritten: string[] = [];
    for (const name of readdirSync('src/api')) {
      if (!name.endsWith('.ts')) continue;
      const text = readFileSync(join('src/api', name), 'utf8');
      for (const m of text.matchAll(/\.(get|post|put|patch|delete|route)<\{[^\n]*/g)) handWritten.push(`${name}: ${m[0].slice(0, 80)}`);
    }
    expect(handWritten).toEqual([]);
  });

  it('the provider turns a schema into the request type', () => {
    const schema = { type: 'object', required: ['id'], properties: { id: { type: 'string' }, limit: { type: 'integer' } } } as const;
    type Validated = (SchemaTypes & { schema: typeof schema })['validator'];
    expectTypeOf<Validated>().toMatchTypeOf<{ id: string; limit?: number }>();
    const sample: Validated = { id: 'x', limit: 3 };
    expect(sample.id).toBe('x');
  });
});
