// Residents in the loop (issue 17): a household files a report (随手拍) or a request (居民点单) from the phone
// page; it becomes an alert of kind `resident_report` / `resident_request` in the grid of the place it names, and
// from there it is worked like any alert (确认, 派单, 接单, 办结 — src/alerts/permissions.ts) and rated (评单) by
// the household that filed it. What the household sees of it is `ResidentOrder`: its own words, where, the
// status in Chinese and the steps with their times — never who on the staff took them.
import { randomBytes } from 'node:crypto';
import type { Directory, HouseholdInfo } from '../config/inventory.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { AlertView, TimelineEntry } from '../alerts/types.js';
import { AppError } from '../errors.js';
import type { PhotosRepo } from '../store/store.js';

export const ORDER_TYPES = ['report', 'request'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** 随手拍 categories (桂花园's own list). */
export const REPORT_CATEGORIES = {
  parking: '乱停放',
  garbage: '垃圾堆放',
  facility: '设施损坏',
  safety: '安全隐患',
  noise: '噪音扰民',
  other: '其他',
} as const;

/** 居民点单 categories (智慧春江's 四单制). */
export const REQUEST_CATEGORIES = {
  repair: '维修',
  elder_help: '助老',
  errand: '代办',
  other: '其他',
} as const;

export const CATEGORIES: Record<OrderType, Record<string, string>> = { report: REPORT_CATEGORIES, request: REQUEST_CATEGORIES };
export const KIND_OF: Record<OrderType, 'resident_report' | 'resident_request'> = { report: 'resident_report', request: 'resident_request' };
export const ORDER_KINDS = ['resident_report', 'resident_request'] as const;
const TYPE_ZH: Record<OrderType, string> = { report: '随手拍', request: '居民点单' };

/**
 * Per-household limits: a household cannot flood its grid's staff. Unresolved at once, and filed per local day.
 * Both are counted inside the filing's transaction.
 */
export const LIMITS = { unresolved: 5, perDay: 10 } as const;

export const TEXT_MAX = 200;

/** A place of the community a report can be about: a building or a parking lot, each in its grid. */
export interface CommunityPlace {
  id: string;
  name: string;
  kind: 'building' | 'parking';
  gridId: string;
}

export function placesOf(directory: Directory, communityId: string): CommunityPlace[] {
  const out: CommunityPlace[] = [];
  for (const b of directory.buildings.values()) if (b.communityId === communityId) out.push({ id: b.id, name: b.name, kind: 'building', gridId: b.gridId });
  for (const l of directory.lots.values()) if (l.communityId === communityId) out.push({ id: l.id, name: l.name, kind: 'parking', gridId: l.gridId });
  return out;
}

export interface FileInput {
  type: OrderType;
  category: string;
  text: string;
  /** A building or parking lot of the household's community; default: the household's own building. */
  placeId?: string;
  /** Up to 3 photos the household uploaded for it (POST /api/resident/photos), by id. */
  photos?: string[];
}

/** What the household sees of one of its orders. */
export interface ResidentOrder {
  id: number;
  type: OrderType;
  category: string;
  categoryZh: string;
  text: string;
  place: string;
  status: AlertView['status'];
  statusZh: string;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  resolution?: string;
  rating?: { score: number; comment?: string; at: string };
  /** Ids of the report's photos (GET /api/resident/photos/{id}), and of the photo taken on resolution. */
  photos: string[];
  resolutionPhoto?: string;
  /** May the household rate it now? */
  canRate: boolean;
  steps?: Array<{ at: string; what: string; note?: string }>;
}

const STATUS_ZH: Record<AlertView['status'], string> = {
  open: '已提交，等待受理',
  acknowledged: '已受理',
  dispatched: '已派单',
  accepted: '工作人员处理中',
  resolved: '已办结',
};
const STEP_ZH: Record<string, string> = {
  opened: '已提交',
  acknowledged: '社区已受理',
  dispatched: '已派给工作人员',
  accepted: '工作人员已接单',
  resolved: '已办结',
  rated: '已评价',
};

/** The timeline actor of a household's own steps. */
export const residentActor = (householdId: string) => `resident:${householdId}`;

const typeOf = (a: AlertView): OrderType => (a.kind === 'resident_request' ? 'request' : 'report');

export function residentView(a: AlertView, timeline?: TimelineEntry[]): ResidentOrder {
  const d = a.details as { category?: string; text?: string; placeName?: string; photos?: string[]; resolutionPhoto?: string };
  const type = typeOf(a);
  const v: ResidentOrder = {
    id: a.id,
    type,
    category: d.category ?? 'other',
    categoryZh: CATEGORIES[type][d.category ?? 'other'] ?? '其他',
    text: d.text ?? '',
    place: d.placeName ?? '',
    status: a.status,
    statusZh: a.status === 'resolved' && a.rating ? '已办结，已评价' : STATUS_ZH[a.status],
    openedAt: a.openedAt,
    updatedAt: a.updatedAt,
    photos: d.photos ?? [],
    canRate: a.status === 'resolved' && !a.rating,
  };
  if (d.resolutionPhoto) v.resolutionPhoto = d.resolutionPhoto;
  if (a.resolvedAt) v.resolvedAt = a.resolvedAt;
  if (a.resolution) v.resolution = a.resolution;
  if (a.rating) v.rating = { score: a.rating.score, ...(a.rating.comment ? { comment: a.rating.comment } : {}), at: a.rating.at };
  if (timeline)
    v.steps = timeline
      .filter((e) => STEP_ZH[e.type])
      .map((e) => ({ at: e.at, what: STEP_ZH[e.type], ...(e.type === 'resolved' && typeof e.data?.note === 'string' ? { note: e.data.note } : {}) }));
  return v;
}

/** Start of the local day of `now` (epoch ms). */
export function localDayStart(now: number, utcOffsetMinutes: number): number {
  const off = utcOffsetMinutes * 60_000;
  return Math.floor((now + off) / 86_400_000) * 86_400_000 - off;
}

export class WorkOrders {
  constructor(
    private readonly deps: { engine: RuleEngine; directory: Directory; utcOffsetMinutes: number; photos?: PhotosRepo },
  ) {}

  /** File a report or request for `household`: an alert in the grid of the place, its notifications queued with it. */
  file(h: HouseholdInfo, input: FileInput): AlertView {
    const { directory, engine } = this.deps;
    const categories = CATEGORIES[input.type];
    if (!(input.category in categories)) throw new AppError('SB_VALIDATION', `请选择类别（${Object.values(categories).join('、')}）`);
    const text = input.text.trim();
    if (text.length === 0) throw new AppError('SB_VALIDATION', '请写一句话说明情况');
    const placeId = input.placeId ?? h.buildingId;
    const place = placesOf(directory, h.communityId).find((p) => p.id === placeId);
    if (!place) throw new AppError('SB_UNKNOWN_PLACE', '请从列表中选择地点');
    const categoryZh = categories[input.category];
    const photos = [...new Set(input.photos ?? [])];
    return engine.openFiled(
      {
        kind: KIND_OF[input.type],
        // Each filing is its own alert (one open alert per kind and subject).
        subject: `${h.id}:${randomBytes(6).toString('base64url')}`,
        place: { communityId: h.communityId, gridId: place.gridId, householdId: h.id },
        severity: 'minor',
        title: `${TYPE_ZH[input.type]}：${categoryZh} · ${place.name}`,
        details: {
          type: input.type,
          category: input.category,
          categoryZh,
          text,
          placeId: place.id,
          placeName: place.name,
          filedBy: `${h.buildingName}${h.room}`,
          ...(photos.length ? { photos } : {}),
        },
        actor: residentActor(h.id),
      },
      (now) => {
        const n = engine.alerts.filedBy(h.id, ORDER_KINDS, localDayStart(now, this.deps.utcOffsetMinutes));
        if (n.unresolved >= LIMITS.unresolved)
          throw new AppError('SB_RESIDENT_LIMIT', `您家还有 ${n.unresolved} 件未办结，请等处理后再提交；紧急情况请直接打电话给物业或社区`);
        if (n.since >= LIMITS.perDay) throw new AppError('SB_RESIDENT_LIMIT', `您家今天已提交 ${n.since} 件，请明天再提交；紧急情况请直接打电话给物业或社区`);
      },
      // In the same transaction: the household's own unattached uploads become the report's, or nothing is filed.
      (alert) => {
        for (const p of photos)
          if (!this.deps.photos?.attach(h.id, p, alert.id)) throw new AppError('SB_VALIDATION', '照片还没有上传好或已用在别的上报里，请重新选择照片');
      },
    );
  }

  /** The household's own orders, newest first. */
  list(householdId: string, limit = 50): Promise<AlertView[]> {
    return this.deps.engine.alerts.list({ kinds: ORDER_KINDS, grids: 'all', households: new Set([householdId]), limit });
  }

  /** One of the household's own orders; anybody else's is answered like a missing one. */
  own(householdId: string, id: number): AlertView {
    const a = this.deps.engine.alerts.get(id);
    if (!a || a.householdId !== householdId || !(ORDER_KINDS as readonly string[]).includes(a.kind)) throw new AppError('SB_NOT_FOUND', '找不到这条记录');
    return a;
  }
}
