// What the rule runner keeps between readings (issue 18): a device's places are built once and kept with its
// DeviceInfo (a device provisioned again gets new ones), its live state is always the current one, and the
// runner asks the world for a rule's settings once per places object it is given again — a world that gives new
// places objects (the rule test harness) is asked every time.
import { describe, it, expect } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/config/inventory.js';
import { openDb } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { DeviceStates } from '../../src/state/deviceState.js';
import { ContextBuilder, type Places } from '../../src/rules/lib/context.js';
import { RuleRunner, type Decision, type RuleWorld } from '../../src/rules/lib/runner.js';
import { COMMON_DEFAULTS } from '../../src/rules/lib/config.js';
import { rules } from '../../src/rules/index.js';
import type { Reading } from '../../src/ingest/reading.js';
import type { RuleConfigBase } from '../../src/rules/lib/types.js';
import { deviceKinds } from '../../devices/index.js';
import { tempDir } from '../helpers.js';

const T0 = Date.parse('2025-03-01T08:00:00+08:00');
const smoke = (ts: number): Reading => ({
  deviceId: 'gh-sd-6-302',
  kind: 'smoke-detector',
  communityId: 'guihuayuan',
  gridId: 'gh-g2',
  type: 'heartbeat',
  ts,
  receivedAt: ts,
  payload: { type: 'heartbeat', battery: 80 },
});

function world() {
  const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
  const dir = tempDir('shaobing-places-');
  const db = openDb({ dataDir: dir.path, synchronous: 'normal' });
  const states = new DeviceStates(sqliteStore(db).deviceState);
  const directory = new Directory(config.communities);
  const plates = { isResident: () => false, visitorUntil: () => undefined };
  const contexts = new ContextBuilder(directory, deviceKinds, states, plates);
  return { directory, states, contexts, close: () => (db.close(), dir.remove()) };
}

describe('places kept per device', () => {
  it('gives the same places for every reading of a device, with its current state', () => {
    const { states, contexts, close } = world();
    try {
      const r1 = smoke(T0);
      states.applyReading(r1);
      const p1 = contexts.places('device', r1.deviceId, r1)!;
      expect(p1.where).toBe('6号楼302');
      expect(p1.deviceState?.lastEventAt).toBe(T0);
      const r2 = smoke(T0 + 60_000);
      states.applyReading(r2);
      const p2 = contexts.places('device', r2.deviceId, r2)!;
      expect(p2).toBe(p1);
      expect(p2.deviceState?.lastEventAt).toBe(T0 + 60_000);
      // A household subject of the same reading: the household's flat, kept too.
      const h = contexts.places('household', 'gh-6-302', r2)!;
      expect(h.place).toEqual({ communityId: 'guihuayuan', gridId: h.place.gridId, householdId: 'gh-6-302' });
      expect(contexts.places('household', 'gh-6-302', r2)).toBe(h);
      expect(contexts.places('household', 'no-such-household', r2)).toBeUndefined();
    } finally {
      close();
    }
  });

  it('builds new places for a device provisioned again, and after forget()', () => {
    const { directory, states, contexts, close } = world();
    try {
      const r = smoke(T0);
      states.applyReading(r);
      const before = contexts.places('device', r.deviceId, r)!;
      const old = directory.devices.get(r.deviceId)!;
      directory.addDevice({ id: old.id, kind: old.kind, communityId: old.communityId, householdId: 'gh-6-301' });
      const after = contexts.places('device', r.deviceId, r)!;
      expect(after).not.toBe(before);
      expect(after.where).toBe('6号楼301');
      expect(after.place.householdId).toBe('gh-6-301');
      contexts.forget();
      expect(contexts.places('device', r.deviceId, r)).not.toBe(after);
    } finally {
      close();
    }
  });
});

describe('the runner keeps settings and deadline keys with a places object', () => {
  const runner = new RuleRunner(rules, deviceKinds, pino({ level: 'silent' }));
  const r = smoke(T0);
  const device = { id: r.deviceId, kind: r.kind, communityId: r.communityId, gridId: r.gridId } as Parameters<RuleRunner['forReading']>[1]['device'];
  const worldOf = (fresh: boolean) => {
    const asked: string[] = [];
    const kept: Places = { levelKey: 'guihuayuan|gh-g2|', place: { communityId: 'guihuayuan', gridId: 'gh-g2', deviceId: r.deviceId }, device, where: '6号楼302', plates: { isResident: () => false, visitorUntil: () => undefined } };
    const w: RuleWorld = {
      places: () => (fresh ? { ...kept } : kept),
      config: (rule) => (asked.push(rule.name), { ...COMMON_DEFAULTS, ...rule.defaults } as RuleConfigBase),
      openAlert: () => undefined,
      deadline: () => undefined,
      state: () => undefined,
      care: () => undefined,
    };
    return { w, asked };
  };

  it('asks for a rule\'s settings once per places object, and gives the same deadline key', () => {
    const { w, asked } = worldOf(false);
    const a: Decision[] = [];
    const b: Decision[] = [];
    runner.forReading(r, { device }, T0, w, a);
    const first = asked.length;
    expect(first).toBeGreaterThan(0);
    runner.forReading(r, { device }, T0 + 1, w, b);
    expect(asked.length).toBe(first);
    expect(b.map((d) => d.key)).toEqual(a.map((d) => `${d.rule.name}:${r.deviceId}`));
    expect(b.map((d) => d.key)).toEqual(a.map((d) => d.key));
  });

  it('asks every time when the world gives new places objects', () => {
    const { w, asked } = worldOf(true);
    runner.forReading(r, { device }, T0, w, []);
    const first = asked.length;
    runner.forReading(r, { device }, T0 + 1, w, []);
    expect(asked.length).toBe(2 * first);
  });
});
