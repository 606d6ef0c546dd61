// One generic test that walks everything registered (STYLE.md habit 5): every kind, every decoder, every
// example file on disk. Loops use `continue`, never `return`, so one match cannot end a check early.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileValidators } from '../src/ingest/validate.js';
import { deviceKinds } from './index.js';
import type { DecodeContext } from '../src/ingest/types.js';

const root = dirname(fileURLToPath(import.meta.url));
const validators = compileValidators(deviceKinds);
const ctx: DecodeContext = { deviceId: 'example-device', receivedAt: Date.parse('2025-03-01T08:00:00+08:00') };
const EXPECTED = '.expected.json';
/** What the service knows about the sending device, for an example that needs it (e.g. a gate camera's lane). */
const CONTEXT = '.context.json';

/** Example payloads in a folder: .json/.hex/.bin files, not their `.expected.json`/`.context.json` siblings. */
function examples(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(json|hex|bin|xml)$/.test(f) && !f.endsWith(EXPECTED) && !f.endsWith(CONTEXT))
    .sort();
}

/** The decode context of an example: the shared one, plus its sibling `.context.json` when there is one. */
function contextOf(dir: string, file: string): DecodeContext {
  const path = join(dir, file.replace(/\.(json|hex|bin|xml)$/, CONTEXT));
  return existsSync(path) ? { ...ctx, ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<DecodeContext>) } : ctx;
}

function subfolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

describe('device kinds registry', () => {
  it('registers every devices/ folder that has a schema.json', () => {
    const onDisk = subfolders(root).filter((name) => existsSync(join(root, name, 'schema.json')));
    expect(deviceKinds.map((def) => def.kind).sort()).toEqual(onDisk);
  });

  it('gives each kind a distinct schema $id', () => {
    for (const def of deviceKinds) expect(def.schema.$id).toBe(`shaobing/kind/${def.kind}`);
  });
});

for (const def of deviceKinds) {
  const kindDir = join(root, def.kind);
  const validate = validators.get(def.kind)!;

  describe(def.kind, () => {
    it('lists canonical first and each format once', () => {
      const formats = def.decoders.map((d) => d.format);
      expect(formats[0]).toBe('canonical');
      expect(new Set(formats).size).toBe(formats.length);
    });

    it('registers every decoder file under decoders/ (file name = format)', () => {
      const files = readdirSync(join(kindDir, 'decoders'))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => f.slice(0, -'.ts'.length));
      expect(def.decoders.map((d) => d.format).sort()).toEqual(files.sort());
    });

    it('has example folders only for registered formats', () => {
      const formats = def.decoders.map((d) => d.format);
      for (const folder of subfolders(join(kindDir, 'examples'))) expect(formats).toContain(folder);
    });

    for (const decoder of def.decoders) {
      const base = join(kindDir, 'examples', decoder.format);
      const valid = examples(join(base, 'valid'));
      const invalid = examples(join(base, 'invalid'));

      it(`${decoder.format}: has valid and invalid examples`, () => {
        expect(valid.length, `${base}/valid`).toBeGreaterThan(0);
        expect(invalid.length, `${base}/invalid`).toBeGreaterThan(0);
      });

      for (const file of valid) {
        it(`${decoder.format}: valid/${file} decodes and passes the schema`, () => {
          const raw = readFileSync(join(base, 'valid', file));
          const result = decoder.decode(raw, contextOf(join(base, 'valid'), file));
          if (!result.ok) expect.fail(`${result.error}: ${result.message}`);
          expect(validate(result.payload)).toEqual({ ok: true });

          const expectedFile = join(base, 'valid', file.replace(/\.(json|hex|bin|xml)$/, EXPECTED));
          if (existsSync(expectedFile)) {
            expect(result.payload).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
          } else if (decoder.format === 'canonical') {
            expect(result.payload).toEqual(JSON.parse(raw.toString('utf8'))); // canonical passes fields through
          } else {
            expect.fail(`vendor example ${file} needs a sibling ${EXPECTED}`);
          }
        });
      }

      for (const file of invalid) {
        it(`${decoder.format}: invalid/${file} is rejected`, () => {
          const result = decoder.decode(readFileSync(join(base, 'invalid', file)), contextOf(join(base, 'invalid'), file));
          // Either the decoder refuses the bytes, or what it decoded fails the kind's schema.
          if (result.ok) expect(validate(result.payload).ok, JSON.stringify(result.payload)).toBe(false);
          else expect(result.message).not.toBe('');
        });
      }
    }
  });
}
