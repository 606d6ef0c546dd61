import { describe, it, expect } from 'vitest';
import { lowBattery } from '../../../src/rules/lowBattery.js';
import { Harness, device, elder, reading, T0, HOUR } from './harness.js';

const sd = device('smoke-detector', { householdId: elder.id });
const ps = device('parking-sensor', { id: 'ps-1', spaceId: 'sp-1' });

describe('low_battery', () => {
  it('opens on a smoke detector\'s low_battery event (major in a lone elder\'s flat)', () => {
    const h = new Harness(lowBattery, { device: sd, household: elder, label: '烟感' });
    expect(h.read(reading(sd, 'low_battery', T0, { batteryPct: 15 }))[0]).toMatchObject({ type: 'open', severity: 'major', title: '6号楼302 烟感电量低' });
  });

  it('opens on batteryPct at or below the threshold, or a decoder\'s battery health', () => {
    expect(new Harness(lowBattery, { device: ps }).read(reading(ps, 'heartbeat', T0, { batteryPct: 20 }))[0]).toMatchObject({ type: 'open', severity: 'minor' });
    expect(new Harness(lowBattery, { device: ps }).read(reading(ps, 'heartbeat', T0, { batteryHealth: 'critical', batteryPct: 60 }))).toHaveLength(1);
    expect(new Harness(lowBattery, { device: ps, config: { thresholdPct: 10 } }).read(reading(ps, 'heartbeat', T0, { batteryPct: 15 }))).toEqual([]);
  });

  it('counts once while the battery stays low', () => {
    const h = new Harness(lowBattery, { device: ps });
    h.read(reading(ps, 'heartbeat', T0, { batteryPct: 10 }));
    expect(h.read(reading(ps, 'heartbeat', T0 + HOUR, { batteryPct: 9 }))).toEqual([]);
  });

  it('is resolved by a later good report, not by one that says nothing about the battery', () => {
    const h = new Harness(lowBattery, { device: ps });
    h.read(reading(ps, 'heartbeat', T0, { batteryPct: 10 }));
    expect(lowBattery.subjects(reading(ps, 'state', T0 + HOUR, { occupied: true }), { device: ps })).toEqual([]);
    h.read(reading(ps, 'heartbeat', T0 + 2 * HOUR, { batteryPct: 95 }));
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: '电量已恢复（95%）' });
  });
});
