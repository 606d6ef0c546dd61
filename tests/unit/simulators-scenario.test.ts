// Scenario files: the loader's own validation (every error with its path and line), normalisation (durations,
// repeats, selectors), and the pure checking and reporting of alerts against expectations.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../simulators/scenario/loader.js';
import { checkExpected, checkForbidden, type ScenarioResult } from '../../simulators/scenario/runner.js';
import { formatResult } from '../../simulators/scenario/report.js';
import { formatDuration, parseDuration } from '../../simulators/lib/time.js';
import type { Alert } from '../../simulators/lib/api.js';

const errorsOf = (text: string): string[] => {
  try {
    parseScenario(text, { label: 's.yaml' });
  } catch (err) {
    if (err instanceof ScenarioError) return err.errors;
    throw err;
  }
  return [];
};

describe('durations', () => {
  it('reads what people write and prints it back', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('08:30')).toBe(8.5 * 3_600_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration(45)).toBe(45_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_061_000)).toBe('1d1h1m1s');
  });
});

describe('scenario loader', () => {
  it('reports every problem with its path and line, before anything runs', () => {
    const errors = errorsOf(`name: broken
timeline:
  - at: soon
    device: gh-sd-6-302
    helper: alarm
  - at: 5m
    device: no-such-device
    helper: alarm
  - at: 6m
    device: gh-ps-01
    helper: alarm
  - at: 7m
    devcie: gh-sd-6-302
alerts:
  - { kind: smoke_alarm, deviceId: gh-sd-6-302 }
  - { deviceId: gh-sd-6-302 }
`);
    expect(errors).toContain('s.yaml:3: /timeline/0/at: must be a duration like 90s, 5m, 1h30m or 08:30');
    expect(errors).toContain("s.yaml:13: /timeline/3: unknown key 'devcie'");
    expect(errors.some((e) => e.startsWith('s.yaml:15: /alerts/0/kind: must be one of: smoke, no_water_use'))).toBe(true);
    expect(errors).toContain("s.yaml:16: /alerts/1: 'kind' is required");
  });

  it('checks devices and helpers against the inventory', () => {
    const errors = errorsOf(`name: wrong devices
timeline:
  - at: 5m
    device: no-such-device
    helper: alarm
  - at: 6m
    device: gh-ps-01
    helper: alarm
  - at: 7m
    select: { kind: water-meter, communityId: nowhere }
    helper: reading
  - at: 8m
    device: gh-sd-6-302
`);
    expect(errors).toContain("s.yaml:4: /timeline/0/device: no device 'no-such-device' in the inventory or provision list");
    expect(errors).toContain("s.yaml:8: /timeline/1/helper: parking-sensor gh-ps-01 has no helper 'alarm' (it has: park, leave, heartbeat, startup)");
    expect(errors).toContain('s.yaml:10: /timeline/2/select: selects no device');
    expect(errors).toContain('s.yaml:12: /timeline/3: what should the device do? (payload, helper, raw or disconnect)');
  });

  it('says so when the YAML itself is broken', () => {
    expect(errorsOf('name: [unclosed\ntimeline: []\n')[0]).toMatch(/^s\.yaml:\d+: not valid YAML/);
  });

  it('normalises: times in ms, repeats expanded, steps in time order, selectors and lists expanded', () => {
    const s = parseScenario(`name: ok
start: 2026-03-02T08:00:00+08:00
tick: 30s
provision:
  - { id: gh-sd-6-lw, kind: smoke-detector, format: milesight-gs524n, communityId: guihuayuan, count: 3 }
timeline:
  - at: 1h
    clock: true
  - at: 0s
    device: gh-wm-6-302
    helper: reading
    args: { litres: 5 }
    repeat: { every: 20m, until: 1h }
  - at: 2m
    select: { ids: gh-sd-6-lw* }
    helper: heartbeat
alerts:
  - { kind: device_offline, select: { ids: gh-sd-6-lw* }, by: 2d }
  - { kind: smoke, deviceId: [a, b] }
`);
    expect(s.start).toBe(Date.parse('2026-03-02T08:00:00+08:00'));
    expect(s.tick).toBe(30_000);
    expect(s.provision.map((p) => p.id)).toEqual(['gh-sd-6-lw01', 'gh-sd-6-lw02', 'gh-sd-6-lw03']);
    expect(s.steps.map((st) => st.at / 60_000)).toEqual([0, 2, 20, 40, 60, 60]);
    expect(s.steps[1].actions[0]).toMatchObject({ type: 'message', deviceIds: ['gh-sd-6-lw01', 'gh-sd-6-lw02', 'gh-sd-6-lw03'] });
    expect(s.end).toBe(3_600_000);
    expect(s.alerts[0].subjects).toEqual([{ deviceId: 'gh-sd-6-lw01' }, { deviceId: 'gh-sd-6-lw02' }, { deviceId: 'gh-sd-6-lw03' }]);
    expect(s.alerts[0].by).toBe(2 * 86_400_000);
    expect(s.alerts[1].subjects).toHaveLength(2);
  });
});

