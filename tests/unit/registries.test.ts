// The kind walk: every registered device kind and every declared alert kind carries everything the rest of
// the system derives from it, and a new device kind needs only its folder (a fixture kind in a temp dir is
// picked up by the same loader and gets offline and health monitoring, placement checks, validation,
// telemetry fields and its console label without any other file changing).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceKinds, loadDeviceKinds } from '../../devices/index.js';
import { HEALTH_WATCHES, placementProblems, type DeviceKindDef } from '../../src/ingest/types.js';
import { ALERT_KINDS, alertKind, ALERT_KIND_DEFS } from '../../src/alerts/kinds.js';
import { SEVERITIES } from '../../src/alerts/types.js';
import { ROLES, DEVICE_KINDS } from '../../src/config/schema.js';
import { rules as allRules } from '../../src/rules/index.js';
import { kindsOfRule } from '../../src/rules/lib/types.js';
import { isRoutine } from '../../src/rules/lib/health.js';
import { compileValidators } from '../../src/ingest/validate.js';
import { labelsModule } from '../../src/api/web.js';
import { DEFAULT_ROUTES } from '../../src/notify/routing.js';
import { KIND_ZH } from '../../src/jobs/digest.js';
import type { Reading } from '../../src/ingest/reading.js';

const DEVICES_DIR = fileURLToPath(new URL('../../devices/', import.meta.url));
const HISTORY_FIELDS = ['water', 'occupancy', 'battery'];
const CHINESE = /^[\u4e00-\u9fff]/;
const rule = (name: string) => allRules.find((r) => r.name === name)!;

/** The `type` values a kind's canonical schema allows (its `properties.type` enum or const). */
function schemaTypes(def: DeviceKindDef): string[] {
  const t = (def.schema.properties as Record<string, { enum?: string[]; const?: string }> | undefined)?.type;
  return t?.enum ?? (t?.const ? [t.const] : []);
}

const reading = (kind: string, type: string, payload: Record<string, unknown> = {}): Reading =>
  ({ deviceId: 'x', kind, communityId: 'c', gridId: 'g', type, ts: 0, receivedAt: 0, payload: { type, ...payload } }) as Reading;

describe('device kinds', () => {
  it('every folder under devices/ with an index is a registered kind, and the inventory knows each', () => {
    const onDisk = readdirSync(DEVICES_DIR, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(DEVICES_DIR, e.name, 'index.ts')))
      .map((e) => e.name)
      .sort();
    expect(deviceKinds.map((k) => k.kind).sort()).toEqual(onDisk);
    expect([...DEVICE_KINDS].sort()).toEqual(onDisk);
  });

  for (const def of deviceKinds) {
    it(`${def.kind}: label, cadence, health watches, routine types, placement, history fields, folder`, () => {
      expect(def.label, 'label').toMatch(CHINESE);
      expect(def.heartbeatSeconds, 'heartbeatSeconds').toBeGreaterThan(0);
      // Offline monitoring is what a missed kind silently lacks: every kind must be watched for it.
      expect(def.health, 'health').toContain('offline');
      for (const w of def.health) expect(HEALTH_WATCHES, `health '${w}'`).toContain(w);
      expect(def.routineTypes.length, 'routineTypes').toBeGreaterThan(0);
      const types = schemaTypes(def);
      for (const t of def.routineTypes) expect(types, `routine type '${t}' is a type of its schema`).toContain(t);
      for (const p of def.placement) {
        expect(['spaceId', 'gateId', 'householdId', 'buildingId']).toContain(p.field);
        expect(p.problem.length).toBeGreaterThan(0);
      }
      expect(def.historyFields.length, 'historyFields').toBeGreaterThan(0);
      for (const f of def.historyFields) expect(HISTORY_FIELDS).toContain(f);
      expect(def.decoders[0]?.format).toBe('canonical');
      for (const f of ['schema.json', 'README.md', 'examples']) expect(existsSync(join(DEVICES_DIR, def.kind, f)), f).toBe(true);
    });
  }

  it('each health rule watches exactly the kinds whose definitions list its watch', () => {
    const watches = { device_offline: 'offline', low_battery: 'battery', device_tamper: 'tamper', device_fault: 'fault' } as const;
    for (const [name, watch] of Object.entries(watches)) {
      const r = rule(name);
      expect(r.health, name).toBe(watch);
      expect(kindsOfRule(r, deviceKinds).sort(), name).toEqual(deviceKinds.filter((k) => k.health.includes(watch)).map((k) => k.kind).sort());
    }
  });

  it('ai-camera: registered from its folder alone, watched for offline only, its events raising the camera alert kinds', () => {
    const cam = deviceKinds.find((k) => k.kind === 'ai-camera')!;
    expect(cam.decoders.map((d) => d.format)).toEqual(['canonical', 'hikvision-isapi']);
    expect(cam.maxPayloadBytes).toBeGreaterThan(65536);
    expect(kindsOfRule(rule('device_offline'), deviceKinds)).toContain('ai-camera');
    expect(kindsOfRule(rule('low_battery'), deviceKinds)).not.toContain('ai-camera');
    const byEvent = { fire_smoke: 'camera_fire', ebike_in_lift: 'ebike_in_lift', ebike_indoor: 'ebike_indoor', object_thrown: 'object_thrown', garbage_overflow: 'garbage_overflow' };
    for (const [event, kind] of Object.entries(byEvent)) {
      const raising = allRules.filter((r) => !r.health && kindsOfRule(r, deviceKinds).includes('ai-camera') && r.subjects(reading('ai-camera', event), { device: { id: 'x' } as never }).length);
      expect(raising.map((r) => r.name), event).toEqual([kind]);
    }
    expect(isRoutine(reading('ai-camera', 'heartbeat'), cam)).toBe(true);
    expect(isRoutine(reading('ai-camera', 'fire_smoke'), cam)).toBe(false);
  });

  it('a routine report is routine for its own kind only', () => {
    const gate = deviceKinds.find((k) => k.kind === 'smart-gate')!;
    const smoke = deviceKinds.find((k) => k.kind === 'smoke-detector')!;
    expect(isRoutine(reading('smart-gate', 'plate'), gate)).toBe(true);
    expect(isRoutine(reading('smoke-detector', 'plate'), smoke)).toBe(false);
    expect(isRoutine(reading('smoke-detector', 'alarm'), smoke)).toBe(false);
  });
});

