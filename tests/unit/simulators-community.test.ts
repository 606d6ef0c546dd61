// The community simulator: the same seed sends the same bytes; what it sends is realistic (every message is
// valid in its device's own format, water use follows the day, NB meters batch, rush hours at the gate).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deviceKinds } from '../../devices/index.js';
import { compileValidators } from '../../src/ingest/validate.js';
import { CommunitySimulator, generate, type SimEvent } from '../../simulators/community.js';
import { loadCommunities } from '../../simulators/lib/inventory.js';
import { Rng } from '../../simulators/lib/prng.js';
import { cstHour, DAY, HOUR } from '../../simulators/lib/time.js';

const communities = loadCommunities();
const chunjiang = communities.find((c) => c.id === 'chunjiang')!;
const guihuayuan = communities.find((c) => c.id === 'guihuayuan')!;

function digest(events: SimEvent[]): string {
  const h = createHash('sha256');
  for (const e of events) h.update(e.type === 'api' ? `${e.t} api ${JSON.stringify(e.body)}\n` : `${e.t} ${e.deviceId} ${e.payload.toString('hex')}\n`);
  return h.digest('hex');
}

describe('seeded PRNG', () => {
  it('repeats for a seed, differs across seeds, and forks independent streams', () => {
    const a = new Rng('7');
    const b = new Rng('7');
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(new Rng('8').next()).not.toBe(seqA[0]);
    // A fork depends only on the seed and its name, not on what the parent drew before.
    const c = new Rng('7');
    c.next();
    expect(c.fork('meter/x').next()).toBe(new Rng('7').fork('meter/x').next());
  });
});

