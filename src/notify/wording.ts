// The words of a notification: Chinese, naming the place, the severity and the time, with the least
// personal data that does the job (no phone numbers, no full names; a room and, for care alerts, the
// display name the volunteer already knows — the alert title carries that already).
import type { Directory } from '../config/inventory.js';
import type { AlertView } from '../alerts/types.js';
import { SEVERITY_ZH, type Notice } from './channels/types.js';

/** 11月22日 09:41 in the community's local time (UTC+8 by default). */
export function localTime(t: number, utcOffsetMinutes = 480): string {
  const d = new Date(t + utcOffsetMinutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

export type NoticeReason = 'opened' | 'reopened' | 'reminder' | 'escalation' | 'visit';

const REASON_PREFIX: Record<NoticeReason, string> = { opened: '', reopened: '再次发生：', reminder: '提醒：', escalation: '升级：', visit: '请上门查看：' };

export function noticeFor(
  alert: AlertView,
  directory: Directory,
  opts: { reason: NoticeReason; mentionMobiles: string[]; ackUrl?: string; snapshotUrl?: string; minutesUnacknowledged?: number; utcOffsetMinutes?: number },
): Notice {
  const community = directory.communities.get(alert.communityId)?.name ?? alert.communityId;
  const grid = directory.communities.get(alert.communityId)?.grids.find((g) => g.id === alert.gridId)?.name;
  const severity = SEVERITY_ZH[alert.severity];
  const lines = [
    `小区：${community}${grid ? `（${grid}）` : ''}`,
    `级别：${severity}`,
    `时间：${localTime(Date.parse(alert.openedAt), opts.utcOffsetMinutes)}${alert.count > 1 ? `，共${alert.count}次` : ''}`,
  ];
  // A care alert explains itself (no_water_use: 平时 7:40 前会用水，今天到 11:00 仍未用水…).
  if (typeof alert.details.explanation === 'string') lines.push(`说明：${alert.details.explanation}`);
  if (opts.minutesUnacknowledged !== undefined) lines.push(`已${opts.minutesUnacknowledged}分钟无人确认`);
  return {
    title: `【${severity}】${REASON_PREFIX[opts.reason]}${alert.title}`,
    lines,
    severity: alert.severity,
    mentionMobiles: opts.mentionMobiles,
    ackUrl: opts.ackUrl,
    ...(opts.snapshotUrl ? { snapshotUrl: opts.snapshotUrl } : {}),
    alertId: alert.id,
    data: {
      id: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      status: alert.status,
      communityId: alert.communityId,
      gridId: alert.gridId,
      deviceId: alert.deviceId,
      householdId: alert.householdId,
      spaceId: alert.spaceId,
      title: alert.title,
      openedAt: alert.openedAt,
      count: alert.count,
    },
  };
}
