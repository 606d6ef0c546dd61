// What every AI-camera rule must do (src/rules/lib/camera.ts), checked for each rule by its own test file.
import { it, expect } from 'vitest';
import type { Rule, RuleConfigBase } from '../../../src/rules/lib/types.js';
import { Harness, device, reading, T0, MIN } from './harness.js';

export const camera = device('ai-camera', { id: 'cam-1', area: '3号楼 1号电梯', buildingId: 'b3' });
const OTHER_TYPES = ['ebike_in_lift', 'ebike_indoor', 'fire_smoke', 'object_thrown', 'garbage_overflow', 'heartbeat'];

export function cameraRuleSpec(rule: Rule<undefined, RuleConfigBase>, eventType: string, severity: string, title: string): void {
  it(`opens a ${severity} alert titled with the camera's area on ${eventType}`, () => {
    const h = new Harness(rule, { device: camera, where: camera.area });
    const [a] = h.read(reading(camera, eventType, T0, { confidence: 91, region: '1', eventCount: 2 }));
    expect(a).toMatchObject({ type: 'open', severity, title, details: { confidence: 91, region: '1', eventCount: 2, eventAt: new Date(T0).toISOString() } });
  });

  it('is about its own event type only (heartbeats and the other events raise nothing here)', () => {
    for (const t of OTHER_TYPES) expect(rule.subjects(reading(camera, t, T0), { device: camera }), t).toEqual(t === eventType ? ['cam-1'] : []);
  });

  it('counts a burst from the same camera on one alert, and never resolves it by itself', () => {
    const h = new Harness(rule, { device: camera, where: camera.area });
    for (let i = 0; i < 5; i++) h.read(reading(camera, eventType, T0 + i * 10_000));
    h.read(reading(camera, eventType, T0 + 30 * MIN));
    expect(h.opened).toBe(1);
    expect(h.alert?.count).toBe(6);
    expect(h.actionsOf('resolve')).toEqual([]);
  });

  it('says a snapshot is on its way when the event carried one, and why not when it could not be read', () => {
    const h = new Harness(rule, { device: camera, where: camera.area });
    const r = { ...reading(camera, eventType, T0), picture: Buffer.from([0xff, 0xd8, 0xff]) };
    expect(h.read(r)[0]).toMatchObject({ details: { snapshotPending: true } });
    const h2 = new Harness(rule, { device: camera, where: camera.area });
    const [b] = h2.read(reading(camera, eventType, T0, { snapshotError: 'snapshot is not base64' }));
    expect(b).toMatchObject({ details: { snapshotError: 'snapshot is not base64' } });
    expect((b as { details: Record<string, unknown> }).details.snapshotPending).toBeUndefined();
  });
}
