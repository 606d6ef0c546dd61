// Receipt times (issue 18): on the wall clock, the messages the broker hands ingest in one go (one socket read,
// one broker-thread frame) share one reading of the clock — Date.now() and performance.now() are read once per
// burst, not per message — and the next burst reads it again. Real app, real SQLite history.
import { describe, it, expect, afterAll } from 'vitest';
import { startApp, sampleDevices, waitFor, type TestApp } from '../helpers.js';

let t: TestApp | undefined;
afterAll(async () => t?.stop());

const [meter] = sampleDevices('water-meter', 'canonical', 'chunjiang');

describe('receipt time', () => {
  it('is read once per burst on the wall clock, and again for the next burst', async () => {
    t = await startApp();
    const { app } = t;
    const device = app.directory.devices.get(meter)!;
    expect(device).toBeDefined();
    const topic = `iot/chunjiang/${meter}/up`;
    const seen: number[] = [];
    app.bus.on('reading', 'test', (r) => {
      if (r.deviceId === meter) seen.push(r.receivedAt);
    });
    const before = Date.now();
    // One burst: three messages handed over in the same turn, 3 ms of work apart (a clock read per message
    // would give them different times).
    for (let i = 0; i < 3; i++) {
      app.ingest.submit(device, topic, Buffer.from(`{"type":"reading","totalM3":${100 + i}}`), 0, () => undefined);
      const until = Date.now() + 3;
      while (Date.now() < until); // busy, in the same turn
    }
    await waitFor(() => seen.length === 3, 'the first burst committed');
    await new Promise((r) => setTimeout(r, 20));
    app.ingest.submit(device, topic, Buffer.from('{"type":"reading","totalM3":104}'), 0, () => undefined);
    await waitFor(() => seen.length === 4, 'the second burst committed');
    expect(seen[0]).toBeGreaterThanOrEqual(before);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
    expect(seen[3]).toBeGreaterThanOrEqual(seen[0] + 20);
    expect(seen[3]).toBeLessThanOrEqual(Date.now());
  });
});
