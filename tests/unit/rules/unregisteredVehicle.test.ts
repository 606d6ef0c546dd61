import { describe, it, expect } from 'vitest';
import { unregisteredVehicle, plateSubject } from '../../../src/rules/unregisteredVehicle.js';
import { Harness, device, reading, T0, HOUR } from './harness.js';
import type { GateInfo } from '../../../src/rules/lib/types.js';

const gate: GateInfo = { id: 'gate-main', name: '小区大门', lotId: 'lot1', gridId: 'g1', communityId: 'c1' };
const cam = device('smart-gate', { gateId: gate.id, lotId: 'lot1' });
const plate = (p: string, direction: 'in' | 'out', ts = T0, extra: Record<string, unknown> = {}) =>
  reading(cam, 'plate', ts, { plate: p, direction, ...extra });

function at(p: string, opts: { residents?: string[]; visitors?: Record<string, number> } = {}) {
  return new Harness(unregisteredVehicle, { device: cam, gate, where: gate.name, subject: plateSubject('c1', p), ...opts });
}

describe('unregistered_vehicle', () => {
  it('lets residents in silently', () => {
    expect(at('沪A12345', { residents: ['沪A12345'] }).read(plate('沪A12345', 'in'))).toEqual([]);
  });

  it('alerts on a plate on nobody\'s list, with the plate', () => {
    const h = at('沪B99999');
    const [a] = h.read(plate('沪B99999', 'in', T0, { lane: 'in', confidence: 96 }));
    expect(a).toMatchObject({ type: 'open', severity: 'minor', title: '小区大门 未登记车辆入场 沪B99999', place: { plate: '沪B99999' } });
  });

  it('knows a registered visitor until the registration runs out', () => {
    const visitors = { 沪C00001: T0 + HOUR };
    expect(at('沪C00001', { visitors }).read(plate('沪C00001', 'in', T0))).toEqual([]);
    const late = at('沪C00001', { visitors }).read(plate('沪C00001', 'in', T0 + 2 * HOUR));
    expect(late[0]).toMatchObject({ type: 'open', details: { visitorExpiredAt: new Date(T0 + HOUR).toISOString() } });
  });

  it('reads the plate the same however it is written', () => {
    expect(plateSubject('c1', '沪a·123 45')).toBe('c1/沪A12345');
  });

  it('looks at entries only', () => {
    expect(unregisteredVehicle.subjects(plate('沪B99999', 'out'), { device: cam })).toEqual([]);
  });

  it('skips a read the camera is unsure of', () => {
    expect(at('沪B99999').read(plate('沪B99999', 'in', T0, { confidence: 40 }))).toEqual([]);
  });

  it('is resolved when a person registers the car as a visitor', () => {
    const h = at('沪B99999');
    h.read(plate('沪B99999', 'in'));
    const out = h.run({ type: 'visitor', until: T0 + 4 * HOUR, by: 'duty-1' }, T0 + 60_000);
    expect(out).toEqual([{ type: 'resolve', reason: '已登记为访客（duty-1）' }]);
  });
});
