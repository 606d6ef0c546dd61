import { describe, it, expect } from 'vitest';
import { lotFull, lotOccupied, type LotState } from '../../../src/rules/lotFull.js';
import type { LotInfo, SpaceInfo } from '../../../src/config/inventory.js';
import { Harness, device, reading, T0, MIN } from './harness.js';

const lot: LotInfo = { id: 'lot1', name: '地面停车场', capacity: 3, gridId: 'g1', communityId: 'c1', spaceIds: ['b1', 'b2', 'b3'], gateIds: ['gate'] };
const cam = device('smart-gate', { gateId: 'gate', lotId: lot.id });
const car = (p: string, direction: 'in' | 'out', ts = T0) => reading(cam, 'plate', ts, { plate: p, direction });

const newLot = () => new Harness<LotState, typeof lotFull.defaults>(lotFull, { device: cam, lot, subject: lot.id });

describe('lot_full and live lot counts', () => {
  it('counts cars in and out at the gate', () => {
    const h = newLot();
    h.read(car('沪A00001', 'in'));
    h.read(car('沪A00002', 'in'));
    expect(h.lot).toBe(2);
    h.read(car('沪A00001', 'out'));
    expect(h.lot).toBe(1);
  });

  it('never goes negative on an out for a car never seen in', () => {
    const h = newLot();
    h.read(car('沪Z99999', 'out'));
    expect(h.state).toMatchObject({ occupied: 0, unmatchedOuts: 1 });
    h.read(car('沪A00001', 'in'));
    expect(h.state!.occupied).toBe(1); // the unmatched exit did not eat this car
  });

  it('counts a car read twice on the way in once', () => {
    const h = newLot();
    h.read(car('沪A00001', 'in'));
    h.read(car('沪A·00001', 'in', T0 + 5000));
    expect(h.state!.occupied).toBe(1);
  });

  it('opens lot_full at 0 free and resolves when a space frees', () => {
    const h = newLot();
    ['沪A00001', '沪A00002', '沪A00003'].forEach((p, i) => h.read(car(p, 'in', T0 + i * MIN)));
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'info', title: '地面停车场 车位已满', details: { capacity: 3, occupied: 3, free: 0 } });
    h.read(car('沪A00002', 'out', T0 + 10 * MIN));
    expect(h.alert).toBeUndefined();
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: '已有空余车位（1）' });
  });

  it('clamps to capacity, forgetting the longest-inside cars (their exits were missed)', () => {
    const h = newLot();
    ['沪A1', '沪A2', '沪A3', '沪A4'].forEach((p, i) => h.read(car(p, 'in', T0 + i * MIN)));
    expect(h.state!.occupied).toBe(3);
    expect(Object.keys(h.state!.inside)).toEqual(['沪A2', '沪A3', '沪A4']);
  });

  it('takes bay sensors as a floor, and as the truth once every space has reported', () => {
    expect(lotOccupied({ inside: { a: 1 }, bays: { b1: true, b2: true } }, 3)).toBe(2);
    expect(lotOccupied({ inside: { a: 1, b: 1, c: 1 }, bays: { b1: true, b2: false, b3: false } }, 3)).toBe(1);
    expect(lotOccupied({ inside: {}, bays: {} }, 3)).toBe(0);
  });

  it('follows bay sensors through their own readings', () => {
    const space: SpaceInfo = { id: 'b1', zone: 'resident', lotId: lot.id, gridId: 'g1', communityId: 'c1' };
    const ps = device('parking-sensor', { id: 'ps-b1', spaceId: 'b1', lotId: lot.id });
    expect(lotFull.subjects(reading(ps, 'state', T0, { occupied: true }), { device: ps, space })).toEqual(['lot1']);
    const h = new Harness<LotState, typeof lotFull.defaults>(lotFull, { device: ps, lot, space, subject: lot.id });
    h.read(reading(ps, 'state', T0, { occupied: true }));
    expect(h.lot).toBe(1);
    const fireLane = { ...space, zone: 'fire_lane' as const };
    expect(lotFull.subjects(reading(ps, 'state', T0, { occupied: true }), { device: ps, space: fireLane })).toEqual([]);
  });
});
