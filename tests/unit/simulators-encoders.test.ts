// Every simulator encoder against the project's own decoder: encode → devices/<kind>/decoders/<format> → the
// same canonical payload. Walks everything registered (STYLE.md habit 5), so a new vendor format without an
// encoder, or an encoder that drifts from its decoder, fails here.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceKinds } from '../../devices/index.js';
import { compileValidators } from '../../src/ingest/validate.js';
import type { CanonicalPayload, DecodeContext } from '../../src/ingest/types.js';
import { encoders, findEncoder } from '../../simulators/devices/encoders/index.js';
import { createDevice } from '../../simulators/devices/index.js';
import { WaterMeterSim } from '../../simulators/devices/water-meter.js';

const validators = compileValidators(deviceKinds);
const T0 = Date.parse('2026-03-01T08:00:00+08:00');

function decode(kind: string, format: string, bytes: Buffer, extra: Partial<DecodeContext> = {}): CanonicalPayload {
  const decoder = deviceKinds.find((k) => k.kind === kind)!.decoders.find((d) => d.format === format)!;
  const res = decoder.decode(bytes, { deviceId: 'sim', receivedAt: T0, ...extra });
  if (!res.ok) throw new Error(`${kind}/${format} did not decode ${bytes.toString('utf8')}: ${res.error} ${res.message}`);
  return res.payload;
}

/** `ts` compared as an instant: a format may carry "…+08:00" as epoch ms. */
function normaliseTs(p: Record<string, unknown>): Record<string, unknown> {
  return p.ts === undefined ? p : { ...p, ts: typeof p.ts === 'string' ? Date.parse(p.ts) : p.ts };
}

describe('every vendor format has an encoder', () => {
  for (const kind of deviceKinds) {
    for (const decoder of kind.decoders) {
      it(`${kind.kind}/${decoder.format}`, () => {
        expect(findEncoder(kind.kind, decoder.format), `simulators/devices/encoders/${kind.kind}/${decoder.format}.ts`).toBeDefined();
      });
    }
  }
  it('and no encoder is left without a decoder', () => {
    for (const e of encoders) expect(deviceKinds.find((k) => k.kind === e.kind)?.decoders.some((d) => d.format === e.format), `${e.kind}/${e.format}`).toBe(true);
  });
});

describe('round trip of the project examples: encode(expected) decodes to exactly expected', () => {
  for (const kind of deviceKinds) {
    for (const decoder of kind.decoders) {
      const dir = join('devices', kind.kind, 'examples', decoder.format, 'valid');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) {
        if (file.endsWith('.context.json')) continue;
        if (decoder.format === 'canonical') {
          // A canonical example with an .expected.json sibling (the decoder adds to it) round-trips that instead.
          if (!file.endsWith('.json') || (!file.endsWith('.expected.json') && existsSync(join(dir, file.replace(/\.json$/, '.expected.json'))))) continue;
        } else if (!file.endsWith('.expected.json')) continue;
        it(`${kind.kind}/${decoder.format}/${file}`, () => {
          const expected = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CanonicalPayload;
          // What the service knows of the example's device (a gate camera's lane), as devices.test.ts reads it.
          const contextFile = join(dir, file.replace(/(\.expected)?\.json$/, '.context.json'));
          const context = existsSync(contextFile) ? (JSON.parse(readFileSync(contextFile, 'utf8')) as Partial<DecodeContext>) : {};
          const encoder = findEncoder(kind.kind, decoder.format)!;
          const bytes = encoder.encode(expected, { deviceId: 'example', seq: 1, lane: context.lane });
          expect(decode(kind.kind, decoder.format, bytes, context)).toEqual(expected);
        });
      }
    }
  }
});

/** Every helper of every kind simulator, in every format of that kind. */
const HELPER_ARGS: Record<string, Record<string, unknown>> = {
  enter: { plate: '沪A12345' },
  exit: { plate: '沪AD12345' },
  reading: { litres: [0, 3, 12, 7] },
  alarm: {},
};

describe('round trip of every simulator helper, in every format: decode(encode(p)) carries p', () => {
  for (const kind of deviceKinds) {
    for (const decoder of kind.decoders) {
      const device = createDevice({ id: `sim-${kind.kind}`, kind: kind.kind, format: decoder.format, communityId: 'sim' });
      for (const name of Object.keys(device.helpers)) {
        it(`${kind.kind}/${decoder.format} ${name}`, () => {
          const m = device.helper(name, T0 + 15 * 60_000, HELPER_ARGS[name] ?? {});
          const decoded = decode(kind.kind, decoder.format, m.payload);
          expect(validators.get(kind.kind)!(decoded)).toEqual({ ok: true });
          const lost = new Set(device.encoder.lostFields?.(m.canonical) ?? []);
          const carried = Object.fromEntries(Object.entries(m.canonical).filter(([k]) => !lost.has(k)));
          carried.type = device.encoder.typeAs?.[m.canonical.type] ?? m.canonical.type;
          expect(normaliseTs(decoded)).toMatchObject(normaliseTs(carried));
        });
      }
    }
  }

  it('GS524N frames checksum to zero, also as hex text', () => {
    const device = createDevice({ id: 'gs', kind: 'smoke-detector', format: 'milesight-gs524n', communityId: 'sim' });
    const bin = device.helper('alarm', T0).payload;
    expect(bin).toHaveLength(6);
    expect(bin.reduce((s, b) => (s + b) & 0xff, 0)).toBe(0);
    device.encodeOptions = { hexText: true };
    const hex = device.helper('alarm', T0).payload;
    expect(hex.toString('latin1')).toBe(bin.toString('hex').toUpperCase());
    expect(decode('smoke-detector', 'milesight-gs524n', hex)).toEqual(decode('smoke-detector', 'milesight-gs524n', bin));
  });

  it('Vzenith in the vzicloud envelope carries the plate base64 and decodes the same', () => {
    const gate = createDevice({ id: 'gt', kind: 'smart-gate', format: 'vzenith', communityId: 'sim' });
    const push = gate.helper('enter', T0, { plate: '赣GZ7S13' });
    gate.encodeOptions = { wrapping: 'envelope' };
    const env = gate.helper('enter', T0, { plate: '赣GZ7S13' });
    expect(env.payload.toString()).toContain('6LWjR1o3UzEz');
    const a = decode('smart-gate', 'vzenith', push.payload);
    const b = decode('smart-gate', 'vzenith', env.payload);
    expect({ ...b, plateid: 0 }).toEqual({ ...a, plateid: 0 });
  });

  it('an NB batch of a day keeps its 96 interval timestamps and the register', () => {
    const meter = new WaterMeterSim({ id: 'nb', kind: 'water-meter', format: 'nb-batch', communityId: 'sim' });
    for (let i = 0; i < 96; i++) meter.record(T0 + i * 900_000, T0 + (i + 1) * 900_000, i % 7);
    const m = meter.message(T0 + 86_400_000 + 12_000, meter.reading(T0 + 86_400_000 + 12_000));
    expect(JSON.parse(m.payload.toString()).intervals[0]).not.toHaveProperty('start'); // as real batches: end only
    const decoded = decode('water-meter', 'nb-batch', m.payload);
    expect(decoded.intervals).toEqual(m.canonical.intervals);
    expect(decoded.totalM3).toBe(m.canonical.totalM3);
  });
});
