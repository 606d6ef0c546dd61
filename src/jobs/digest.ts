// The committees' daily digest (居委 / 业委会; DESIGN.md "Who uses it": "a daily digest, response-time
// figures per grid"): what is still open by kind, how fast each micro-grid acknowledged and resolved over the
// window (median and p90 from the audit trail), devices offline and batteries low. Pure: the alerts and
// their events go in, the digest comes out; src/jobs/digestData.ts reads them from the store, the daily job
// queues the Chinese notice, GET /api/reports/daily answers the same digest as JSON.
import type { AlertKind } from '../alerts/types.js';
import { byAlertKind } from '../alerts/kinds.js';
import type { Notice } from '../notify/channels/types.js';
import { localTime } from '../notify/wording.js';
import { rules as allRules } from '../rules/index.js';

export interface DigestAlert {
  id: number;
  kind: AlertKind;
  gridId: string;
  title: string;
  deviceId?: string;
  householdId?: string;
  openedAt: number;
  resolvedAt: number | null;
  /** A resident's report or request (resident_report, resident_request): its category and the household's 评单. */
  category?: string;
  rating?: { score: number; at: number };
}

/** Audit-trail lines that matter here: opened, reopened, acknowledged, dispatched, accepted, resolved. */
export interface DigestEvent {
  alertId: number;
  at: number;
  type: string;
  /** A person's id, or `system` for a rule. */
  actor: string;
}

export interface DigestInput {
  community: { id: string; name: string };
  /** The micro-grids the digest covers (the reader's). */
  grids: Array<{ id: string; name: string }>;
  /** The window (from, to], epoch ms. */
  from: number;
  to: number;
  /** Alerts of those grids that were not resolved before `from` and opened by `to`. */
  alerts: DigestAlert[];
  /** Their audit-trail lines up to `to`, any order. */
  events: DigestEvent[];
  utcOffsetMinutes: number;
  /** The grids' devices by status (正常 / 迟报 / 离线, src/state/cadence.ts) at the window's end — known only for a
   *  window that ends now (the status is not kept per day). */
  devices?: { ok: number; late: number; offline: number };
}

export interface ResponseStat {
  count: number;
  medianMinutes: number | null;
  p90Minutes: number | null;
}

export interface DeviceLine {
  alertId: number;
  deviceId?: string;
  householdId?: string;
  gridId: string;
  title: string;
  since: string;
}

export interface Digest {
  communityId: string;
  communityName: string;
  /** The local date of the window's end, YYYY-MM-DD. */
  date: string;
  from: string;
  to: string;
  /** Alerts still open (not resolved) at the window's end. */
  openAlerts: { total: number; byKind: Partial<Record<AlertKind, number>> };
  /** New alerts, resolutions by a person, and ones that cleared themselves, within the window. */
  opened: number;
  resolved: number;
  autoResolved: number;
  grids: Array<{
    gridId: string;
    gridName: string;
    opened: number;
    open: number;
    /** Opened (or re-opened) → the first move by a person: acknowledge, dispatch, accept or resolve. */
    acknowledge: ResponseStat;
    /** Opened (or re-opened) → resolved by a person. */
    resolve: ResponseStat;
  }>;
  offlineDevices: DeviceLine[];
  lowBatteries: DeviceLine[];
  /** Devices by status at the window's end, when the window ends now (GET /api/devices' status). */
  devices?: { ok: number; late: number; offline: number };
  /** Residents' reports (随手拍) and requests (点单), issue 17. */
  residents: {
    /** Filed within the window, by category (codes of src/residents/workOrders.ts). */
    filed: { report: Record<string, number>; request: Record<string, number> };
    grids: Array<{
      gridId: string;
      gridName: string;
      filed: number;
      /** Filed → the first step by the grid's staff (确认, 派单, 接单 or 办结). */
      firstResponse: ResponseStat;
      /** Filed → 办结. */
      resolve: ResponseStat;
    }>;
    /** 评单 given within the window by the filing households: how many, and their average (1–5, one decimal). */
    rating: { count: number; average: number | null };
  };
  /** AI-camera alerts (devices/ai-camera) opened within the window, by kind (a burst on one camera is one). */
  cameras: Partial<Record<AlertKind, number>>;
}

/** Each alert kind's label (src/alerts/kinds.ts): the same words as the console's. */
export const KIND_ZH = byAlertKind('label') as Record<AlertKind, string>;

const RESPONSES = new Set(['acknowledged', 'dispatched', 'accepted', 'resolved']);
const RESIDENT = new Set<AlertKind>(['resident_report', 'resident_request']);
/** The alert kinds AI cameras raise (the rules that read ai-camera events), in declaration order. */
export const CAMERA_KINDS: readonly AlertKind[] = allRules.filter((r) => r.deviceKinds.includes('ai-camera')).map((r) => r.name);
const CAMERA = new Set<AlertKind>(CAMERA_KINDS);
/** Category codes in words (src/residents/workOrders.ts). */
const CATEGORY_ZH: Record<'report' | 'request', Record<string, string>> = {
  report: { parking: '乱停放', garbage: '垃圾堆放', facility: '设施损坏', safety: '安全隐患', noise: '噪音扰民', other: '其他' },
  request: { repair: '维修', elder_help: '助老', errand: '代办', other: '其他' },
};
const SYSTEM = 'system';
const iso = (t: number) => new Date(t).toISOString();

