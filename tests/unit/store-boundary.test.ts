// The store boundary (issue 15, docs/seams.md "Store"): SQL and the database driver live only in src/store.
// Every other file under src/ talks to the store through src/store/store.ts. The walk reads the files
// themselves, so a new query written anywhere else fails here.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

const RULES: Array<[string, RegExp]> = [
  ['imports the database driver', /from\s+['"]better-sqlite3['"]|import\(\s*['"]better-sqlite3['"]\s*\)/],
  ['takes the SQLite handle (Db) instead of the Store', /import\s+(type\s+)?\{[^}]*\bDb\b[^}]*\}\s+from\s+['"][./]*store\/db\.js['"]|\bdeps\.db\b/],
  ['prepares a statement', /\.prepare\(/],
  ['runs a pragma or raw SQL', /\.pragma\(|\.exec\(\s*['"`]/],
  [
    'writes SQL',
    /\b(SELECT\s[^'"`]*?\bFROM\s+[a-z_]+|INSERT\s+(OR\s+[A-Z]+\s+)?INTO\s+[a-z_]+|UPDATE\s+[a-z_]+\s+SET\b|DELETE\s+FROM\s+[a-z_]+|CREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\b|ALTER\s+TABLE\b)/,
  ],
];

/** The composition root opens the SQLite store and keeps its handle (tests read it); it writes no SQL. */
const ROOT_FILES = new Set(['src/app.ts']);

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|js|mjs)$/.test(e.name)) yield p;
  }
}

function violations(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const abs of files(SRC)) {
    const file = relative(ROOT, abs).split('\\').join('/');
    if (file.startsWith('src/store/')) continue;
    const text = readFileSync(abs, 'utf8');
    const found = RULES.filter(([why, re]) => re.test(text) && !(ROOT_FILES.has(file) && why.startsWith('takes the SQLite handle'))).map(([why]) => why);
    if (found.length) out.set(file, found);
  }
  return out;
}

describe('store boundary', () => {
  const found = violations();

  it('finds SQL and the driver only in src/store', () => {
    expect([...found].map(([f, why]) => `${f}: ${why.join(', ')}`)).toEqual([]);
  });

  it('catches a query and a driver import written outside src/store', () => {
    const sample = "import Database from 'better-sqlite3';\nconst rows = db.prepare('SELECT id FROM alerts WHERE status = ?').all('open');";
    expect(RULES.filter(([, re]) => re.test(sample)).map(([why]) => why)).toEqual(['imports the database driver', 'prepares a statement', 'writes SQL']);
  });
});
