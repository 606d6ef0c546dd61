import { describe, it, expect } from 'vitest';
import { deviceFault } from '../../../src/rules/deviceFault.js';
import { Harness, device, family, reading, T0, HOUR } from './harness.js';

const sd = device('smoke-detector', { householdId: family.id });
const wm = device('water-meter', { id: 'wm-1' });
const ps = device('parking-sensor', { id: 'ps-1', spaceId: 'sp-1' });

describe('device_fault', () => {
  it('opens on a smoke detector fault, a valve fault or reverse flow, and a parking sensor\'s hardware status', () => {
    expect(new Harness(deviceFault, { device: sd, label: '烟感' }).read(reading(sd, 'fault', T0, { event: 'failover' }))[0]).toMatchObject({
      type: 'open',
      title: '6号楼302 烟感故障',
      details: { fault: 'failover' },
    });
    expect(new Harness(deviceFault, { device: wm }).read(reading(wm, 'alarm', T0, { code: 'valve_fault' }))[0]).toMatchObject({ details: { fault: 'valve_fault' } });
    expect(new Harness(deviceFault, { device: wm }).read(reading(wm, 'alarm', T0, { code: 'reverse_flow' }))).toHaveLength(1);
    expect(new Harness(deviceFault, { device: ps }).read(reading(ps, 'heartbeat', T0, { hwHealthStatus: 2 }))[0]).toMatchObject({ details: { fault: 'hw_health_status 2' } });
    expect(new Harness(deviceFault, { device: ps }).read(reading(ps, 'heartbeat', T0, { hwHealthStatus: 0 }))).toEqual([]);
  });

  it('leaves leak and tamper alarms to their own rules', () => {
    expect(new Harness(deviceFault, { device: wm }).read(reading(wm, 'alarm', T0, { code: 'leak' }))).toEqual([]);
  });

  it('is resolved by a later good report', () => {
    const h = new Harness(deviceFault, { device: ps });
    h.read(reading(ps, 'heartbeat', T0, { hwHealthStatus: 2 }));
    expect(h.read(reading(ps, 'heartbeat', T0 + HOUR, { hwHealthStatus: 2 }))).toEqual([]);
    h.read(reading(ps, 'heartbeat', T0 + 2 * HOUR, { hwHealthStatus: 0 }));
    expect(h.alert).toBeUndefined();
  });
});
