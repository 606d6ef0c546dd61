// Generated and mutated device payloads for property-based fuzzing (fast-check), shared by the fuzz tests and
// bench/fuzz.ts. Every kind and format starts from its own examples (devices/<kind>/examples/<format>/, valid
// and invalid) and mutates them three ways — structurally (a JSON field replaced by a hostile value, removed or
// added), as text (a number token replaced by 1e309 or 1e300, the body buried under thousands of brackets,
// truncated, invalid UTF-8 inserted) and as bytes (flipped, cut, repeated) — beside wholly random JSON and
// bytes. The hostile values are the ones that once stalled or fooled ingest (issue 11).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { deviceKinds } from '../devices/index.js';

const devicesDir = fileURLToPath(new URL('../devices/', import.meta.url));

/** Every (kind, format) pair registered, with the bytes of its example payloads. */
export function formats(): Array<{ kind: string; format: string; examples: Buffer[] }> {
  const out: Array<{ kind: string; format: string; examples: Buffer[] }> = [];
  for (const def of deviceKinds)
    for (const d of def.decoders) {
      const examples: Buffer[] = [];
      for (const sub of ['valid', 'invalid']) {
        const dir = join(devicesDir, def.kind, 'examples', d.format, sub);
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir).sort()) {
          if (f.endsWith('.expected.json') || !/\.(json|hex|bin)$/.test(f)) continue;
          examples.push(readFileSync(join(dir, f)));
        }
      }
      // A format with no examples is still fuzzed, from a minimal canonical body.
      if (!examples.length) examples.push(Buffer.from('{"type":"heartbeat"}'));
      out.push({ kind: def.kind, format: d.format, examples });
    }
  return out;
}

/** Values that broke or fooled ingest once, or sit on a boundary. */
export const HOSTILE: readonly unknown[] = [
  1e300, -1e300, 8.64e15, 8.64e15 + 1, 9e15, 1e21, 2 ** 53, -1, 0, -0, 0.5, 946684799999, 4102444800000,
  '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-03-01T08:00:00+08:00', '1e300', 'NaN',
  '', ' ', '\u0000', '\ud800', '沪A12345', 'x'.repeat(5000), null, true, false, [], {}, [[[[[[]]]]]], { type: 'alarm' },
];

/** JSON text tokens JSON.stringify cannot produce: they parse to ±Infinity or are just past a bound. */
const HOSTILE_NUMBER_TEXT = ['1e309', '-1e999', '1E400', '1e300', '8.64e15', '9007199254740993', '-0', '1e-400'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v` (objects and arrays), the root first. */
function paths(v: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function parseJson(b: Buffer): Json | undefined {
  try {
    return JSON.parse(b.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
}

/** A structural change to a JSON example: set, delete or add at one path. Non-JSON examples pass through. */
function mutateJson(b: Buffer, pick: number, op: 'set' | 'delete' | 'add', value: unknown, key: string): Buffer {
  const doc = parseJson(b);
  if (doc === undefined) return b;
  const all = paths(doc);
  const path = all[pick % all.length];
  if (path.length === 0) return Buffer.from(JSON.stringify(op === 'set' ? value : doc));
  let parent = doc as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (op === 'set') parent[last] = value as Json;
  else if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, Json>)[key] = value as Json;
    else parent[last] = value as Json;
  }
  return Buffer.from(JSON.stringify(doc));
}

/** A change to the text: a hostile number token, deep brackets, a cut, or bytes that are not UTF-8. */
function mutateText(b: Buffer, op: number, at: number, n: number): Buffer {
  const text = b.toString('latin1');
  switch (op % 5) {
    case 0: {
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      if (!numbers.length) return b;
      const m = numbers[at % numbers.length];
      const token = HOSTILE_NUMBER_TEXT[n % HOSTILE_NUMBER_TEXT.length];
      return Buffer.from(text.slice(0, m.index) + token + text.slice(m.index! + m[0].length), 'latin1');
    }
    case 1: {
      const depth = 30 + (n % 8000);
      // Buried as a field value (a canonical body stays an object), or the whole body wrapped.
      return at % 2
        ? Buffer.from(`{"type":"heartbeat","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)
        : Buffer.concat([Buffer.from('['.repeat(depth)), b, Buffer.from(']'.repeat(depth))]);
    }
    case 2:
      return b.subarray(0, at % (b.length + 1));
    case 3: {
      const i = at % (b.length + 1);
      const bad = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80])][n % 4];
      return Buffer.concat([b.subarray(0, i), bad, b.subarray(i)]);
    }
    default: {
      // A value in string form where a number was, or the reverse: vendors send both.
      return Buffer.from(text.replace(/:(-?\d+(\.\d+)?)/, ':"$1"'), 'latin1');
    }
  }
}

/** A change to the bytes: a flipped bit, a repeated slice, or the frame cut short. */
function mutateBytes(b: Buffer, op: number, at: number, bit: number): Buffer {
  if (b.length === 0) return Buffer.from([bit & 0xff]);
  const i = at % b.length;
  const out = Buffer.from(b);
  if (op % 3 === 0) {
    out[i] ^= 1 << (bit % 8);
    return out;
  }
  if (op % 3 === 1) return Buffer.concat([b.subarray(0, i), b.subarray(i, i + 1 + (bit % 16)), b.subarray(i)]);
  return b.subarray(i);
}

/** One payload for a format: an example as is, mutated, or random. */
export function payloadArb(examples: Buffer[]): fc.Arbitrary<Buffer> {
  const example = fc.constantFrom(...examples);
  const value = fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue({ maxDepth: 3 }));
  return fc.oneof(
    { weight: 2, arbitrary: example },
    {
      weight: 5,
      arbitrary: fc
        .tuple(example, fc.nat(), fc.constantFrom('set' as const, 'delete' as const, 'add' as const), value, fc.string({ maxLength: 12 }))
        .map(([b, pick, op, v, key]) => mutateJson(b, pick, op, v, key)),
    },
    { weight: 3, arbitrary: fc.tuple(example, fc.nat(), fc.nat(), fc.nat()).map(([b, op, at, n]) => mutateText(b, op, at, n)) },
    { weight: 2, arbitrary: fc.tuple(example, fc.nat(), fc.nat(), fc.nat()).map(([b, op, at, bit]) => mutateBytes(b, op, at, bit)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)) },
  );
}

/**
 * Every sample parking space has its sensor and a space takes one (409 SB_SPACE_TAKEN), so fuzzed parking
 * sensors get a lot of their own: a community `fuzzlot` with `spaces` free spaces, beside the two samples.
 * Pass `communities` to startApp's overrides; `remove()` when done.
 */
export function withFuzzLot(spaces: number): { communities: string[]; communityId: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-fuzzlot-'));
  const list = Array.from({ length: spaces }, (_, i) => `{ id: fz-sp-${i + 1}, zone: resident }`).join(', ');
  writeFileSync(
    join(dir, 'fuzzlot.yaml'),
    `id: fuzzlot\nname: 测试车场小区\ngrids: [{ id: fz-g1, name: 一网格 }]\nparkingLots:\n  - { id: fz-lot, name: 测试车场, gridId: fz-g1, capacity: ${spaces}, spaces: [${list}] }\ndevices: []\n`,
  );
  const root = fileURLToPath(new URL('../config/communities/', import.meta.url));
  return {
    communities: [join(root, 'chunjiang.yaml'), join(root, 'guihuayuan.yaml'), join(dir, 'fuzzlot.yaml')],
    communityId: 'fuzzlot',
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
