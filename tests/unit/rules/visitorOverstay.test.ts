import { describe, it, expect } from 'vitest';
import { visitorOverstay } from '../../../src/rules/visitorOverstay.js';
import { plateSubject } from '../../../src/rules/unregisteredVehicle.js';
import type { LotInfo } from '../../../src/config/inventory.js';
import type { GateInfo } from '../../../src/rules/lib/types.js';
import { Harness, device, reading, T0, HOUR, MIN } from './harness.js';

const lot: LotInfo = { id: 'lot1', name: '地面停车场', capacity: 10, gridId: 'g2', communityId: 'c1', spaceIds: [], gateIds: ['gate-main'] };
const gate: GateInfo = { id: 'gate-main', name: '小区大门', lotId: 'lot1', gridId: 'g2', communityId: 'c1' };
const cam = device('smart-gate', { gateId: gate.id, lotId: lot.id });
const P = '沪C00001';
const car = (direction: 'in' | 'out', ts: number) => reading(cam, 'plate', ts, { plate: P, direction });

function visitor(until = T0 + 2 * HOUR, config = {}) {
  return new Harness(visitorOverstay, { device: cam, lot, gate, subject: plateSubject('c1', P), visitors: { [P]: until }, config });
}

describe('visitor_overstay', () => {
  it('alerts when a visitor is still inside after its allowed time', () => {
    const h = visitor();
    h.read(car('in', T0));
    expect(h.deadline).toBe(T0 + 2 * HOUR);
    h.advance(T0 + 2 * HOUR);
    expect(h.actionsOf('open')[0]).toMatchObject({
      severity: 'minor',
      title: `访客车辆 ${P} 超时停留`,
      place: { gridId: 'g2', plate: P },
      details: { until: new Date(T0 + 2 * HOUR).toISOString(), lotId: 'lot1' },
    });
  });

  it('resolves automatically on exit and forgets the visit', () => {
    const h = visitor();
    h.read(car('in', T0));
    h.advance(T0 + 3 * HOUR);
    h.read(car('out', T0 + 3 * HOUR + MIN));
    expect(h.alert).toBeUndefined();
    expect(h.state).toBeUndefined();
    expect(h.deadline).toBeUndefined();
  });

  it('has nothing to say when the visitor leaves in time', () => {
    const h = visitor();
    h.read(car('in', T0));
    h.read(car('out', T0 + HOUR));
    h.advance(T0 + 5 * HOUR);
    expect(h.opened).toBe(0);
  });

  it('moves the deadline, and resolves an overstay, when a person extends the visit', () => {
    const h = visitor();
    h.read(car('in', T0));
    h.advance(T0 + 2 * HOUR);
    h.run({ type: 'visitor', until: T0 + 6 * HOUR, by: 'duty-1' }, T0 + 2 * HOUR + MIN);
    expect(h.alert).toBeUndefined();
    expect(h.deadline).toBe(T0 + 6 * HOUR);
  });

  it('allows the configured grace', () => {
    const h = visitor(T0 + 2 * HOUR, { graceMinutes: 15 });
    h.read(car('in', T0));
    expect(h.deadline).toBe(T0 + 2 * HOUR + 15 * MIN);
  });

  it('ignores residents, expired visitors (unregistered) and exits of cars never seen entering', () => {
    const resident = new Harness(visitorOverstay, { device: cam, lot, gate, subject: plateSubject('c1', P) });
    expect(resident.read(car('in', T0))).toEqual([]);
    const expired = visitor(T0 - HOUR);
    expect(expired.read(car('in', T0))).toEqual([]);
    expect(visitor().read(car('out', T0))).toEqual([]);
  });
});
