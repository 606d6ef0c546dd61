import { describe, it, expect } from 'vitest';
import { smoke } from '../../../src/rules/smoke.js';
import { Harness, device, elder, reading, T0, MIN } from './harness.js';

const sd = device('smoke-detector', { householdId: elder.id });

describe('smoke', () => {
  it('opens a critical alert titled with the flat on alarm', () => {
    const h = new Harness(smoke, { device: sd, household: elder, where: '6号楼302' });
    const [a] = h.read(reading(sd, 'alarm', T0, { smokePct: 35 }));
    expect(a).toMatchObject({ type: 'open', severity: 'critical', title: '6号楼302 烟感报警', details: { smokePct: 35, loneElder: true } });
  });

  it('opens on an alarm whose frame check failed, and says so in the details', () => {
    const h = new Harness(smoke, { device: sd, household: elder, where: '6号楼302' });
    const [a] = h.read(reading(sd, 'alarm', T0, { smokePct: 35, checksumOk: false }));
    expect(a).toMatchObject({ type: 'open', severity: 'critical', details: { checksumOk: false } });
  });

  it('never alerts on a test', () => {
    const h = new Harness(smoke, { device: sd });
    expect(smoke.subjects(reading(sd, 'test', T0), { device: sd })).toEqual([]);
    expect(h.read(reading(sd, 'test', T0))).toEqual([]);
  });

  it('notes alarm_cleared and silenced on the timeline but leaves resolving to a person', () => {
    const h = new Harness(smoke, { device: sd });
    h.read(reading(sd, 'alarm', T0));
    expect(h.read(reading(sd, 'silenced', T0 + MIN))).toEqual([expect.objectContaining({ type: 'note', note: '烟感已消音' })]);
    expect(h.read(reading(sd, 'alarm_cleared', T0 + 2 * MIN))).toEqual([expect.objectContaining({ type: 'note' })]);
    expect(h.alert).toBeDefined();
    expect(h.actionsOf('resolve')).toEqual([]);
  });

  it('has nothing to note when no alarm is open', () => {
    const h = new Harness(smoke, { device: sd });
    expect(h.read(reading(sd, 'alarm_cleared', T0))).toEqual([]);
  });

  it('counts a second alarm as a repeat of the open alert', () => {
    const h = new Harness(smoke, { device: sd });
    h.read(reading(sd, 'alarm', T0));
    h.read(reading(sd, 'alarm', T0 + MIN));
    expect(h.opened).toBe(1);
    expect(h.alert?.count).toBe(2);
  });

  it('ignores heartbeats', () => {
    expect(smoke.subjects(reading(sd, 'heartbeat', T0), { device: sd })).toEqual([]);
  });
});
