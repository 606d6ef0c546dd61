// Everything the console shows in words: labels for the API's codes, and times and durations in Chinese.
export const SEVERITY = { critical: '紧急', major: '重要', minor: '一般', info: '提示' };
export const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, info: 3 };

/** A device's status by its cadence (GET /api/devices `status`, src/state/cadence.ts). */
export const DEVICE_STATUS = { ok: '正常', late: '迟报', offline: '离线' };

export const STATUS = { open: '待确认', acknowledged: '已确认', dispatched: '已派单', accepted: '处理中', resolved: '已办结' };

// Alert-kind and device-kind labels come from the server's declarations (GET /js/labels.js, src/api/web.ts).
export { KIND, DEVICE_KIND } from './labels.js';

export const TIMELINE = {
  opened: '告警产生',
  repeated: '再次触发',
  reopened: '重新打开',
  acknowledged: '确认',
  dispatched: '派单',
  accepted: '接单',
  resolved: '办结',
  rated: '评价',
  note: '备注',
  updated: '更新',
  cleared: '现场恢复',
  phone_step: '短信/电话通知',
  phone_chain_end: '联系人均未接通',
  work_order: '派单上门查看',
};

/** Texts and calls on the timeline (src/notify/phone): who, and what became of it. */
export const PHONE_TO = { duty: '值班电话', family: '家属', neighbour: '邻居', volunteer: '志愿者', doctor: '医生' };
export const PHONE_OUTCOME = {
  accepted: '已发出',
  delivered: '已送达',
  undelivered: '未送达',
  answered: '已接听',
  no_answer: '未接听',
  unknown: '结果未知',
  failed: '发送失败',
  limited: '超过次数上限，未发',
  duplicate: '已联系过，未重复',
  cancelled: '告警已处理，未发',
};

export const ROLE = {
  property_duty: '物业值班',
  grid_head: '微网格长',
  grid_member: '微网格员',
  special_care: '特殊关怀员',
  emergency: '应急处置员',
  volunteer: '志愿者',
  residents_committee: '居委',
  owners_committee: '业委会',
  admin: '管理员',
};


export const SIGN = { water: '用水', visit: '探访' };
/** Absence reasons (POST api/care/absences) and how a row reads while away. */
export const ABSENCE = { outing: '外出', hospital: '住院', family: '子女家', other: '其他' };
export const AWAY = { outing: '外出中', hospital: '住院中', family: '在子女家', other: '不在家' };

/** The server's stable error codes in words a person on duty understands. */
const ERRORS = {
  NETWORK: '无法连接服务器，请检查网络',
  SB_BAD_CREDENTIALS: '用户名或密码错误',
  SB_TOO_MANY_ATTEMPTS: '失败次数过多，请稍后再试',
  SB_UNAUTHORIZED: '登录已失效，请重新登录',
  SB_FORBIDDEN: '没有权限执行该操作',
  SB_NOT_FOUND: '找不到该记录（可能不在您的网格内）',
  SB_ILLEGAL_TRANSITION: '告警状态已变化，请刷新后再操作',
  SB_NOT_ASSIGNEE: '只有被派单人才能接单',
  SB_UNKNOWN_ASSIGNEE: '该人员不属于本网格',
  SB_VALIDATION: '填写内容不符合要求',
  SB_TELEMETRY_DISABLED: '服务器未保存历史数据',
  SB_TELEMETRY_UNAVAILABLE: '历史数据库暂时无法访问',
  SB_ABSENCE_RANGE: '时间不对：预计回来的时间须晚于现在和离开时间，离开时间最多往前7天',
  SB_ABSENCE_TOO_LONG: '一次最长登记90天，到期后可再延长',
  SB_ABSENCE_OVERLAP: '这段时间已有外出登记，请修改原登记',
  SB_ABSENCE_ENDED: '该登记已经结束',
  SB_PHOTO_TYPE: '只能上传照片（JPG、PNG 或 WebP 格式）',
  SB_PHOTO_INVALID: '照片文件已损坏或不完整',
  SB_PHOTO_TOO_LARGE: '照片像素太多，请换一张',
  SB_PAYLOAD_TOO_LARGE: '文件太大（照片最大 10 MB）',
  SB_UNSUPPORTED_MEDIA_TYPE: '不支持的文件类型',
  SB_CONFLICT: '与当前状态冲突（例如已上传过办结照片），请刷新后再试',
};