describe('checking alerts', () => {
  const s = parseScenario(`name: check
start: 2026-03-02T08:00:00+08:00
timeline: [ { at: 0s, clock: true } ]
alerts:
  - { kind: smoke, householdId: gh-6-302, severity: critical, status: open, by: 1m }
noAlerts:
  - { kind: device_offline, deviceId: gh-sd-6-302 }
  - { deviceId: gh-sd-6-504 }
`);
  const alert = (over: Partial<Alert>): Alert => ({
    id: 1,
    kind: 'smoke',
    severity: 'critical',
    status: 'open',
    communityId: 'guihuayuan',
    gridId: 'gh-g2',
    deviceId: 'gh-sd-6-302',
    householdId: 'gh-6-302',
    title: '6号楼302 烟感报警',
    details: {},
    count: 1,
    openedAt: '2026-03-02T00:00:20.000Z',
    updatedAt: '2026-03-02T00:00:20.000Z',
    ...over,
  });

  it('passes on a matching alert', () => {
    const r = checkExpected(s, s.alerts[0], [alert({})], 'end');
    expect(r.ok).toBe(true);
    expect(r.came[0]).toContain('smoke #1 critical open, opened +20s');
  });

  it('says what was expected and what came instead', () => {
    const late = checkExpected(s, s.alerts[0], [alert({ severity: 'major', openedAt: '2026-03-02T00:05:00.000Z' })], 'end');
    expect(late.ok).toBe(false);
    expect(late.came[0]).toContain('severity major, expected critical; opened at +5m, expected by +1m');
    const none = checkExpected(s, s.alerts[0], [alert({ kind: 'device_offline', severity: 'major' })], 'end');
    expect(none.came[0]).toBe('nothing of kind smoke for householdId gh-6-302');
    expect(none.came[1]).toContain('came instead: device_offline #1 major open');
  });

  it('fails a forbidden alert, of a kind or of any kind', () => {
    expect(checkForbidden(s, s.noAlerts[0], [alert({})], 'end').ok).toBe(true);
    expect(checkForbidden(s, s.noAlerts[0], [alert({ kind: 'device_offline' })], 'end').ok).toBe(false);
    const any = checkForbidden(s, s.noAlerts[1], [alert({ kind: 'low_battery', deviceId: 'gh-sd-6-504' })], 'end');
    expect(any.ok).toBe(false);
    expect(any.expected).toBe('no alert of any kind for deviceId gh-sd-6-504');
  });

  it('reports ✓ and ✗ with expected and came, and a verdict', () => {
    const result: ScenarioResult = {
      name: 'check',
      status: 'failed',
      checks: [checkExpected(s, s.alerts[0], [alert({ severity: 'minor' })], 'end'), checkForbidden(s, s.noAlerts[0], [], 'end')],
      alerts: [],
      stats: { messages: 1, clockSteps: 2, virtualMs: 60_000, wallMs: 12 },
      notifications: { count: 2, reason: 'not checked yet: the notify module (src/notify/index.ts) does not exist yet' },
    };
    const text = formatResult(result);
    expect(text).toContain('✗ smoke for householdId gh-6-302');
    expect(text).toContain('expected: smoke for householdId gh-6-302 (critical, open, by +1m)');
    expect(text).toContain('came:     smoke #1 minor open, opened +20s');
    expect(text).toContain('✓ no device_offline for deviceId gh-sd-6-302');
    expect(text).toContain('– notifications (2): not checked yet');
    expect(text).toContain('FAILED (1 of 2 expectations not met)');
  });
});
