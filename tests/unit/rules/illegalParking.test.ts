import { describe, it, expect } from 'vitest';
import { illegalParking } from '../../../src/rules/illegalParking.js';
import type { SpaceInfo } from '../../../src/config/inventory.js';
import { Harness, device, reading, T0, MIN } from './harness.js';

const fireLane: SpaceInfo = { id: 'sp-fl1', zone: 'fire_lane', label: '6号楼东侧 消防通道', lotId: 'lot1', gridId: 'g1', communityId: 'c1' };
const noParking: SpaceInfo = { ...fireLane, id: 'sp-np1', zone: 'no_parking', label: '垃圾分类投放点前 禁停' };
const bay: SpaceInfo = { ...fireLane, id: 'sp-01', zone: 'resident', label: '1号车位' };
const ps = device('parking-sensor', { spaceId: fireLane.id });
const S = 1000;

const sensor = (space = fireLane) => new Harness(illegalParking, { device: ps, space, where: space.label });
const state = (occupied: boolean, ts: number) => reading(ps, 'state', ts, { occupied });

describe('illegal_parking', () => {
  it('alerts when a fire lane stays occupied for 3 minutes, on the sensor\'s own times', () => {
    const h = sensor();
    h.read(state(true, T0));
    expect(h.deadline).toBe(T0 + 3 * MIN);
    h.advance(T0 + 3 * MIN - 1);
    expect(h.alert).toBeUndefined();
    h.advance(T0 + 3 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({
      severity: 'major',
      title: '6号楼东侧 消防通道占用',
      details: { zone: 'fire_lane', occupiedSince: new Date(T0).toISOString(), thresholdMinutes: 3 },
    });
  });

  it('gives a no-parking space 10 minutes and a minor alert', () => {
    const h = sensor(noParking);
    h.read(state(true, T0));
    h.advance(T0 + 9 * MIN);
    expect(h.alert).toBeUndefined();
    h.advance(T0 + 10 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'minor', title: '垃圾分类投放点前 禁停区域违停' });
  });

  it('leaves resident and visitor bays alone', () => {
    const d = device('parking-sensor', { spaceId: bay.id });
    expect(illegalParking.subjects(state(true, T0), { device: d, space: bay })).toEqual([]);
  });

  it('resolves once the space has stayed free past the flap time', () => {
    const h = sensor();
    h.read(state(true, T0));
    h.advance(T0 + 5 * MIN);
    h.read(state(false, T0 + 6 * MIN));
    expect(h.alert).toBeDefined();
    h.advance(T0 + 7 * MIN);
    expect(h.alert).toBeUndefined();
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: expect.stringContaining('车辆已驶离') });
  });

  it('keeps the dwell of a flapping sensor: free for a few seconds is the same car', () => {
    const h = sensor();
    h.read(state(true, T0));
    h.read(state(false, T0 + 60 * S));
    h.read(state(true, T0 + 70 * S));
    h.read(state(false, T0 + 100 * S));
    h.read(state(true, T0 + 105 * S));
    h.advance(T0 + 3 * MIN);
    expect(h.opened).toBe(1); // on time, counted from T0, not from the last flip
    // Flapping while alerted neither resolves nor opens again.
    h.read(state(false, T0 + 4 * MIN));
    h.read(state(true, T0 + 4 * MIN + 20 * S));
    h.advance(T0 + 10 * MIN);
    expect(h.alert).toBeDefined();
    expect(h.actionsOf('resolve')).toEqual([]);
    expect(h.opened).toBe(1);
  });

  it('starts a new dwell when the space was really free', () => {
    const h = sensor();
    h.read(state(true, T0));
    h.read(state(false, T0 + MIN));
    h.read(state(true, T0 + 5 * MIN)); // four minutes free: a different car
    h.advance(T0 + 7 * MIN);
    expect(h.alert).toBeUndefined();
    h.advance(T0 + 8 * MIN);
    expect(h.alert).toBeDefined();
  });

  it('ignores a message older than one already seen', () => {
    const h = sensor();
    h.read(state(true, T0 + 2 * MIN));
    h.read(state(false, T0), T0 + 2 * MIN);
    h.advance(T0 + 5 * MIN);
    expect(h.alert).toBeDefined();
  });

  it('counts a late message from when the car arrived', () => {
    const h = sensor();
    h.read(state(true, T0), T0 + 5 * MIN);
    expect(h.deadline).toBe(T0 + 3 * MIN);
    h.advance(T0 + 5 * MIN);
    expect(h.alert).toBeDefined();
  });
});

describe('titles say each word once', () => {
  it('drops the place\'s last word when what follows starts with it', async () => {
    const { titleOf } = await import('../../../src/rules/lib/place.js');
    expect(titleOf('6号楼东侧 消防通道', '消防通道占用')).toBe('6号楼东侧 消防通道占用');
    expect(titleOf('垃圾分类投放点前 禁停', '禁停区域违停')).toBe('垃圾分类投放点前 禁停区域违停');
    expect(titleOf('6号楼302', '烟感报警')).toBe('6号楼302 烟感报警');
    expect(titleOf('消防通道', '消防通道占用')).toBe('消防通道占用');
    expect(titleOf('', '烟感报警')).toBe('烟感报警');
  });
});
