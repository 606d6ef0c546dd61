// The committee's daily digest is a pure function of alerts and their audit trail: tested with fixtures.
import { describe, it, expect } from 'vitest';
import { buildDigest, digestNotice, responseStat, localDate, type DigestAlert, type DigestEvent, type DigestInput } from '../../src/jobs/digest.js';
import { zoneForOffset } from '../../src/jobs/cronJob.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TO = Date.parse('2025-03-02T08:00:00+08:00');
const FROM = TO - 24 * HOUR;

let nextId = 1;
function alert(a: Partial<DigestAlert> & Pick<DigestAlert, 'kind' | 'gridId' | 'openedAt'>, trail: Array<[minutesAfterOpen: number, type: string, actor?: string]> = []) {
  const id = nextId++;
  const full: DigestAlert = { id, title: `${a.kind} ${id}`, resolvedAt: null, ...a };
  const events: DigestEvent[] = [{ alertId: id, at: a.openedAt, type: 'opened', actor: 'system' }];
  for (const [m, type, actor = 'p1'] of trail) events.push({ alertId: id, at: a.openedAt + m * MIN, type, actor });
  const resolved = events.filter((e) => e.type === 'resolved').pop();
  if (resolved && !events.some((e) => e.type === 'reopened' && e.at > resolved.at)) full.resolvedAt = resolved.at;
  return { alert: full, events };
}

function input(list: Array<ReturnType<typeof alert>>, extra: Partial<DigestInput> = {}): DigestInput {
  return {
    community: { id: 'c1', name: '桂花园' },
    grids: [
      { id: 'g1', name: '第一微网格' },
      { id: 'g2', name: '第二微网格' },
    ],
    from: FROM,
    to: TO,
    alerts: list.map((l) => l.alert),
    events: list.flatMap((l) => l.events),
    utcOffsetMinutes: 480,
    ...extra,
  };
}

