// Bounds checked before anything uses a value (issue 11): times inside 2000–2100, finite numbers, JSON depth
// and UTF-8 — called directly, as decoders and validators are pure.
import { describe, it, expect } from 'vitest';
import { compileValidators, plainJsonProblem, plausibleTime, PLAUSIBLE_TIME } from '../../src/ingest/validate.js';
import { jsonDeeperThan, parseJsonObject, MAX_JSON_DEPTH } from '../../devices/shared/json.js';
import { deviceKinds } from '../../devices/index.js';

const validators = compileValidators(deviceKinds);
const smoke = validators.get('smoke-detector')!;
const meter = validators.get('water-meter')!;

describe('event times', () => {
  it('takes 2000–2100 as epoch ms or RFC 3339, and nothing outside', () => {
    expect(plausibleTime(Date.UTC(2026, 2, 1))).toBe(Date.UTC(2026, 2, 1));
    expect(plausibleTime('2026-03-01T08:00:00+08:00')).toBe(Date.parse('2026-03-01T08:00:00+08:00'));
    for (const bad of [1e300, 8.64e15, 8.64e15 + 1, -1, 0, PLAUSIBLE_TIME.max, '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'soon', NaN, Infinity])
      expect(plausibleTime(bad), String(bad)).toBeNaN();
  });

  it('makes a time out of range a bad_timestamp, in ts and in water intervals, whatever else is wrong', () => {
    expect(smoke({ type: 'heartbeat', ts: 1e300 })).toMatchObject({ ok: false, code: 'bad_timestamp' });
    expect(smoke({ type: 'alarm', ts: '0001-01-01T00:00:00Z' })).toMatchObject({ ok: false, code: 'bad_timestamp' });
    expect(smoke({ type: 'heartbeat', ts: 915148800000 })).toMatchObject({ ok: false, code: 'bad_timestamp' });
    const iv = { start: '2026-03-01T08:00:00Z', end: '0001-01-01T00:00:00Z', litres: 1 };
    expect(meter({ type: 'reading', totalM3: 1, intervals: [iv] })).toMatchObject({ ok: false, code: 'bad_timestamp', message: expect.stringContaining('/intervals/0/end') });
    expect(smoke({ type: 'heartbeat', ts: Date.UTC(2026, 0, 1) })).toEqual({ ok: true });
    expect(smoke({ type: 'heartbeat', ts: true })).toMatchObject({ ok: false, code: 'invalid_payload' });
  });
});

describe('numbers', () => {
  it('refuses non-finite numbers the schema types, and numbers beyond their bounds', () => {
    expect(meter({ type: 'reading', totalM3: Infinity })).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(meter({ type: 'reading', totalM3: NaN })).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(meter({ type: 'reading', totalM3: 1e300 })).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(meter({ type: 'reading', totalM3: 123.457, flowLph: 1e12 })).toMatchObject({ ok: false, code: 'invalid_payload' });
  });

  it('finds a non-finite number or deep nesting anywhere in a decoded payload, unknown fields included', () => {
    expect(plainJsonProblem({ type: 'heartbeat', extra: { deep: [1, 2, -Infinity] } })).toBe('/extra/deep/2: -Infinity is not a finite number');
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(plainJsonProblem({ type: 'heartbeat', x: deep })).toMatch(/nested deeper than 32 levels/);
    expect(plainJsonProblem({ type: 'reading', totalM3: 1, intervals: [{ start: 1, end: 2, litres: 3 }] })).toBeNull();
  });
});

describe('JSON text', () => {
  it('measures nesting in one pass, ignoring brackets inside strings', () => {
    expect(jsonDeeperThan(Buffer.from('{"a":[[1]]}'), 3)).toBe(false);
    expect(jsonDeeperThan(Buffer.from('{"a":[[[1]]]}'), 3)).toBe(true);
    expect(jsonDeeperThan(Buffer.from('{"a":"[[[[[[\\"[[[["}'), 1)).toBe(false);
  });

  it('refuses 6,000 levels of nesting and bad UTF-8 before parsing, with a reason', () => {
    const deep = Buffer.from(`{"type":"heartbeat","x":${'['.repeat(6000)}${']'.repeat(6000)}}`);
    expect(parseJsonObject(deep)).toEqual({ ok: false, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
    const bad = Buffer.concat([Buffer.from('{"type":"heartbeat","n":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(parseJsonObject(bad)).toEqual({ ok: false, message: 'not valid UTF-8 text' });
    expect(parseJsonObject(Buffer.from('{"plate":"沪A12345"}'))).toEqual({ ok: true, value: { plate: '沪A12345' }, text: '{"plate":"沪A12345"}' });
  });
});

describe('history payload text', () => {
  it('is the text a canonical payload was parsed from, and JSON.stringify for any other object', async () => {
    const { payloadJson, canonicalJsonDecoder } = await import('../../devices/shared/json.js');
    const text = '{ "type": "reading", "totalM3": 1.50, "extra": {"a": [1, 2]} }';
    const res = canonicalJsonDecoder('test').decode(Buffer.from(text), { deviceId: 'd', receivedAt: 0 });
    if (!res.ok) throw new Error(res.message);
    expect(res.text).toBe(text);
    const reading = { payload: res.payload, payloadText: res.text };
    expect(payloadJson(reading)).toBe(text);
    expect(JSON.parse(payloadJson(reading))).toEqual(res.payload);
    // A payload without its text (another decoder's, built from fields) is stringified.
    const added = { ...res.payload, direction: 'in' };
    expect(payloadJson({ payload: added })).toBe(JSON.stringify(added));
  });
});