export function errorText(err) {
  return ERRORS[err?.code] ?? `操作失败（${err?.status || '网络'}）`;
}

const pad = (n) => String(n).padStart(2, '0');

/** 3秒, 4分05秒, 2小时10分, 3天4小时. */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分${pad(s % 60)}秒`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}小时${pad(m % 60)}分`;
  return `${Math.floor(h / 24)}天${h % 24}小时`;
}

/** 刚刚, 5分钟前, 3小时前, 2天前 (coarser than duration: for things that do not tick). */
export function ago(iso, now = Date.now()) {
  if (!iso) return '无记录';
  const s = Math.floor((now - Date.parse(iso)) / 1000);
  if (s < 60) return '刚刚';
  if (s < 3600) return `${Math.floor(s / 60)}分钟前`;
  if (s < 86400) return `${Math.floor(s / 3600)}小时前`;
  return `${Math.floor(s / 86400)}天前`;
}

// Times are the community's local time, never the browser's: a kiosk set to UTC still shows 11:31 for 11:31 in
// 桂花园. The offset comes from the server (GET /api/me utcOffsetMinutes, settings notify.utcOffsetMinutes);
// China Standard Time (UTC+8) until it has answered.
let offsetMinutes = 480;

export function setUtcOffsetMinutes(m) {
  if (Number.isFinite(m)) offsetMinutes = m;
}

/** The community's wall-clock parts of a time (ISO string, epoch ms or Date). */
export function local(t) {
  const ms = typeof t === 'number' ? t : t instanceof Date ? t.getTime() : Date.parse(t);
  const d = new Date(ms + offsetMinutes * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay() };
}

/** Epoch ms of the community's local midnight `daysBack` days before the day of `t`. */
export function startOfLocalDay(t, daysBack = 0) {
  const p = local(t);
  return Date.UTC(p.year, p.month - 1, p.day - daysBack) - offsetMinutes * 60_000;
}

/** Epoch ms of the start of the hour of `t` (local hours start on the hour for whole-hour offsets). */
export function startOfLocalHour(t) {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  const shifted = ms + offsetMinutes * 60_000;
  return shifted - (((shifted % 3_600_000) + 3_600_000) % 3_600_000) - offsetMinutes * 60_000;
}

/** A datetime-local input's value (YYYY-MM-DDTHH:mm) for a time, in the community's local time. */
export function localInputValue(t) {
  const d = local(t);
  return `${d.year}-${pad(d.month)}-${pad(d.day)}T${pad(d.hour)}:${pad(d.minute)}`;
}

/** Epoch ms of a datetime-local input's value read as the community's local time; NaN if it is not one. */
export function parseLocalInput(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v ?? '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) - offsetMinutes * 60_000 : NaN;
}

/** 14:05:09 today, else 11月21日 14:05. */
export function clock(iso, now = Date.now()) {
  if (!iso) return '—';
  const d = local(iso);
  const time = `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
  return sameDay(iso, now) ? time : `${d.month}月${d.day}日 ${time.slice(0, 5)}`;
}

/** 20:00 today, else 11月22日 20:00: a deadline, to the minute. */
export function hm(iso, now = Date.now()) {
  const d = local(iso);
  const time = `${pad(d.hour)}:${pad(d.minute)}`;
  return sameDay(iso, now) ? time : `${d.month}月${d.day}日 ${time}`;
}

/** Same local day in the community (times as ISO strings, epoch ms or Dates). */
export function sameDay(a, b) {
  const x = local(a);
  const y = local(b);
  return x.year === y.year && x.month === y.month && x.day === y.day;
}

export const WEEKDAY = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];

/** 2025年3月1日 星期六 in the community. */
export function today(now = Date.now()) {
  const d = local(now);
  return `${d.year}年${d.month}月${d.day}日 ${WEEKDAY[d.weekday]}`;
}

/** 11:31:05 in the community. */
export function timeOfDay(now = Date.now()) {
  const d = local(now);
  return `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
}
