// Scenario files: the loader's own validation (every error with its path and line), normalisation (durations,
// repeats, selectors), and the pure checking and reporting of alerts against expectations.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../simulators/scenario/loader.js';
import { checkExpected, checkForbidden, runScenario, type ScenarioResult } from '../../simulators/scenario/runner.js';
import { checkNotifications, type NotifyCapture, type QueuedNotice } from '../../simulators/scenario/notifications.js';
import type { Target } from '../../simulators/scenario/target.js';
import type { Received, RobotReceiver } from '../../simulators/lib/robotReceiver.js';
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
      notifications: { count: 2, reason: 'not checked (skipped): the service runs elsewhere (--url)' },
    };
    const text = formatResult(result);
    expect(text).toContain('✗ smoke for householdId gh-6-302');
    expect(text).toContain('expected: smoke for householdId gh-6-302 (critical, open, by +1m)');
    expect(text).toContain('came:     smoke #1 minor open, opened +20s');
    expect(text).toContain('✓ no device_offline for deviceId gh-sd-6-302');
    expect(text).toContain('– notifications (2): not checked (skipped)');
    expect(text).toContain('FAILED (1 of 2 expectations not met)');
  });
});

describe('checking notifications', () => {
  const text = `name: notify
start: 2026-03-02T08:00:00+08:00
timeline: [ { at: 0s, clock: true } ]
alerts:
  - { kind: smoke, householdId: gh-6-302 }
notifications:
  - { channel: wecom, to: [property_duty, volunteer], notTo: [grid_head], within: 10s }
  - { channel: dingtalk, to: [owners_committee], within: 10s, kind: smoke, householdId: gh-6-302 }
  - { channel: wecom, to: [grid_head], as: escalation, grid: gh-g2, within: 1m }
`;
  const s = parseScenario(text);
  const t0 = 1_000_000;
  const alert: Alert = {
    id: 7,
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
    openedAt: '2026-03-02T00:00:00.000Z',
    updatedAt: '2026-03-02T00:00:00.000Z',
  };
  /** A capture whose robots got these messages (destination = channel.role or channel.grid.role). */
  const capture = (received: Array<Partial<Received> & { robot: string }>, queued: Record<string, QueuedNotice[]> = {}): NotifyCapture => ({
    receiver: { received: received.map((r) => ({ platform: 'wecom', body: {}, text: '', at: t0, accepted: true, ...r })) } as unknown as RobotReceiver,
    destination: (channel, _community, role, grid) => [channel, grid, role].filter(Boolean).join('.'),
    queued: (dest) => queued[dest] ?? [],
  });
  const opened = `【紧急】${alert.title}\n小区：桂花园`;

  it('loads: kinds default to the expected alerts, wall times in ms, roles checked', () => {
    expect(s.notifications[0]).toMatchObject({ channel: 'wecom', to: ['property_duty', 'volunteer'], notTo: ['grid_head'], within: 10_000, kinds: ['smoke'], as: 'opened' });
    expect(s.notifications[1]).toMatchObject({ kinds: ['smoke'], subject: { householdId: 'gh-6-302' } });
    expect(s.notifications[2]).toMatchObject({ as: 'escalation', grid: 'gh-g2', within: 60_000 });
    const errors = errorsOf(`name: bad
timeline: [ { at: 0s, clock: true } ]
notifications:
  - { channel: wechat, to: [property_duty], within: 10s }
  - { channel: wecom, to: [chief], within: soon }
  - { channel: wecom, to: [property_duty], notTo: [property_duty], within: 10s, grid: gh-g9 }
  - { channel: wecom, within: 10s }
`);
    expect(errors).toContain('s.yaml:4: /notifications/0/channel: must be one of: wecom, dingtalk, feishu, webhook, sms, call');
    expect(errors.some((e) => e.startsWith('s.yaml:5: /notifications/1/to/0: must be one of: property_duty'))).toBe(true);
    expect(errors).toContain('s.yaml:5: /notifications/1/within: must be a duration like 90s, 5m, 1h30m or 08:30');
    const semantic = errorsOf(`name: bad
timeline: [ { at: 0s, clock: true } ]
notifications:
  - { channel: wecom, to: [property_duty], notTo: [property_duty], within: 10s, grid: gh-g9 }
  - { channel: wecom, within: 10s, kind: smoke }
`);
    expect(semantic).toEqual([
      "s.yaml:4: /notifications/0: 'property_duty' is both in 'to' and in 'notTo'",
      "s.yaml:4: /notifications/0/grid: no micro-grid 'gh-g9' in any community",
      "s.yaml:4: /notifications/0: which alerts? give 'kind' (the scenario expects no alert)",
      "s.yaml:5: /notifications/1: who? give 'to' and/or 'notTo' (roles)",
    ]);
  });

  it('passes when each listed role got the opening notice in time and the forbidden ones did not', async () => {
    const c = capture([
      { robot: 'wecom.property_duty', text: opened, at: t0 + 40 },
      { robot: 'wecom.volunteer', text: opened, at: t0 + 60 },
      { robot: 'wecom.grid_head', text: `【紧急】升级：${alert.title}`, at: t0 + 90 }, // an escalation is not the opening
      { robot: 'wecom.gh-g2.grid_head', text: `【紧急】升级：${alert.title}`, at: t0 + 90 },
    ]);
    const [a, , esc] = await checkNotifications(s, c, [alert], () => t0);
    expect(a.ok, a.came.join('\n')).toBe(true);
    expect(a.type).toBe('notification');
    expect(a.came[0]).toBe('smoke #7 “6号楼302 烟感报警”: told property_duty after 0.04 s, volunteer after 0.06 s');
    expect(esc.ok).toBe(true);
  });

  it('says what was expected and what came: a role not told, one told that should not be, one told late', async () => {
    const c = capture([
      { robot: 'wecom.property_duty', text: opened, at: t0 + 12_500 },
      { robot: 'wecom.grid_head', text: opened, at: t0 + 30 },
      { robot: 'dingtalk.owners_committee', platform: 'dingtalk', text: `#### 【紧急】提醒：${alert.title}`, at: t0 + 3000 },
    ]);
    const [a, b] = await checkNotifications(s, c, [alert], () => t0);
    expect(a.ok).toBe(false);
    expect(a.expected).toBe('smoke told on wecom within 10s to property_duty, volunteer; not to grid_head');
    expect(a.came).toEqual([
      'smoke #7 “6号楼302 烟感报警”: told property_duty after 12.50 s (late), grid_head after 0.03 s',
      '  property_duty: not told within 10s — its wecom.property_duty robot got “【紧急】6号楼302 烟感报警” after 12.50 s',
      '  volunteer: not told within 10s — its wecom.volunteer robot got nothing',
      '  grid_head: told after 0.03 s, expected not to be',
    ]);
    expect(b.ok).toBe(false);
    expect(b.came[1]).toBe('  owners_committee: not told within 10s — its dingtalk.owners_committee robot got “【紧急】提醒：6号楼302 烟感报警” after 3.00 s');
  });

  it('waits while a notice is still queued for a role, and fails when no alert came to be told of', async () => {
    let queued = true;
    const c = capture([], {
      'wecom.volunteer': [{ alertId: 7, title: `【紧急】${alert.title}`, status: 'pending', due: true, dueAt: 0 }],
    });
    c.queued = (dest) => (dest === 'wecom.volunteer' && queued ? [{ alertId: 7, title: `【紧急】${alert.title}`, status: 'pending', due: true, dueAt: 0 }] : []);
    const start = Date.now();
    setTimeout(() => {
      (c.receiver.received as Received[]).push({ platform: 'wecom', robot: 'wecom.volunteer', body: {}, text: opened, at: Date.now(), accepted: true });
      queued = false;
    }, 120);
    const [a] = await checkNotifications({ ...s, notifications: [s.notifications[0]] }, c, [alert], () => start, 10);
    expect(Date.now() - start).toBeGreaterThanOrEqual(100);
    expect(a.came[0]).toContain('volunteer after 0.1');
    const [none] = await checkNotifications(s, capture([]), [], () => t0);
    expect(none.ok).toBe(false);
    expect(none.came).toEqual(['no smoke alert came, so nobody could be told of one']);
  });

  it('are reported as not checked (skipped) against a running service', async () => {
    const api = { advanceClock: async () => undefined, alerts: async () => [] };
    const target = { api, remote: true, secrets: {}, mqttUrl: 'mqtt://x', httpUrl: 'http://x', token: 't', stop: async () => undefined } as unknown as Target;
    const r = await runScenario({ ...s, alerts: [] }, target);
    expect(r.status).toBe('passed');
    expect(r.checks).toEqual([]);
    expect(formatResult(r)).toContain('– notifications (3): not checked (skipped): the service runs elsewhere (--url)');
  });

  it('loads sms/call expectations by number, and a tap step; roles and numbers do not mix', () => {
    const s = parseScenario(`name: phones
timeline:
  - { at: 0s, device: gh-sd-6-302, helper: alarm }
  - { at: 10m, tap: { phone: "13800009667", answer: safe } }
phones: { people: { "13800009667": { call: no_answer } } }
alerts: [ { kind: smoke } ]
notifications:
  - { channel: call, numbers: ["13800000110"], after: 3m, outcome: answered, within: 20s }
`, { label: 's.yaml' });
    expect(s.notifications[0]).toMatchObject({ channel: 'call', numbers: ['13800000110'], notNumbers: [], after: 180_000, outcome: 'answered', kinds: ['smoke'] });
    expect(s.phones).toEqual({ sms: undefined, people: { '13800009667': { call: 'no_answer' } } });
    expect(s.steps[1].actions).toEqual([{ type: 'tap', phone: '13800009667', answer: 'safe' }]);
    const errors = errorsOf(`name: bad
timeline: [ { at: 0s, clock: true } ]
notifications:
  - { channel: sms, to: [property_duty], within: 10s, kind: smoke }
  - { channel: wecom, to: [property_duty], numbers: ["13800000110"], within: 10s, kind: smoke }
  - { channel: call, within: 10s, kind: smoke }
`);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/notifications\/0: whose phone\? give 'numbers'/),
        expect.stringMatching(/notifications\/0\/to: not for sms/),
        expect.stringMatching(/notifications\/1\/numbers: only for sms and call/),
        expect.stringMatching(/notifications\/2: whose phone\?/),
      ]),
    );
  });
});
