import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/config/inventory.js';
import { recipients } from '../../src/notify/routing.js';
import { deliverAt } from '../../src/notify/quietHours.js';
import { signAck, verifyAck, newAckKey } from '../../src/notify/ackLinks.js';

const directory = new Directory(loadConfig({ settingsPath: 'config/settings.yaml', env: {} }).communities);
const elder = directory.households.get('gh-6-302')!;
const alert = (kind: string, extra: Record<string, unknown> = {}) =>
  ({ kind, severity: 'critical', communityId: 'guihuayuan', gridId: elder.gridId, householdId: elder.id, ...extra }) as Parameters<typeof recipients>[0];

describe('routing by grid and role', () => {
  it('smoke in a lone elder’s flat: property on duty, the grid’s emergency staff, the committee and the paired volunteer', () => {
    const got = recipients(alert('smoke'), directory);
    const vias = new Set(got.map((r) => r.via));
    expect(vias).toEqual(new Set(['property_duty', 'emergency', 'residents_committee', 'care']));
    const volunteer = elder.careContacts.find((c) => c.relation === 'volunteer')!.personId!;
    expect(got.find((r) => r.via === 'care')!.person.id).toBe(volunteer);
    // Only people of this community and grid.
    for (const r of got) {
      expect(r.person.communityId).toBe('guihuayuan');
      if (r.via !== 'care') expect(r.person.grids).toContain(elder.gridId);
    }
  });

  it('no water use: the paired volunteer and special-care staff only', () => {
    const got = recipients(alert('no_water_use', { severity: 'major' }), directory);
    expect(new Set(got.map((r) => r.via))).toEqual(new Set(['special_care', 'care']));
  });

  it('device health goes to the digest, unless it leaves a lone elder unprotected', () => {
    expect(recipients(alert('low_battery', { severity: 'minor', householdId: undefined }), directory)).toEqual([]);
    const got = recipients(alert('device_offline', { severity: 'major' }), directory);
    expect(new Set(got.map((r) => r.via))).toEqual(new Set(['property_duty', 'care']));
  });

  it('parking goes to property only', () => {
    const got = recipients(alert('illegal_parking', { severity: 'major', householdId: undefined, gridId: 'gh-g1' }), directory);
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got.map((r) => r.via))).toEqual(new Set(['property_duty']));
  });
});

describe('quiet hours (UTC+8)', () => {
  const quiet = { from: '22:00', to: '07:00' };
  const at = (iso: string) => Date.parse(iso);
  it('holds a non-critical notice until the morning, lets critical through', () => {
    expect(deliverAt(quiet, 'minor', at('2026-11-22T23:30:00+08:00'))).toBe(at('2026-11-23T07:00:00+08:00'));
    expect(deliverAt(quiet, 'major', at('2026-11-23T03:10:00+08:00'))).toBe(at('2026-11-23T07:00:00+08:00'));
    expect(deliverAt(quiet, 'critical', at('2026-11-22T23:30:00+08:00'))).toBe(at('2026-11-22T23:30:00+08:00'));
    expect(deliverAt(quiet, 'minor', at('2026-11-22T12:00:00+08:00'))).toBe(at('2026-11-22T12:00:00+08:00'));
    expect(deliverAt({ from: '12:00', to: '14:00' }, 'info', at('2026-11-22T13:00:00+08:00'))).toBe(at('2026-11-22T14:00:00+08:00'));
    expect(deliverAt(undefined, 'info', 5)).toBe(5);
  });
});

describe('one-tap acknowledge links', () => {
  it('verify when signed with the key and unexpired; refuse tampering and expiry', () => {
    const key = newAckKey();
    const token = signAck(key, { alertId: 7, personId: 'gh-duty-1', exp: 10_000 });
    const ok = verifyAck(key, token, 9_999);
    expect(ok).toMatchObject({ ok: true, claims: { alertId: 7, personId: 'gh-duty-1' } });
    expect(verifyAck(key, token, 10_000)).toMatchObject({ ok: false, code: 'SB_ACK_EXPIRED' });
    expect(verifyAck(newAckKey(), token, 0)).toMatchObject({ ok: false, code: 'SB_ACK_INVALID' });
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), alertId: 8 })).toString('base64url');
    expect(verifyAck(key, `${forged}.${mac}`, 0)).toMatchObject({ ok: false, code: 'SB_ACK_INVALID' });
  });
});