/** Median and p90 (nearest rank) in minutes, one decimal. */
export function responseStat(ms: number[]): ResponseStat {
  if (ms.length === 0) return { count: 0, medianMinutes: null, p90Minutes: null };
  const s = [...ms].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p90 = s[Math.ceil(0.9 * n) - 1];
  const min = (v: number) => Math.round(v / 6_000) / 10;
  return { count: n, medianMinutes: min(median), p90Minutes: min(p90) };
}

/** YYYY-MM-DD of an instant in local time. */
export function localDate(t: number, utcOffsetMinutes: number): string {
  return new Date(t + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

export function buildDigest(input: DigestInput): Digest {
  const { from, to } = input;
  const inWindow = (t: number) => t > from && t <= to;
  const events = new Map<number, DigestEvent[]>();
  for (const e of input.events) if (e.at <= to) events.set(e.alertId, [...(events.get(e.alertId) ?? []), e]);

  const grids = new Map(
    input.grids.map((g) => [g.id, { gridId: g.id, gridName: g.name, opened: 0, open: 0, ack: [] as number[], res: [] as number[] }]),
  );
  const byKind: Partial<Record<AlertKind, number>> = {};
  let total = 0;
  let opened = 0;
  let resolved = 0;
  let autoResolved = 0;
  const offline: DeviceLine[] = [];
  const lowBattery: DeviceLine[] = [];
  const residentGrids = new Map(input.grids.map((g) => [g.id, { gridId: g.id, gridName: g.name, filed: 0, first: [] as number[], res: [] as number[] }]));
  const filed = { report: {} as Record<string, number>, request: {} as Record<string, number> };
  const ratings: number[] = [];
  const cameras: Partial<Record<AlertKind, number>> = {};

  for (const a of input.alerts) {
    const g = grids.get(a.gridId);
    if (!g || a.openedAt > to) continue;
    const list = (events.get(a.id) ?? []).sort((x, y) => x.at - y.at);
    if (RESIDENT.has(a.kind)) residentOrder(a, list);
    if (CAMERA.has(a.kind) && list.some((e) => e.type === 'opened' && inWindow(e.at))) cameras[a.kind] = (cameras[a.kind] ?? 0) + 1;
    // Walk the trail: each opening (first or re-open) starts a clock that the first response stops.
    let openSince: number | undefined;
    let responded = false;
    let isOpen = list.length === 0 ? a.resolvedAt === null || a.resolvedAt > to : false;
    if (list.length === 0) openSince = a.openedAt;
    for (const e of list) {
      if (e.type === 'opened' || e.type === 'reopened') {
        openSince = e.at;
        responded = false;
        isOpen = true;
        if (e.type === 'opened' && inWindow(e.at)) {
          opened++;
          g.opened++;
        }
        continue;
      }
      const byPerson = e.actor !== SYSTEM;
      if (byPerson && RESPONSES.has(e.type) && !responded && openSince !== undefined) {
        responded = true;
        if (inWindow(e.at)) g.ack.push(e.at - openSince);
      }
      if (e.type === 'resolved') {
        isOpen = false;
        if (inWindow(e.at)) {
          if (byPerson) {
            resolved++;
            if (openSince !== undefined) g.res.push(e.at - openSince);
          } else autoResolved++;
        }
      }
    }
    if (!isOpen) continue;
    total++;
    g.open++;
    byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    const line: DeviceLine = { alertId: a.id, gridId: a.gridId, title: a.title, since: iso(openSince ?? a.openedAt) };
    if (a.deviceId) line.deviceId = a.deviceId;
    if (a.householdId) line.householdId = a.householdId;
    if (a.kind === 'device_offline') offline.push(line);
    if (a.kind === 'low_battery') lowBattery.push(line);
  }

  /** A resident's order: filed in the window by category; its first response and resolution by the grid's staff. */
  function residentOrder(a: DigestAlert, list: DigestEvent[]): void {
    const rg = residentGrids.get(a.gridId)!;
    const type = a.kind === 'resident_request' ? 'request' : 'report';
    if (inWindow(a.openedAt)) {
      rg.filed++;
      filed[type][a.category ?? 'other'] = (filed[type][a.category ?? 'other'] ?? 0) + 1;
    }
    const staff = list.filter((e) => e.actor !== SYSTEM && !e.actor.startsWith('resident:') && RESPONSES.has(e.type));
    if (staff[0] && inWindow(staff[0].at)) rg.first.push(staff[0].at - a.openedAt);
    const done = staff.find((e) => e.type === 'resolved');
    if (done && inWindow(done.at)) rg.res.push(done.at - a.openedAt);
    if (a.rating && inWindow(a.rating.at)) ratings.push(a.rating.score);
  }

  const bySince = (x: DeviceLine, y: DeviceLine) => x.since.localeCompare(y.since) || x.alertId - y.alertId;
  return {
    communityId: input.community.id,
    communityName: input.community.name,
    date: localDate(to, input.utcOffsetMinutes),
    from: iso(from),
    to: iso(to),
    openAlerts: { total, byKind },
    opened,
    resolved,
    autoResolved,
    grids: [...grids.values()].map((g) => ({
      gridId: g.gridId,
      gridName: g.gridName,
      opened: g.opened,
      open: g.open,
      acknowledge: responseStat(g.ack),
      resolve: responseStat(g.res),
    })),
    offlineDevices: offline.sort(bySince),
    lowBatteries: lowBattery.sort(bySince),
    ...(input.devices ? { devices: input.devices } : {}),
    residents: {
      filed,
      grids: [...residentGrids.values()].map((g) => ({
        gridId: g.gridId,
        gridName: g.gridName,
        filed: g.filed,
        firstResponse: responseStat(g.first),
        resolve: responseStat(g.res),
      })),
      rating: { count: ratings.length, average: ratings.length ? Math.round((ratings.reduce((x, y) => x + y, 0) / ratings.length) * 10) / 10 : null },
    },
    cameras,
  };
}

function cameraLine(d: Digest): string {
  const kinds = CAMERA_KINDS.filter((k) => d.cameras[k]).map((k) => `${KIND_ZH[k]}${d.cameras[k]}起`);
  return kinds.length ? `摄像机事件：${kinds.join('，')}` : '摄像机事件：无';
}

const LISTED = 5;

function stat(s: ResponseStat): string {
  return s.count === 0 ? '无' : `中位${s.medianMinutes}分钟/P90 ${s.p90Minutes}分钟（${s.count}件）`;
}

function devices(label: string, list: DeviceLine[]): string {
  if (list.length === 0) return `${label}：无`;
  const names = list.slice(0, LISTED).map((d) => d.title);
  return `${label}${list.length}台：${names.join('；')}${list.length > LISTED ? ` 等` : ''}`;
}

function residentLines(d: Digest): string[] {
  const r = d.residents;
  const cats = (type: 'report' | 'request') =>
    Object.entries(r.filed[type])
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${CATEGORY_ZH[type][k] ?? k}${n}`)
      .join('，');
  const reports = Object.values(r.filed.report).reduce((x, y) => x + y, 0);
  const requests = Object.values(r.filed.request).reduce((x, y) => x + y, 0);
  const active = r.grids.filter((g) => g.filed || g.firstResponse.count || g.resolve.count);
  if (!reports && !requests && !active.length && !r.rating.count) return ['居民随手拍/点单：无'];
  return [
    `居民随手拍${reports}件${reports ? `（${cats('report')}）` : ''}，居民点单${requests}件${requests ? `（${cats('request')}）` : ''}`,
    ...active.map((g) => `${g.gridName}居民诉求：首次响应 ${stat(g.firstResponse)}；办结 ${stat(g.resolve)}`),
    r.rating.count ? `居民评价${r.rating.count}件，平均${r.rating.average}分` : '居民评价：无',
  ];
}

/** The digest as a Chinese notice for the committee's group robots (severity info: quiet hours apply). */
export function digestNotice(d: Digest, utcOffsetMinutes: number): Notice {
  const kinds = Object.entries(d.openAlerts.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${KIND_ZH[k as AlertKind] ?? k}${n}`);
  const lines = [
    `时段：${localTime(Date.parse(d.from), utcOffsetMinutes)} 至 ${localTime(Date.parse(d.to), utcOffsetMinutes)}`,
    d.openAlerts.total ? `未办结警情${d.openAlerts.total}件：${kinds.join('，')}` : '未办结警情：无',
    `新增${d.opened}件，人工办结${d.resolved}件，自动消除${d.autoResolved}件`,
    ...d.grids.map((g) => `${g.gridName}：新增${g.opened}件，未办结${g.open}件；确认用时 ${stat(g.acknowledge)}；办结用时 ${stat(g.resolve)}`),
    ...(d.devices ? [`设备：正常${d.devices.ok}台，迟报${d.devices.late}台，离线${d.devices.offline}台`] : []),
    devices('离线设备', d.offlineDevices),
    devices('电量低', d.lowBatteries),
    ...residentLines(d),
    cameraLine(d),
  ];
  return {
    title: `【提示】${d.communityName} 每日简报（${Number(d.date.slice(5, 7))}月${Number(d.date.slice(8, 10))}日）`,
    lines,
    severity: 'info',
    mentionMobiles: [],
    data: { type: 'daily_digest', ...d },
  };
}
