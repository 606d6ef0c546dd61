// No 500s from input (issue 12 item 5): every route Fastify has registered — taken from the app itself, so a
// route added later is walked without being listed here — is called with hostile values in every path
// parameter, query parameter and body field its schema names (and in the body as a whole): huge numbers, 1e300,
// 1e309, negatives, NaN and Infinity as text, overlong strings, wrong types, impossible dates, path tricks,
// prototype keys. Then fast-check throws random values at random fields. Any 5xx fails, as does a 4xx whose
// JSON does not carry a registered SB_* code with its status, and any answer that shows a stack, a source path
// or a Fastify FST_ code. The callers are the platform operator (who gets past every scope check to the
// validation) and, for /ingest, the sample integration with its own secret.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { startAlertsApp, T0, HOUR, type AlertsEnv } from './alertsHarness.js';
import { ADMIN_TOKEN, sampleSecrets } from '../helpers.js';
import { ERRORS } from '../../src/errors.js';
import type { RegisteredRoute } from '../../src/api/index.js';
import { hashSecret } from '../../src/broker/secrets.js';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  minLength?: number;
  items?: Schema;
  format?: string;
}

const LONG = 'x'.repeat(20_000);
let deep: unknown = 1;
for (let i = 0; i < 2_000; i++) deep = [deep];

/** Values a client can send in JSON (and so, as text, in a URL). */
const HOSTILE: unknown[] = [
  1e300, -1e300, 999999999999999999999, -999999999999999999999, 2 ** 53 + 1, -1, 0, 1.5, -0.000001, Number.MAX_VALUE, Number.MIN_VALUE,
  '999999999999999999999', '1e300', '1e309', '-1e999', '-1', '0', '1.5', 'NaN', 'Infinity', '-Infinity', '0x10', '1_000',
  '', ' ', LONG, '\u0000', '\ud800', 'é'.repeat(3000), '漢字', '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}',
  '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-03-01T25:61:00Z', '275760-09-13T00:00:00.001Z', '1970-01-01T00:00:00Z',
  '../../etc/passwd', '..%2f..%2f', '%00', '%', '/', 'a/b', '?x=1', '#', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  true, false, null, [], [1, 2], ['a', 'b'], {}, { a: 1 }, { __proto__: { polluted: 1 } }, JSON.parse('{"__proto__":{"polluted":1}}'), deep,
];
/** Number tokens JSON.stringify cannot write: spliced into the body text. */
const HOSTILE_NUMBER_TEXT = ['1e309', '-1e999', '1E400', '1e-400', '00012', '-0', '9'.repeat(400)];
/** Whole bodies. */
const HOSTILE_BODIES: Array<{ payload: string; type?: string }> = [
  { payload: '[]' }, { payload: '"x"' }, { payload: '1e309' }, { payload: 'null' }, { payload: 'true' }, { payload: '{' }, { payload: '{"a":1,"a":2}' },
  { payload: '{"__proto__":{"x":1}}' }, { payload: '{"constructor":{"prototype":{"x":1}}}' }, { payload: JSON.stringify(deep) },
  { payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1') }, { payload: '{}', type: 'text/plain' },
  { payload: '{}', type: 'application/json; charset=utf-16' }, { payload: '<a/>', type: 'application/xml' }, { payload: 'a=1', type: 'application/x-www-form-urlencoded' },
];
/** Raw path segments (not encoded again). */
const PATH_TRICKS = ['..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%00', '%ff', '%E0%A4%A', '%', 'a'.repeat(600), '%20', '-1', '1e309', '999999999999999999999', 'NaN', '0x1F'];

const NAMED: Record<string, unknown> = {
  communityId: 'guihuayuan',
  deviceId: 'gh-sd-6-302',
  gridId: 'gh-g1',
  householdId: 'gh-6-302',
  personId: 'gh-head-g1',
  plate: '浙A12345',
  assignee: 'gh-member-g2-1',
  kind: 'smoke-detector',
  username: 'gh-head-g1',
  password: 'wrong-password',
  until: new Date(T0 + HOUR).toISOString(),
  now: new Date(T0).toISOString(),
  date: '2025-03-01',
};

/** A plausible value for a field, so that a case changes one field and the rest passes. */
function plausible(name: string, s: Schema | undefined): unknown {
  if (name in NAMED) return NAMED[name];
  if (!s) return 'x';
  if (s.enum) return s.enum[0];
  const alt = s.anyOf?.[0] ?? s.oneOf?.[0];
  if (alt) return plausible(name, alt);
  const type = [s.type ?? 'string'].flat()[0];
  if (type === 'integer' || type === 'number') return Math.max(1, s.minimum ?? 1);
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return baseObject(s);
  if (s.format === 'date-time') return new Date(T0).toISOString();
  return 'x'.repeat(Math.max(1, s.minLength ?? 1));
}
function baseObject(s: Schema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(s?.properties ?? {})) if (s?.required?.includes(k)) out[k] = plausible(k, p);
  return out;
}

