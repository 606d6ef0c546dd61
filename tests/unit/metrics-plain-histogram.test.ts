// shaobing_processing_seconds is observed for every message, so it is a PlainHistogram (src/metrics.ts: plain
// numbers, no label hashing per call) — and /metrics must show exactly what prom-client's Histogram would.
import { describe, it, expect } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { PlainHistogram, createMetrics } from '../../src/metrics.js';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

describe('PlainHistogram', () => {
  it('exports what prom-client\'s Histogram exports for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const plain = new PlainHistogram('x_seconds', 'help text', BOUNDS, ours);
    const hist = new Histogram({ name: 'x_seconds', help: 'help text', buckets: BOUNDS, registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics()); // empty
    // Bounds themselves (le is inclusive), between them, below the first, above the last, zero.
    const values = [...BOUNDS, 0, 0.0001, 0.003, 0.07, 0.7, 3, 7, 120, ...Array.from({ length: 200 }, (_, i) => (i * 0.037) % 6)];
    for (const v of values) {
      plain.observe(v);
      hist.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain(`x_seconds_count ${values.length}`);
    plain.observe(Number.NaN); // not a time: not counted (prom-client would throw on the hot path)
    expect(await ours.metrics()).toBe(await theirs.metrics());
    plain.reset();
    hist.reset();
    expect(await ours.metrics()).toContain('x_seconds_count 0');
  });

  it('is the app\'s processing histogram', async () => {
    const m = createMetrics();
    m.processing.observe(0.003);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE shaobing_processing_seconds histogram');
    expect(text).toContain('shaobing_processing_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('shaobing_processing_seconds_bucket{le="0.0025"} 0');
    expect(text).toContain('shaobing_processing_seconds_count 1');
  });
});
