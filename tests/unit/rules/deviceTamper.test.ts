import { describe, it, expect } from 'vitest';
import { deviceTamper } from '../../../src/rules/deviceTamper.js';
import { Harness, device, elder, family, reading, T0, HOUR } from './harness.js';

const sd = device('smoke-detector', { householdId: elder.id });
const wm = device('water-meter', { id: 'wm-1', householdId: family.id });

describe('device_tamper', () => {
  it('opens when a smoke detector is removed (major in a lone elder\'s flat)', () => {
    const h = new Harness(deviceTamper, { device: sd, household: elder, label: '烟感' });
    expect(h.read(reading(sd, 'tamper', T0, { event: 'removed' }))[0]).toMatchObject({
      type: 'open',
      severity: 'major',
      title: '6号楼302 烟感防拆报警',
      details: { event: 'removed' },
    });
  });

  it('opens on a water meter\'s tamper alarm', () => {
    const h = new Harness(deviceTamper, { device: wm, household: family, label: '智能水表' });
    expect(h.read(reading(wm, 'alarm', T0, { code: 'tamper' }))[0]).toMatchObject({ type: 'open', severity: 'minor', details: { event: 'tamper' } });
  });

  it('is resolved by a later routine report (the detector put back), not by another alarm', () => {
    const h = new Harness(deviceTamper, { device: sd, household: elder });
    h.read(reading(sd, 'tamper', T0));
    expect(h.read(reading(sd, 'alarm', T0 + HOUR))).toEqual([]);
    h.read(reading(sd, 'heartbeat', T0 + 2 * HOUR, { event: 'installed' }));
    expect(h.alert).toBeUndefined();
  });
});