/** Percent-encoded, a lone surrogate as the replacement character (as a browser sends it). */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
const asText = (v: unknown) => (typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));

let env: AlertsEnv;
let routes: RegisteredRoute[];
let requests = 0;
const INTEGRATION = Object.keys(sampleSecrets.integrations)[0];

// Optional route groups switched on, so that they are walked too: the EMQX hooks.
const HOOK_SECRET = 'route-fuzz-hook-secret-0123456789';

beforeAll(async () => {
  env = await startAlertsApp(undefined, { brokerHooks: { secretHash: hashSecret(HOOK_SECRET) } });
  routes = env.t.app.api.registeredRoutes.filter(
    // GET /api/stream takes no input and never ends (its HEAD is walked); HEAD answers like GET.
    (r) => !(r.method === 'GET' && r.url === '/api/stream') && r.method !== 'HEAD',
  );
});
afterAll(() => env?.close());

/** A path for `route` with `params` put in (raw: the caller encodes). */
function pathOf(route: RegisteredRoute, params: Record<string, string>): string {
  return route.url.replace(/:([A-Za-z0-9_]+)|\*/g, (m, name: string | undefined) => params[name ?? '*'] ?? 'x');
}
function baseParams(route: RegisteredRoute): Record<string, string> {
  const names = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const props = (route.schema?.params as Schema | undefined)?.properties ?? {};
  const out: Record<string, string> = {};
  for (const n of names) out[n] = n === 'integration' ? INTEGRATION : asText(route.url.startsWith('/api/devices') ? 'gh-sd-6-302' : plausible(n, props[n]));
  if (route.url.endsWith('*')) out['*'] = 'index.html';
  return out;
}
function headersFor(route: RegisteredRoute): Record<string, string> {
  if (route.url.startsWith('/ingest/')) return { authorization: `Bearer ${sampleSecrets.integrations[INTEGRATION]}` };
  if (route.url.startsWith('/hooks/')) return { 'x-shaobing-hook-secret': HOOK_SECRET };
  return { authorization: `Bearer ${ADMIN_TOKEN}` };
}

async function call(route: RegisteredRoute, what: string, opts: Omit<InjectOptions, 'method'>): Promise<void> {
  // A distinct address per request: the sign-in rate limit must not hide the validation behind a 429.
  requests++;
  const remoteAddress = `10.${(requests >> 16) & 255}.${(requests >> 8) & 255}.${requests & 255}`;
  const res = await env.t.app.api.inject({ method: route.method as 'GET', remoteAddress, ...opts, headers: { ...headersFor(route), ...(opts.headers as object) } });
  judge(route, what, res);
}

