// A channel turns one or more queued notifications for the same destination into one HTTP request, and
// judges the answer. Group robots (WeCom, DingTalk, Feishu) allow about 20 messages a minute, so queued
// messages for one robot are merged into one request rather than dropped (DOMAIN.md §5).

export type Severity = 'critical' | 'major' | 'minor' | 'info';

/** One notification, already worded (Chinese) and stripped to the least personal data that does the job. */
export interface Notice {
  /** e.g. 【紧急】桂花园 6号楼302 烟感报警 */
  title: string;
  /** Lines of the body: place, severity, time, what to do. No phone numbers, no full names. */
  lines: string[];
  severity: Severity;
  /** Mobiles of the people to mention (@) in the group; sent only where the platform needs them. */
  mentionMobiles: string[];
  /** One-tap acknowledge link (signed, expiring, single use). */
  ackUrl?: string;
  /** A camera alert's snapshot (signed, expiring, for the grid's staff only: src/notify/snapshotLinks.ts). */
  snapshotUrl?: string;
  alertId?: number;
  /** Machine-readable alert for generic webhooks. */
  data?: Record<string, unknown>;
}

export interface Destination {
  id: string;
  type: 'wecom' | 'dingtalk' | 'feishu' | 'webhook';
  url: string;
  /** DingTalk `SEC…` secret, Feishu signing secret, webhook HMAC key. WeCom robots are not signed. */
  secret?: string;
}

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type SendOutcome = { ok: true } | { ok: false; retryable: boolean; reason: string };

export interface Channel {
  type: Destination['type'];
  /** Largest body the platform takes; merging stops before it. */
  maxBytes: number;
  /** Build the request for these notices (merged into one message). `now` is epoch ms. */
  build(dest: Destination, notices: Notice[], now: number): HttpRequest;
  /** Judge the HTTP answer: a 200 whose body carries a non-zero errcode/code is a failure. */
  judge(status: number, body: string): SendOutcome;
}

export const SEVERITY_ZH: Record<Severity, string> = { critical: '紧急', major: '重要', minor: '一般', info: '提示' };

/** Plain text of one notice: title, lines, the link. */
export function noticeText(n: Notice): string {
  return [n.title, ...n.lines, ...(n.snapshotUrl ? [`抓拍照片：${n.snapshotUrl}`] : []), ...(n.ackUrl ? [`一键确认：${n.ackUrl}`] : [])].join('\n');
}

/** HTTP status → retry or not: 429 and 5xx are worth another try; other 4xx are not. */
export function judgeStatus(status: number): SendOutcome | null {
  if (status >= 200 && status < 300) return null;
  return { ok: false, retryable: status === 429 || status >= 500, reason: `HTTP ${status}` };
}

/**
 * WeCom and DingTalk answer HTTP 200 with {"errcode","errmsg"}: 0 is success; `retryable` lists the codes that
 * heal by waiting (rate limits; -1 "system busy").
 */
export function judgeErrcode(status: number, body: string, retryable: readonly number[]): SendOutcome {
  const bad = judgeStatus(status);
  if (bad) return bad;
  try {
    const { errcode, errmsg } = JSON.parse(body) as { errcode?: number; errmsg?: string };
    if (errcode === 0) return { ok: true };
    return { ok: false, retryable: errcode !== undefined && (errcode === -1 || retryable.includes(errcode)), reason: `errcode ${errcode}: ${errmsg ?? ''}` };
  } catch {
    return { ok: false, retryable: true, reason: 'answer is not JSON' };
  }
}
