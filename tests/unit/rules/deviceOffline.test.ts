import { describe, it, expect } from 'vitest';
import { deviceOffline } from '../../../src/rules/deviceOffline.js';
import { Harness, device, elder, family, reading, T0, HOUR, MIN } from './harness.js';

const sd = device('smoke-detector', { householdId: elder.id });

describe('device_offline', () => {
  it('watches from the first message and goes offline after two heartbeat periods of silence', () => {
    const h = new Harness(deviceOffline, { device: sd, household: family, heartbeatSeconds: 24 * 3600, label: '烟感' });
    h.read(reading(sd, 'heartbeat', T0));
    expect(h.deadline).toBe(T0 + 48 * HOUR);
    h.advance(T0 + 48 * HOUR);
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'minor', title: '6号楼302 烟感离线', details: { offlineAfterMinutes: 48 * 60 } });
  });

  it('does not move the deadline on every message, but moves itself when it fires early', () => {
    const h = new Harness(deviceOffline, { device: sd, household: family, heartbeatSeconds: 3600 });
    h.read(reading(sd, 'heartbeat', T0));
    h.read(reading(sd, 'heartbeat', T0 + HOUR));
    expect(h.deadline).toBe(T0 + 2 * HOUR);
    expect(h.actionsOf('deadline')).toHaveLength(1);
    h.advance(T0 + 2 * HOUR);
    expect(h.alert).toBeUndefined();
    expect(h.deadline).toBe(T0 + 3 * HOUR);
    h.advance(T0 + 3 * HOUR);
    expect(h.alert).toBeDefined();
  });

  it('is major for a smoke detector in a lone elder\'s flat', () => {
    const h = new Harness(deviceOffline, { device: sd, household: elder, heartbeatSeconds: 60 });
    h.read(reading(sd, 'heartbeat', T0));
    h.advance(T0 + 2 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ severity: 'major' });
  });

  it('uses the device\'s own heartbeat period and the configured factor', () => {
    const wm = device('water-meter', { heartbeatSeconds: 43200 });
    const h = new Harness(deviceOffline, { device: wm, heartbeatSeconds: 3600, config: { factor: 3 } });
    h.read(reading(wm, 'reading', T0, { totalM3: 1 }));
    expect(h.deadline).toBe(T0 + 36 * HOUR);
  });

  it('resolves on the next message and watches again', () => {
    const h = new Harness(deviceOffline, { device: sd, heartbeatSeconds: 60 });
    h.read(reading(sd, 'heartbeat', T0));
    h.advance(T0 + 2 * MIN);
    h.read(reading(sd, 'heartbeat', T0 + 10 * MIN));
    expect(h.alert).toBeUndefined();
    expect(h.actionsOf('resolve')[0]).toMatchObject({ reason: expect.stringContaining('设备恢复上报') });
    expect(h.deadline).toBe(T0 + 12 * MIN);
  });

  it('clears when a deadline finds the device heard from meanwhile (a payload that was rejected)', () => {
    const h = new Harness(deviceOffline, { device: sd, heartbeatSeconds: 60 });
    h.read(reading(sd, 'heartbeat', T0));
    h.advance(T0 + 2 * MIN);
    expect(h.alert).toBeDefined();
    h.lastSeenAt = T0 + 5 * MIN; // the broker took a message it could not decode
    h.run({ type: 'deadline', due: T0 + 5 * MIN }, T0 + 5 * MIN);
    expect(h.alert).toBeUndefined();
    expect(h.deadline).toBe(T0 + 7 * MIN);
  });
});

describe('device_offline for a water meter: its own observed cadence', () => {
  const wm = device('water-meter', { heartbeatSeconds: 3600 });
  const hourly = () => {
    const h = new Harness(deviceOffline, { device: wm, heartbeatSeconds: 12 * 3600, periodic: true, label: '智能水表' });
    for (let i = 0; i <= 3; i++) h.read(reading(wm, 'reading', T0 + i * HOUR, { totalM3: 1 + i / 100 }));
    return h;
  };

  it('one late upload of an hourly meter is no alert; three missed uploads are', () => {
    const h = hourly();
    const last = T0 + 3 * HOUR;
    // The deadline set at the first reading (declared 1 h: 3 h 15 min) fires and moves on: heard meanwhile.
    h.advance(last + 2 * HOUR); // one upload missed, the next one late
    expect(h.alert).toBeUndefined();
    h.read(reading(wm, 'reading', last + 2 * HOUR + 5 * MIN, { totalM3: 1.05 }));
    const back = last + 2 * HOUR + 5 * MIN;
    h.advance(back + 3 * HOUR);
    expect(h.alert).toBeUndefined(); // 3 h, under 3 × 1 h + 15 min
    h.advance(back + 3 * HOUR + 15 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ title: '6号楼302 智能水表离线', details: { offlineAfterMinutes: 195 } });
  });

  it('a meter that uploads every 6 h is judged on 6 h, not on the hour its inventory entry declares', () => {
    const h = new Harness(deviceOffline, { device: wm, heartbeatSeconds: 12 * 3600, periodic: true });
    for (let i = 0; i <= 3; i++) h.read(reading(wm, 'reading', T0 + i * 6 * HOUR, { totalM3: 1 }));
    const last = T0 + 18 * HOUR;
    h.advance(last + 18 * HOUR); // 3 × 6 h, not yet the grace
    expect(h.alert).toBeUndefined();
    h.advance(last + 19 * HOUR + 30 * MIN);
    expect(h.actionsOf('open')[0]).toMatchObject({ details: { offlineAfterMinutes: (18 * 60 + 90) } });
  });

  it('never goes offline sooner than floorMinutes, however fast the meter uploads', () => {
    const h = new Harness(deviceOffline, { device: device('water-meter', { heartbeatSeconds: 900 }), periodic: true });
    for (let i = 0; i <= 3; i++) h.read(reading(wm, 'reading', T0 + i * 15 * MIN, { totalM3: 1 }));
    const last = T0 + 45 * MIN;
    h.advance(last + 2 * HOUR + 59 * MIN);
    expect(h.alert).toBeUndefined();
    h.advance(last + 3 * HOUR);
    expect(h.alert).toBeDefined();
  });
});