function judge(route: RegisteredRoute, what: string, res: LightMyRequestResponse): void {
  const where = `${route.method} ${route.url} ${what} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  expect(res.body, where).not.toMatch(/FST_|node_modules|\/src\/|\.ts:\d+|\bat [\w.<>]+ \(|"stack"/);
  if (res.statusCode < 400) return;
  if (!String(res.headers['content-type'] ?? '').includes('application/json')) {
    // The one-tap pages answer people with a Chinese page (and the code in it), never JSON.
    expect(route.url, where).toMatch(/^\/(ack|c|snapshot)\//);
    return;
  }
  const body = res.json() as { statusCode?: number; code?: string };
  expect(body.code, where).toMatch(/^SB_[A-Z_]+$/);
  expect(ERRORS[body.code as keyof typeof ERRORS]?.status, where).toBe(res.statusCode);
  expect(body.statusCode, where).toBe(res.statusCode);
}

function bodyFields(route: RegisteredRoute): Record<string, Schema> {
  return ((route.schema?.body as Schema | undefined)?.properties ?? {}) as Record<string, Schema>;
}
function queryFields(route: RegisteredRoute): Record<string, Schema> {
  return ((route.schema?.querystring as Schema | undefined)?.properties ?? {}) as Record<string, Schema>;
}
const hasBody = (r: RegisteredRoute) => r.method === 'POST';

// Thousands of requests per walk: seconds alone, longer on a machine busy with other suites.
const WALK = { timeout: 120_000 };

describe('hostile input on every route', () => {
  it('finds the routes, with their schemas', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const must of ['GET /api/devices/:id/telemetry', 'POST /api/visitors', 'POST /api/devices', 'GET /api/alerts', 'POST /ingest/:integration', 'POST /hooks/emqx/authn'])
      expect(routes.map((r) => `${r.method} ${r.url}`)).toContain(must);
    expect(Object.keys(bodyFields(routes.find((r) => r.url === '/api/visitors')!))).toContain('until');
  });

  it('answers the reported cases with a coded 400', async () => {
    const tel = await env.t.app.api.inject({ url: '/api/devices/gh-wm-5-402/telemetry?from=999999999999999999999', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(tel.statusCode, tel.body).toBe(400);
    expect(tel.json().code).toMatch(/^SB_/);
    const vis = await env.t.app.api.inject({
      method: 'POST',
      url: '/api/visitors',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: '{"plate":"浙A12345","communityId":"guihuayuan","until":1e300}',
    });
    expect(vis.statusCode, vis.body).toBe(400);
    expect(vis.json().code).toMatch(/^SB_/);
  });

  it('every path parameter', WALK, async () => {
    for (const route of routes) {
      const base = baseParams(route);
      for (const name of Object.keys(base)) {
        const values = [...HOSTILE.map((v) => enc(asText(v).slice(0, 2000))), ...PATH_TRICKS];
        for (const v of values) await call(route, `param ${name}=${v.slice(0, 40)}`, { url: pathOf(route, { ...base, [name]: v }), ...(hasBody(route) ? { payload: {} } : {}) });
      }
    }
  });

  it('every query parameter, once and repeated, and unknown ones', WALK, async () => {
    for (const route of routes) {
      const path = pathOf(route, baseParams(route));
      const names = [...Object.keys(queryFields(route)), 'unknown'];
      for (const name of names)
        for (const v of HOSTILE) {
          const text = asText(v).slice(0, 8000);
          const q = new URLSearchParams({ [name]: text }).toString();
          await call(route, `query ${name}=${text.slice(0, 40)}`, { url: `${path}?${q}`, ...(hasBody(route) ? { payload: {} } : {}) });
          await call(route, `query ${name} twice`, { url: `${path}?${q}&${q}`, ...(hasBody(route) ? { payload: {} } : {}) });
        }
      await call(route, 'raw query', { url: `${path}?from=%&to=%E0%A4%A&&=&[]=1&a[b]=2` });
    }
  });

  it('every body field, and whole hostile bodies', WALK, async () => {
    for (const route of routes.filter(hasBody)) {
      const url = pathOf(route, baseParams(route));
      const fields = bodyFields(route);
      const base = baseObject(route.schema?.body as Schema | undefined);
      const json = { 'content-type': 'application/json' };
      for (const name of [...Object.keys(fields), 'unknownField', '__proto__']) {
        for (const v of HOSTILE) {
          // JSON.stringify drops an own __proto__ set by assignment; write the text instead.
          const text = JSON.stringify({ ...base, [name]: '\u0001' }).replace('"\\u0001"', JSON.stringify(v));
          await call(route, `body ${name}=${asText(v).slice(0, 40)}`, { url, headers: json, payload: text });
        }
        for (const token of HOSTILE_NUMBER_TEXT) {
          const text = JSON.stringify({ ...base, [name]: '\u0001' }).replace('"\\u0001"', token);
          await call(route, `body ${name}=${token.slice(0, 40)}`, { url, headers: json, payload: text });
        }
      }
      for (const b of HOSTILE_BODIES) await call(route, `body ${b.payload.slice(0, 40)} (${b.type ?? 'json'})`, { url, headers: { 'content-type': b.type ?? 'application/json' }, payload: b.payload });
    }
  });

  it('random values in random fields (fast-check)', WALK, async () => {
    const value = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.bigInt().map((n) => n.toString()),
      fc.double().map(String),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString())),
      fc.jsonValue({ maxDepth: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), value, fc.constantFrom('param', 'query', 'body'), async (ri, fi, v, where) => {
        const route = routes[ri % routes.length];
        const params = baseParams(route);
        const pick = <T,>(xs: T[]) => xs[fi % xs.length];
        if (where === 'param' && Object.keys(params).length) {
          const name = pick(Object.keys(params));
          await call(route, `param ${name}`, { url: pathOf(route, { ...params, [name]: enc(asText(v)) }), ...(hasBody(route) ? { payload: {} } : {}) });
        } else if (where === 'query' && Object.keys(queryFields(route)).length) {
          const name = pick(Object.keys(queryFields(route)));
          await call(route, `query ${name}`, { url: `${pathOf(route, params)}?${new URLSearchParams({ [name]: asText(v) })}` });
        } else if (hasBody(route)) {
          const names = [...Object.keys(bodyFields(route)), 'x'];
          const body = { ...baseObject(route.schema?.body as Schema | undefined), [pick(names)]: v };
          await call(route, 'body', { url: pathOf(route, params), headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        }
      }),
      { numRuns: 1500, endOnFailure: true }, // no shrinking: each step is a request
    );
  });
});
