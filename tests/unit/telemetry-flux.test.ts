// No InfluxDB 2 server runs here (victoria-metrics takes line protocol but does not speak Flux), so the
// history queries are checked by shape: the exact text sent, which an InfluxDB 2 would run.
import { describe, it, expect } from 'vitest';
import { batteryQuery, occupancyBeforeQuery, occupancyReportsQuery, waterIntervalsQuery, waterRegisterQuery } from '../../src/telemetry/flux.js';

const from = Date.parse('2025-03-01T00:00:00+08:00'); // 2025-02-28T16:00:00Z
const target = { bucket: 'shaobing', measurement: 'water_meter', device: 'wm-"6"-302', from, to: from + 86_400_000, every: 3_600_000 };

describe('Flux history queries', () => {
  it('sums interval litres per bucket, counting an interval in the bucket of its last instant', () => {
    expect(waterIntervalsQuery(target).toString()).toBe(`from(bucket: "shaobing")
  |> range(start: 2025-02-28T16:00:00.001Z, stop: 2025-03-01T16:00:00.001Z)
  |> filter(fn: (r) => r._measurement == "water_meter" and r.device == "wm-\\"6\\"-302" and r._field == "litres")
  |> timeShift(duration: -1ms)
  |> aggregateWindow(every: 3600000ms, offset: 0ms, fn: sum, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`);
  });

  it('aligns day buckets to `from` (local midnight) through the window offset', () => {
    const q = batteryQuery({ ...target, every: 86_400_000 }).toString();
    // 16:00 UTC is 57 600 000 ms into the UTC day.
    expect(q).toContain('aggregateWindow(every: 86400000ms, offset: 57600000ms, fn: last, createEmpty: true, timeSrc: "_start")');
    expect(q).toContain('r._field == "batteryPct"');
  });

  it('takes register rises with difference(nonNegative) from a week before the range, in litres', () => {
    const q = waterRegisterQuery(target).toString();
    expect(q).toContain('range(start: 2025-02-21T16:00:00.000Z, stop: 2025-03-01T16:00:00.000Z)');
    expect(q).toContain('|> difference(nonNegative: true)\n  |> map(fn: (r) => ({r with _value: r._value * 1000.0}))\n  |> range(start: 2025-02-28T16:00:00.000Z');
  });

  it('reads the occupancy state before the range and every report inside it', () => {
    const t = { ...target, measurement: 'parking_sensor', device: 'ps-1' };
    expect(occupancyBeforeQuery(t).toString()).toContain('range(start: 2025-01-29T16:00:00.000Z, stop: 2025-02-28T16:00:00.000Z)');
    expect(occupancyBeforeQuery(t).toString()).toContain('|> last()');
    expect(occupancyReportsQuery(t).toString()).toContain('r._measurement == "parking_sensor" and r.device == "ps-1" and r._field == "occupied"');
  });
});