describe('community simulator', () => {
  const day = generate({ community: chunjiang, seed: 42 });

  it('is deterministic for a seed: the same bytes in the same order at the same times', () => {
    const again = generate({ community: chunjiang, seed: 42 });
    expect(again.events.length).toBe(day.events.length);
    expect(digest(again.events)).toBe(digest(day.events));
    expect(digest(generate({ community: chunjiang, seed: 43 }).events)).not.toBe(digest(day.events));
  });

  it('gives the same day whatever else the run contains (per-entity streams)', () => {
    const without = generate({ community: chunjiang, seed: 42, exclude: ['cj-sd-ebike-1'] });
    const pick = (events: SimEvent[]) => events.filter((e) => e.type === 'mqtt' && e.deviceId === 'cj-wm-1-103');
    expect(digest(pick(without.events))).toBe(digest(pick(day.events)));
  });

  it('emits events in time order within the run, every message valid in its device’s own format', () => {
    const validators = compileValidators(deviceKinds);
    let last = -Infinity;
    for (const e of day.events) {
      expect(e.t).toBeGreaterThanOrEqual(last);
      last = e.t;
      expect(e.t).toBeGreaterThanOrEqual(day.sim.start);
      expect(e.t).toBeLessThan(day.sim.end);
      if (e.type !== 'mqtt') continue;
      const device = day.sim.devices.get(e.deviceId)!;
      const decoder = deviceKinds.find((k) => k.kind === device.info.kind)!.decoders.find((d) => d.format === device.info.format)!;
      const res = decoder.decode(e.payload, { deviceId: e.deviceId, receivedAt: e.t, lane: device.info.lane }); // what the service knows of the camera
      expect(res.ok, `${e.deviceId}: ${e.payload.toString()}`).toBe(true);
      if (res.ok) expect(validators.get(device.info.kind)!(res.payload)).toEqual({ ok: true });
    }
  });

  it('plays every device of the inventory', () => {
    const sending = new Set(day.events.flatMap((e) => (e.type === 'mqtt' ? [e.deviceId] : [])));
    expect([...sending].sort()).toEqual(chunjiang.devices.map((d) => d.id).sort());
  });

  it('water: morning and evening peaks, quiet nights, NB meters batched twice a day, canonical meters hourly', () => {
    const byHour = new Array<number>(24).fill(0);
    const uploads = new Map<string, number>();
    for (const e of day.events) {
      if (e.type !== 'mqtt' || e.canonical.type !== 'reading') continue;
      uploads.set(e.deviceId, (uploads.get(e.deviceId) ?? 0) + 1);
      for (const i of (e.canonical.intervals ?? []) as Array<{ start: string; end: string; litres: number }>) {
        expect(Date.parse(i.end) - Date.parse(i.start)).toBe(15 * 60_000);
        byHour[Math.floor(cstHour(Date.parse(i.start)))] += i.litres;
      }
    }
    const night = byHour.slice(0, 5).reduce((a, b) => a + b, 0);
    const morning = byHour.slice(6, 9).reduce((a, b) => a + b, 0);
    const evening = byHour.slice(18, 21).reduce((a, b) => a + b, 0);
    const afternoon = byHour.slice(13, 16).reduce((a, b) => a + b, 0);
    expect(morning).toBeGreaterThan(5 * night);
    expect(evening).toBeGreaterThan(2 * afternoon);
    for (const d of chunjiang.devices.filter((d) => d.kind === 'water-meter')) {
      const n = uploads.get(d.id) ?? 0;
      if (d.format === 'nb-batch') expect(n, d.id).toBeLessThanOrEqual(2);
      else expect(n, d.id).toBeGreaterThanOrEqual(23);
    }
    // An NB batch carries hours of 15-minute intervals.
    const batch = day.events.find((e) => e.type === 'mqtt' && e.deviceId === 'cj-wm-1-203' && e.canonical.type === 'reading');
    expect(((batch as unknown as { canonical: { intervals: unknown[] } }).canonical.intervals ?? []).length).toBeGreaterThanOrEqual(20);
  });

  it('gate: residents leave in the morning rush and come back in the evening; visitors come by day', () => {
    const reads = day.events.filter((e) => e.type === 'mqtt' && e.canonical.type === 'plate') as Array<SimEvent & { type: 'mqtt' }>;
    const resident = new Set(chunjiang.buildings.flatMap((b) => b.households.flatMap((h) => h.plates)));
    const outs = reads.filter((e) => e.canonical.direction === 'out' && resident.has(String(e.canonical.plate)));
    const ins = reads.filter((e) => e.canonical.direction === 'in' && resident.has(String(e.canonical.plate)));
    const inRush = (list: typeof reads, from: number, to: number) => list.filter((e) => cstHour(e.t) >= from && cstHour(e.t) < to).length;
    expect(inRush(outs, 6.5, 9.5)).toBeGreaterThan(outs.length / 2);
    expect(inRush(ins, 16.5, 21)).toBeGreaterThan(ins.length / 2);
    const visitors = reads.filter((e) => !resident.has(String(e.canonical.plate)));
    expect(visitors.length).toBeGreaterThan(10);
    // Registered visitors are registered before they arrive.
    const registered = day.events.filter((e) => e.type === 'api');
    expect(registered.length).toBeGreaterThan(0);
    for (const r of registered) {
      const plate = (r as unknown as { body: { plate: string } }).body.plate;
      const arrival = visitors.find((e) => e.canonical.plate === plate && e.canonical.direction === 'in');
      if (arrival) expect(r.t).toBeLessThanOrEqual(arrival.t);
    }
  });

  it('heartbeats per kind: the gate every minute, parking sensors every 6 h, smoke detectors daily', () => {
    const beats = (id: string) => day.events.filter((e) => e.type === 'mqtt' && e.deviceId === id && e.canonical.type === 'heartbeat').length;
    expect(beats('cj-gt-main')).toBe(1440);
    expect(beats('cj-ps-001')).toBe(4);
    expect(beats('cj-sd-8-104')).toBe(1);
  });

  it('runs at any length and start, and scripted stories come at their time', () => {
    const start = Date.parse('2026-03-07T00:00:00+08:00');
    const sim = new CommunitySimulator({
      community: guihuayuan,
      seed: 'x',
      start,
      durationMs: 3 * DAY,
      inject: [{ at: 30 * 60_000, deviceId: 'gh-sd-6-302', helper: 'alarm' }],
    });
    const events = [...sim.events()];
    const alarm = events.find((e) => e.type === 'mqtt' && e.deviceId === 'gh-sd-6-302' && e.canonical.type === 'alarm');
    expect(alarm?.t).toBe(start + 30 * 60_000);
    expect(events.at(-1)!.t).toBeGreaterThan(start + 2 * DAY + 20 * HOUR);
    expect(() => new CommunitySimulator({ community: guihuayuan, seed: 1, inject: [{ at: 0, deviceId: 'nope', helper: 'alarm' }] })).toThrow(/unknown device/);
  });
});
