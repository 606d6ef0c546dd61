// The console (docs/console.md): static files from src/web at `/`, and the few browser builds it imports
// (preact, htm, uPlot) from node_modules at `/vendor/`. No bundler and no CDN: a duty room or a big screen on a
// site without internet must still work. Routes registered elsewhere (/api, /docs, /metrics, /healthz) win over
// the static wildcard; MQTT over WebSocket at /mqtt is an upgrade the broker takes before routing.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

const require = createRequire(import.meta.url);

/** A package's folder, found from its entry point (some packages export no package.json to resolve). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
}

/** `/vendor/<name>` → a file in a package: only these files, never a whole node_modules folder. */
function vendorFiles(): Map<string, string> {
  const preact = packageDir('preact');
  const htm = packageDir('htm');
  const uplot = packageDir('uplot');
  return new Map([
    ['preact.mjs', join(preact, 'dist/preact.mjs')],
    ['preact.mjs.map', join(preact, 'dist/preact.mjs.map')],
    ['hooks.mjs', join(preact, 'hooks/dist/hooks.mjs')],
    ['hooks.mjs.map', join(preact, 'hooks/dist/hooks.mjs.map')],
    ['htm.mjs', join(htm, 'dist/htm.mjs')],
    ['uPlot.esm.js', join(uplot, 'dist/uPlot.esm.js')],
    ['uPlot.min.css', join(uplot, 'dist/uPlot.min.css')],
  ]);
}

/**
 * Content-Security-Policy for the console: scripts only from this origin plus the inline import map, allowed by
 * its hash (CSP3 hash-source), so markup injected through a device-supplied string could run nothing.
 */
function contentSecurityPolicy(): string {
  const html = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
  const hashes = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`,
    // uPlot and preact set element styles; no stylesheet comes from elsewhere.
    "style-src 'self' 'unsafe-inline'",
    // blob: photos fetched with the caller's token (GET /api/photos/{id}) are shown from memory.
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "frame-ancestors 'self'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

export default async function webApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  // An install without the console's files (or its npm packages) still runs the API and the broker.
  let csp: string;
  let vendor: Map<string, string>;
  try {
    csp = contentSecurityPolicy();
    vendor = vendorFiles();
  } catch (err) {
    deps.log.warn({ err }, 'console not served: its files or packages are missing');
    return;
  }

  await app.register(fastifyStatic, {
    root: WEB_ROOT,
    prefix: '/',
    index: ['index.html'],
    // Revalidate every time (ETag): a reload after an upgrade gets the new console, never a mix of versions.
    cacheControl: true,
    maxAge: 0,
    setHeaders(res, path) {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      if (path.endsWith('.html')) res.setHeader('content-security-policy', csp);
    },
  });

  app.get<{ Params: { name: string } }>('/vendor/:name', { schema: { hide: true } }, (req, reply) => {
    const file = vendor.get(req.params.name);
    if (!file) return reply.callNotFound();
    reply.header('x-content-type-options', 'nosniff');
    // The file names carry no version, so a day's caching is the most that is safe across an upgrade.
    return reply.sendFile(file.slice(dirname(file).length + 1), dirname(file), { maxAge: 86_400_000, immutable: false });
  });
}