describe('alert kinds', () => {
  it('the enum order of CONTRACT.md is kept', () => {
    expect(ALERT_KINDS.slice(0, 2)).toEqual(['smoke', 'no_water_use']);
  });

  for (const kind of ALERT_KINDS) {
    it(`${kind}: label, severity, routing, escalation, phone steps and its rule`, () => {
      const def = alertKind(kind);
      expect(def.label).toMatch(CHINESE);
      expect(SEVERITIES).toContain(def.severity);
      for (const role of def.route.roles) expect(ROLES).toContain(role);
      for (const step of def.escalation ?? []) {
        expect(step.afterMinutes).toBeGreaterThanOrEqual(0);
        for (const role of step.roles) expect(ROLES).toContain(role);
      }
      for (const step of def.phone ?? []) expect(['sms', 'call', 'preferred']).toContain(step.by);
      if (def.rule !== null) expect(rule(def.rule)?.name, `rule '${def.rule}'`).toBe(kind);
      // Derived everywhere from the one declaration.
      expect(DEFAULT_ROUTES[kind]).toEqual(def.route);
      expect(KIND_ZH[kind]).toBe(def.label);
    });
  }

  it('every rule raises a declared alert kind', () => {
    for (const r of allRules) expect(Object.keys(ALERT_KIND_DEFS), r.name).toContain(r.name);
  });

  it('labels are unique, and the console gets them from the server', () => {
    const labels = ALERT_KINDS.map((k) => alertKind(k).label);
    expect(new Set(labels).size).toBe(labels.length);
    const mod = labelsModule(deviceKinds);
    for (const k of ALERT_KINDS) expect(mod).toContain(`"${k}":"${alertKind(k).label}"`);
    for (const k of deviceKinds) expect(mod).toContain(`"${k.kind}":"${k.label}"`);
    expect(mod).toContain('"no_water_use":"独居老人无用水"');
  });
});

describe('a new device kind needs only its folder', () => {
  let dir: string;
  let kinds: DeviceKindDef[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shaobing-kind-'));
    const folder = join(dir, 'test-beacon');
    mkdirSync(folder);
    // A folder like devices/<kind>/, in plain JavaScript so it needs no build.
    writeFileSync(
      join(folder, 'index.js'),
      `const schema = {
  $id: 'shaobing/kind/test-beacon', type: 'object', allOf: [{ $ref: '../device-common' }], required: ['type'],
  properties: { type: { enum: ['beacon', 'heartbeat', 'tamper'] }, rssi: { type: 'number' } },
};
export const kind = {
  kind: 'test-beacon', label: '测试信标', heartbeatSeconds: 600,
  health: ['offline', 'battery', 'tamper'], routineTypes: ['beacon', 'heartbeat'],
  placement: [{ field: 'buildingId', problem: 'a beacon needs its building' }], historyFields: ['battery'],
  schema,
  decoders: [{ format: 'canonical', description: 'JSON', decode: (raw) => ({ ok: true, payload: JSON.parse(raw.toString('utf8')) }) }],
};
`,
    );
    kinds = await loadDeviceKinds([DEVICES_DIR, dir]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is loaded beside the real kinds', () => {
    expect(kinds.map((k) => k.kind)).toEqual([...deviceKinds.map((k) => k.kind), 'test-beacon']);
  });

  it('gets offline, battery and tamper monitoring, and not what it did not ask for', () => {
    expect(kindsOfRule(rule('device_offline'), kinds)).toContain('test-beacon');
    expect(kindsOfRule(rule('low_battery'), kinds)).toContain('test-beacon');
    expect(kindsOfRule(rule('device_tamper'), kinds)).toContain('test-beacon');
    expect(kindsOfRule(rule('device_fault'), kinds)).not.toContain('test-beacon');
    const beacon = kinds.find((k) => k.kind === 'test-beacon')!;
    expect(isRoutine(reading('test-beacon', 'beacon'), beacon)).toBe(true);
  });

  it('its placement, validation and console label follow from the folder', () => {
    const beacon = kinds.find((k) => k.kind === 'test-beacon')!;
    expect(placementProblems(beacon, {})).toEqual(['buildingId: a beacon needs its building']);
    expect(placementProblems(beacon, { buildingId: 'b1' })).toEqual([]);
    const validate = compileValidators(kinds).get('test-beacon')!;
    expect(validate({ type: 'beacon', batteryPct: 50 }).ok).toBe(true);
    expect(validate({ type: 'nonsense' }).ok).toBe(false);
    expect(labelsModule(kinds)).toContain('"test-beacon":"测试信标"');
  });
});