describe('daily digest', () => {
  it('computes median and p90 by nearest rank', () => {
    expect(responseStat([])).toEqual({ count: 0, medianMinutes: null, p90Minutes: null });
    const ms = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * MIN);
    expect(responseStat(ms)).toEqual({ count: 10, medianMinutes: 5.5, p90Minutes: 9 });
    expect(responseStat([3 * MIN, 1 * MIN, 2 * MIN])).toEqual({ count: 3, medianMinutes: 2, p90Minutes: 3 });
  });

  it('counts open alerts by kind at the window end, and response times per grid', () => {
    const d = buildDigest(
      input([
        alert({ kind: 'smoke', gridId: 'g1', openedAt: TO - 10 * HOUR }, [[2, 'acknowledged'], [20, 'resolved']]),
        alert({ kind: 'illegal_parking', gridId: 'g1', openedAt: TO - 9 * HOUR }, [[4, 'dispatched'], [6, 'accepted'], [40, 'resolved']]),
        alert({ kind: 'no_water_use', gridId: 'g2', openedAt: TO - 5 * HOUR }, [[30, 'acknowledged']]),
        alert({ kind: 'missed_check', gridId: 'g2', openedAt: TO - 3 * HOUR }),
        alert({ kind: 'lot_full', gridId: 'g1', openedAt: TO - 2 * HOUR }, [[15, 'resolved', 'system']]),
        // Opened two days ago and still open: counted open, not new.
        alert({ kind: 'device_offline', gridId: 'g2', openedAt: TO - 48 * HOUR, deviceId: 'wm-1', title: '6号楼302 水表离线' }),
        alert({ kind: 'low_battery', gridId: 'g1', openedAt: TO - 30 * HOUR, deviceId: 'sd-1', title: '5号楼203 烟感电量低' }),
        // Outside the reader's grids: ignored.
        alert({ kind: 'smoke', gridId: 'g9', openedAt: TO - HOUR }),
      ]),
    );
    expect(d).toMatchObject({
      communityId: 'c1',
      date: '2025-03-02',
      from: new Date(FROM).toISOString(),
      to: new Date(TO).toISOString(),
      openAlerts: { total: 4, byKind: { no_water_use: 1, missed_check: 1, device_offline: 1, low_battery: 1 } },
      opened: 5,
      resolved: 2,
      autoResolved: 1,
    });
    const [g1, g2] = d.grids;
    expect(g1).toMatchObject({ gridId: 'g1', opened: 3, open: 1, acknowledge: { count: 2, medianMinutes: 3, p90Minutes: 4 }, resolve: { count: 2, medianMinutes: 30, p90Minutes: 40 } });
    expect(g2).toMatchObject({ gridId: 'g2', opened: 2, open: 3, acknowledge: { count: 1, medianMinutes: 30 }, resolve: { count: 0, medianMinutes: null } });
    expect(d.offlineDevices).toEqual([
      { alertId: expect.any(Number), deviceId: 'wm-1', gridId: 'g2', title: '6号楼302 水表离线', since: new Date(TO - 48 * HOUR).toISOString() },
    ]);
    expect(d.lowBatteries.map((l) => l.deviceId)).toEqual(['sd-1']);
  });

  it('times a re-opened alert from its re-opening, and judges "open" from the trail at the window end', () => {
    const reopened = alert({ kind: 'illegal_parking', gridId: 'g1', openedAt: TO - 20 * HOUR }, [
      [10, 'resolved', 'system'],
      [12, 'reopened', 'system'],
      [17, 'acknowledged'],
    ]);
    // Resolved after the window's end: still open at `to`.
    const later = alert({ kind: 'smoke', gridId: 'g1', openedAt: TO - HOUR }, [[2 * 60, 'resolved']]);
    const d = buildDigest(input([reopened, later]));
    expect(d.grids[0].acknowledge).toEqual({ count: 1, medianMinutes: 5, p90Minutes: 5 });
    expect(d.openAlerts).toEqual({ total: 2, byKind: { illegal_parking: 1, smoke: 1 } });
    expect(d.resolved).toBe(0);
  });

  it('words a Chinese notice with the figures', () => {
    const d = buildDigest(
      input([
        alert({ kind: 'missed_check', gridId: 'g2', openedAt: TO - 3 * HOUR }),
        alert({ kind: 'smoke', gridId: 'g1', openedAt: TO - 10 * HOUR }, [[2, 'acknowledged'], [20, 'resolved']]),
        alert({ kind: 'device_offline', gridId: 'g2', openedAt: TO - 48 * HOUR, deviceId: 'wm-1', title: '6号楼302 水表离线' }),
      ]),
    );
    const n = digestNotice(d, 480);
    expect(n.title).toBe('【提示】桂花园 每日简报（3月2日）');
    expect(n.severity).toBe('info');
    expect(n.lines).toEqual([
      '时段：3月1日 08:00 至 3月2日 08:00',
      '未办结警情2件：巡访未见活动1，设备离线1',
      '新增2件，人工办结1件，自动消除0件',
      '第一微网格：新增1件，未办结0件；确认用时 中位2分钟/P90 2分钟（1件）；办结用时 中位20分钟/P90 20分钟（1件）',
      '第二微网格：新增1件，未办结2件；确认用时 无；办结用时 无',
      '离线设备1台：6号楼302 水表离线',
      '电量低：无',
      '居民随手拍/点单：无',
      '摄像机事件：无',
    ]);
    expect(n.data).toMatchObject({ type: 'daily_digest', communityId: 'c1' });
  });

  it('counts AI-camera alerts opened in the window by kind (a burst on one camera is one), in words', () => {
    const d = buildDigest(
      input([
        alert({ kind: 'ebike_in_lift', gridId: 'g1', openedAt: TO - 5 * HOUR, deviceId: 'cam-1' }, [[3, 'resolved']]),
        alert({ kind: 'ebike_in_lift', gridId: 'g1', openedAt: TO - 2 * HOUR, deviceId: 'cam-1' }),
        alert({ kind: 'camera_fire', gridId: 'g2', openedAt: TO - HOUR, deviceId: 'cam-2' }),
        // Opened the day before: not this window's.
        alert({ kind: 'garbage_overflow', gridId: 'g1', openedAt: TO - 30 * HOUR, deviceId: 'cam-3' }),
        alert({ kind: 'smoke', gridId: 'g1', openedAt: TO - HOUR }),
      ]),
    );
    expect(d.cameras).toEqual({ ebike_in_lift: 2, camera_fire: 1 });
    expect(digestNotice(d, 480).lines).toContain('摄像机事件：烟火报警1起，电动车进电梯2起');
    expect(buildDigest(input([])).cameras).toEqual({});
  });

  it('an empty day is still a digest', () => {
    const d = buildDigest(input([]));
    expect(d.openAlerts.total).toBe(0);
    expect(digestNotice(d, 480).lines[1]).toBe('未办结警情：无');
  });

  it('local dates and cron time zones follow the UTC offset', () => {
    expect(localDate(Date.parse('2025-03-01T17:00:00Z'), 480)).toBe('2025-03-02');
    expect(zoneForOffset(480)).toBe('Etc/GMT-8');
    expect(zoneForOffset(-300)).toBe('Etc/GMT+5');
    expect(zoneForOffset(0)).toBe('Etc/UTC');
    expect(zoneForOffset(330)).toBeUndefined();
  });

  it("adds residents' reports and requests: by category, first response and resolution per grid, the average 评单", () => {
    const filedBy = (a: ReturnType<typeof alert>) => ((a.events[0].actor = 'resident:h1'), a);
    const rated = (a: ReturnType<typeof alert>, score: number, at: number) => ((a.alert.rating = { score, at }), a);
    const d = buildDigest(
      input([
        rated(filedBy(alert({ kind: 'resident_report', category: 'parking', gridId: 'g1', openedAt: TO - 10 * HOUR }, [[5, 'acknowledged'], [10, 'dispatched'], [60, 'resolved']])), 4, TO - 8 * HOUR),
        rated(filedBy(alert({ kind: 'resident_report', category: 'parking', gridId: 'g1', openedAt: TO - 9 * HOUR }, [[15, 'dispatched'], [120, 'resolved']])), 2, TO - 6 * HOUR),
        filedBy(alert({ kind: 'resident_report', category: 'garbage', gridId: 'g2', openedAt: TO - 3 * HOUR })),
        filedBy(alert({ kind: 'resident_request', category: 'elder_help', gridId: 'g2', openedAt: TO - 2 * HOUR }, [[30, 'accepted']])),
        // Filed before the window, rated in it: the rating counts, the filing does not.
        rated(filedBy(alert({ kind: 'resident_request', category: 'repair', gridId: 'g1', openedAt: FROM - 5 * HOUR }, [[10, 'resolved']])), 5, TO - HOUR),
        // A sensor's alert is not a resident's.
        alert({ kind: 'smoke', gridId: 'g1', openedAt: TO - 5 * HOUR }, [[1, 'acknowledged']]),
      ]),
    );
    expect(d.residents.filed).toEqual({ report: { parking: 2, garbage: 1 }, request: { elder_help: 1 } });
    const [g1, g2] = d.residents.grids;
    expect(g1).toMatchObject({ gridId: 'g1', filed: 2, firstResponse: { count: 2, medianMinutes: 10 }, resolve: { count: 2, medianMinutes: 90 } });
    expect(g2).toMatchObject({ gridId: 'g2', filed: 2, firstResponse: { count: 1, medianMinutes: 30 }, resolve: { count: 0 } });
    expect(d.residents.rating).toEqual({ count: 3, average: 3.7 });
    const text = digestNotice(d, 480).lines.join('\n');
    expect(text).toContain('居民随手拍3件（乱停放2，垃圾堆放1），居民点单1件（助老1）');
    expect(text).toMatch(/第一微网格居民诉求：首次响应 中位10分钟/);
    expect(text).toContain('居民评价3件，平均3.7分');
    // A day without any: said so in one line.
    expect(digestNotice(buildDigest(input([])), 480).lines).toContain('居民随手拍/点单：无');
  });
});
