// Property-based fuzzing of every decoder and the checks after it (fast-check): whatever bytes arrive, a
// decoder returns a canonical payload or a coded reason — it never throws — and the bounds and schema checks
// that follow never throw either, whatever the decoder produced. Generated payloads: tests/fuzzPayloads.ts.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { deviceKinds } from '../../devices/index.js';
import { compileValidators, plainJsonProblem, plausibleTime } from '../../src/ingest/validate.js';
import { formats, payloadArb } from '../fuzzPayloads.js';

const validators = compileValidators(deviceKinds);
const ctx = { deviceId: 'fuzz-device', receivedAt: Date.parse('2026-03-01T08:00:00+08:00') };
const CODES = ['decode_failed', 'invalid_payload', 'unknown_format', 'bad_timestamp'];
const seed = Number(process.env.FUZZ_SEED ?? 20261122);

describe('decoders under fuzzing', () => {
  for (const { kind, format, examples } of formats()) {
    it(`${kind}/${format}: every payload decodes to a canonical payload or a coded reason, and checking it never throws`, () => {
      const decoder = deviceKinds.find((k) => k.kind === kind)!.decoders.find((d) => d.format === format)!;
      const validate = validators.get(kind)!;
      let decoded = 0;
      fc.assert(
        fc.property(payloadArb(examples), (raw) => {
          const res = decoder.decode(raw, ctx);
          if (!res.ok) {
            expect(CODES).toContain(res.error);
            expect(typeof res.message).toBe('string');
            return;
          }
          decoded++;
          expect(typeof res.payload).toBe('object');
          if (plainJsonProblem(res.payload) === null) {
            const v = validate(res.payload);
            expect(typeof v.ok).toBe('boolean');
            // What passes can be stored and timed: it serialises, and its time is one a Date can format.
            if (v.ok) {
              expect(() => JSON.stringify(res.payload)).not.toThrow();
              if (res.payload.ts !== undefined) expect(new Date(plausibleTime(res.payload.ts)).toISOString()).toMatch(/^20\d\d-/);
            }
          }
        }),
        { numRuns: 400, seed },
      );
      // The generator reaches past the decoder too, not only into its error paths.
      expect(decoded).toBeGreaterThan(0);
    });
  }
});
