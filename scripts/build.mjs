// Build: TypeScript (src/ and devices/) to plain JavaScript in dist/, so production runs `node dist/main.js`
// with no TypeScript tooling in the process. The files the code finds next to itself (devices/*/schema.json,
// devices/common.schema.json, the console under src/web/) are copied to the same relative places, so every
// `import.meta.url`-relative path works the same from src/ (tsx, tests) and from dist/.
//
//   node scripts/build.mjs            # always build
//   node scripts/build.mjs --if-stale # build only when dist/ is missing or older than a source (npm prestart)
//   node scripts/build.mjs --check    # exit 1 naming the reason when a build is due, 0 when dist/ is current
//   --out <dir>                       # another output directory inside the repository (tests; node_modules
//                                     # must be reachable from it)
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg >= 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const SOURCE_DIRS = ['src', 'devices'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.mjs'];

/** Every file the build reads: what dist/ must be newer than. */
function* sources() {
  for (const f of SOURCE_FILES) if (existsSync(join(root, f))) yield join(root, f);
  for (const d of SOURCE_DIRS) yield* walk(join(root, d));
}

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Not code, not documentation, not test data: what the running service reads from beside its modules. */
function isAsset(path) {
  const rel = relative(root, path);
  return !/\.(ts|md)$/.test(rel) && !rel.split('/').includes('examples');
}

function stale() {
  if (!existsSync(stamp)) return `${relative(root, dist)}/ has not been built`;
  const built = statSync(stamp).mtimeMs;
  for (const f of sources()) if (statSync(f).mtimeMs > built) return `${relative(root, f)} changed since the last build`;
  return null;
}

if (process.argv.includes('--check')) {
  const why = stale();
  if (why) console.error(`[shaobing] build due: ${why}`);
  process.exit(why ? 1 : 0);
}

if (process.argv.includes('--if-stale')) {
  const why = stale();
  if (!why) process.exit(0);
  console.error(`[shaobing] building dist/ (${why})…`);
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
    stdio: 'inherit',
    cwd: root,
  });
} catch {
  console.error('[shaobing] build failed (the TypeScript errors are above)');
  process.exit(1);
}
let assets = 0;
for (const d of SOURCE_DIRS) {
  for (const f of walk(join(root, d))) {
    if (!isAsset(f)) continue;
    const to = join(dist, relative(root, f));
    mkdirSync(dirname(to), { recursive: true });
    cpSync(f, to);
    assets++;
  }
}
// The entry point people and the image run: `node dist/main.js`.
writeFileSync(join(dist, 'main.js'), "// Built by scripts/build.mjs: the service's entry point.\nimport './src/main.js';\n");
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.error(`[shaobing] built ${relative(root, dist)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s (${assets} assets copied)`);
