// Lifecycle calls as the README shows them (no body), and the error contract: every answer the API gives in
// error carries a stable SB_* code from the one registry (src/errors.ts), never Fastify's own FST_ERR_*.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startAlertsApp, T0, at, type AlertsEnv } from './alertsHarness.js';
import { auth, sampleSecrets } from '../helpers.js';
import type { InjectOptions } from 'fastify';
import { ERRORS, toAppError } from '../../src/errors.js';

let env: AlertsEnv;
beforeAll(async () => {
  env = await startAlertsApp();
});
afterAll(() => env?.close());

const inject = (opts: InjectOptions) => env.t.app.api.inject(opts);

describe('lifecycle calls without a body', () => {
  it('POST …/ack and …/accept work with no body, and with a JSON content type and an empty body', async () => {
    const sd = await env.device('gh-sd-6-302');
    await sd.send({ type: 'alarm', ts: at(T0) });
    const a = await env.waitAlert({ kind: 'smoke', deviceId: 'gh-sd-6-302', status: 'open' });
    // curl -X POST -H 'Authorization: Bearer …' …/ack — no body, no content type.
    const ack = await inject({ method: 'POST', url: `/api/alerts/${a.id}/ack`, headers: auth() });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'acknowledged' });

    const head = sampleSecrets.people['gh-head-g2'];
    const member = sampleSecrets.people['gh-member-g2-1'];
    // A dispatch needs its assignee: the missing field is named, with the validation code.
    const missing = await inject({ method: 'POST', url: `/api/alerts/${a.id}/dispatch`, headers: auth(head) });
    expect(missing.json()).toMatchObject({ statusCode: 400, code: 'SB_VALIDATION' });
    expect(missing.json().message).toContain('assignee');
    await inject({ method: 'POST', url: `/api/alerts/${a.id}/dispatch`, headers: auth(head), payload: { assignee: 'gh-member-g2-1' } });
    // A JSON content type with an empty body (what many HTTP clients send for a bodiless POST).
    const accept = await inject({ method: 'POST', url: `/api/alerts/${a.id}/accept`, headers: { ...auth(member), 'content-type': 'application/json' }, payload: '' });
    expect(accept.statusCode, accept.body).toBe(200);
    expect(accept.json()).toMatchObject({ status: 'accepted', assignee: 'gh-member-g2-1' });
    const resolve = await inject({ method: 'POST', url: `/api/alerts/${a.id}/resolve`, headers: { ...auth(member), 'content-type': 'application/json; charset=utf-8' } });
    expect(resolve.json()).toMatchObject({ status: 'resolved' });
    await sd.end();
  });
});

describe('error codes', () => {
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['malformed JSON', { method: 'POST', url: '/api/alerts/1/ack', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"a":' }, 400, 'SB_INVALID_JSON'],
    ['a form post to the API', { method: 'POST', url: '/api/alerts/1/ack', headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' }, 415, 'SB_UNSUPPORTED_MEDIA_TYPE'],
    ['an XML body', { method: 'POST', url: '/api/visitors', headers: { ...auth(), 'content-type': 'text/xml' }, payload: '<a/>' }, 415, 'SB_UNSUPPORTED_MEDIA_TYPE'],
    ['a body over the limit', { method: 'POST', url: '/api/alerts/1/resolve', headers: { ...auth(), 'content-type': 'application/json' }, payload: JSON.stringify({ note: 'x'.repeat(1_100_000) }) }, 413, 'SB_PAYLOAD_TOO_LARGE'],
    ['a malformed URL', { method: 'GET', url: '/api/alerts/%E0%A4%A', headers: auth() }, 400, 'SB_BAD_REQUEST'],
    ['an unknown route', { method: 'GET', url: '/nothing-here' }, 404, 'SB_NOT_FOUND'],
    ['a wrong method', { method: 'DELETE', url: '/api/alerts/1', headers: auth() }, 404, 'SB_NOT_FOUND'],
    ['a bad id', { method: 'GET', url: '/api/alerts/abc', headers: auth() }, 400, 'SB_VALIDATION'],
    ['no token', { method: 'GET', url: '/api/alerts' }, 401, 'SB_UNAUTHORIZED'],
  ];
  for (const [what, req, status, code] of cases)
    it(`${what} → ${status} ${code}`, async () => {
      const res = await inject(req);
      expect(res.statusCode, res.body).toBe(status);
      const body = res.json() as { statusCode: number; code: string; message: string };
      expect(body).toMatchObject({ statusCode: status, code });
      expect(res.body).not.toMatch(/FST_|stack|node_modules/);
    });

  it('every code in the registry is SB_ with the status it is answered with', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^SB_[A-Z_]+$/);
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('the one-tap page answers a wrong content type with a Chinese page, not JSON', async () => {
    const res = await inject({ method: 'POST', url: '/ack/abc.def', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('无法处理此请求');
    expect(res.body).not.toContain('FST_');
  });
});

describe('an error of ours', () => {
  it('is SB_INTERNAL with a fixed message: neither the stack nor the internal message reaches the caller', () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'gridId') at /srv/shaobing/src/api/x.ts:12:3");
    const e = toAppError(err);
    expect(e.toJSON()).toEqual({ statusCode: 500, code: 'SB_INTERNAL', message: 'internal error' });
    expect(JSON.stringify(e)).not.toMatch(/gridId|\.ts|stack/);
    // A database error carries a code, but not one of ours.
    expect(toAppError(Object.assign(new Error('datatype mismatch'), { code: 'SQLITE_MISMATCH' })).code).toBe('SB_INTERNAL');
  });
});
