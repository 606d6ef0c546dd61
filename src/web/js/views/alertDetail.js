// One alert: what and where, its timeline, and the community's workflow as buttons (四单制): 确认, 派单 to a
// member of the alert's grid, 接单 (the assignee), 办结 with a note, 评价 with a score and a comment.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, authHeaders } from '../api.js';
import { useApi } from '../hooks.js';
import { SEVERITY, STATUS, KIND, TIMELINE, PHONE_TO, PHONE_OUTCOME, errorText, clock, duration } from '../zh.js';
import { rolesText } from '../places.js';
import { whoHasIt, Age } from './alerts.js';

const time = (v) => clock(v);
const yes = (v) => (v ? '是' : '否');
const ZONE = { fire_lane: '消防通道', no_parking: '禁停区', visitor: '访客车位', resident: '业主车位' };
const PLATE_COLOR = { blue: '蓝牌', yellow: '黄牌', green: '绿牌（新能源）', white: '白牌', black: '黑牌' };

/** Known `details` fields in words; fields not listed are not shown (they are for machines). */
const DETAILS = {
  eventAt: ['事件时间', time],
  smokePct: ['烟雾浓度', (v) => `${v}%`],
  temperatureC: ['温度', (v) => `${v}℃`],
  loneElder: ['独居老人', yes],
  flowLph: ['瞬时流量', (v) => `${v} 升/小时`],
  litres: ['用水量', (v) => `${v} 升`],
  thresholdLitres: ['判定阈值', (v) => `${v} 升`],
  coveredHours: ['数据覆盖', (v) => `${v} 小时`],
  hours: ['持续时长', (v) => `${v} 小时`],
  windowFrom: ['统计起点', time],
  windowTo: ['统计终点', time],
  runFrom: ['开始用水', time],
  runTo: ['最近用水', time],
  fault: ['故障', String],
  event: ['设备事件', String],
  lastSeenAt: ['最后上报', time],
  offlineAfterMinutes: ['离线判定', (v) => `${v} 分钟无消息`],
  zone: ['区域', (v) => ZONE[v] ?? v],
  occupiedSince: ['占用开始', time],
  thresholdMinutes: ['允许停留', (v) => `${v} 分钟`],
  capacity: ['总车位', String],
  occupied: ['已占用', String],
  free: ['空位', String],
  batteryPct: ['电量', (v) => `${v}%`],
  thresholdPct: ['低电阈值', (v) => `${v}%`],
  lane: ['车道', (v) => ({ in: '入口', out: '出口' })[v] ?? v],
  plateColor: ['车牌颜色', (v) => PLATE_COLOR[v] ?? v],
  confidence: ['识别置信度', (v) => `${v}%`],
  enteredAt: ['入场时间', time],
  visitorExpiredAt: ['访客到期', time],
  until: ['到期时间', time],
  // A resident's report or request (src/residents): what they wrote and where.
  categoryZh: ['类别', String],
  placeName: ['地点', String],
  text: ['居民描述', String],
};

function Facts({ a, places }) {
  const h = a.householdId && places.household(a.householdId);
  const rows = [
    ['类型', KIND[a.kind] ?? '告警'],
    ['级别', SEVERITY[a.severity]],
    ['状态', whoHasIt(a, places)],
    ['网格', places.gridName(a.gridId)],
    h && ['住户', `${h.label}${h.elder ? `（独居老人 ${h.elder}）` : ''}`],
    a.plate && ['车牌', a.plate],
    a.deviceId && ['设备', a.deviceId],
    ['首次告警', clock(a.openedAt)],
    ['最近变化', clock(a.updatedAt)],
    a.count > 1 && ['重复次数', `${a.count} 次`],
    a.resolvedAt && ['办结时间', `${clock(a.resolvedAt)}（用时 ${duration(Date.parse(a.resolvedAt) - Date.parse(a.openedAt))}）`],
    a.resolution && ['办结说明', a.resolution],
    a.resolvedBy && ['办结人', places.personName(a.resolvedBy)],
    a.rating && ['评价', `${'★'.repeat(a.rating.score)}${'☆'.repeat(5 - a.rating.score)} ${a.rating.comment ?? ''}（${places.personName(a.rating.by)}）`],
    ...Object.entries(a.details ?? {})
      .filter(([k, v]) => DETAILS[k] && v !== null && v !== undefined)
      .map(([k, v]) => [DETAILS[k][0], DETAILS[k][1](v)]),
  ].filter(Boolean);
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

/** A photo fetched with the caller's token (the API checks who may see it) and shown from a blob: URL. */
function Photo({ id, label }) {
  const [src, setSrc] = useState(null);
  const [full, setFull] = useState(false);
  useEffect(() => {
    let url = null;
    let gone = false;
    fetch(`api/photos/${id}?size=${full ? 'full' : 'thumb'}`, { headers: authHeaders(), cache: 'force-cache' })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (b && !gone) setSrc((url = URL.createObjectURL(b)));
      })
      .catch(() => undefined);
    return () => {
      gone = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id, full]);
  return html`<figure class=${`photo${full ? ' full' : ''}`} data-photo=${id}>
    ${src ? html`<img src=${src} alt=${label} onClick=${() => setFull(!full)} title="点击放大/缩小" />` : html`<span class="muted">照片加载中…</span>`}
    <figcaption>${label}</figcaption>
  </figure>`;
}

function Photos({ a }) {
  const report = a.details?.photos ?? [];
  const fix = a.details?.resolutionPhoto;
  // An AI camera's snapshots (newest last): shown newest first.
  const snaps = [...(a.details?.snapshots ?? (a.details?.snapshot ? [a.details.snapshot] : []))].reverse();
  const pending = a.details?.snapshotPending === true;
  const refused = a.details?.snapshotError;
  if (!report.length && !fix && !snaps.length && !pending && !refused) return null;
  return html`<div class="photos" data-testid="photos">
    ${snaps.map((id, i) => html`<${Photo} id=${id} label=${i === 0 ? '抓拍照片' : `抓拍照片（之前第 ${i} 张）`} />`)}
    ${pending && !snaps.length && html`<p class="muted" data-testid="snapshot-pending">抓拍照片处理中…</p>`}
    ${refused && !snaps.length && html`<p class="muted" data-testid="snapshot-error">抓拍照片未能保存：${refused}</p>`}
    ${report.map((id, i) => html`<${Photo} id=${id} label=${`现场照片 ${i + 1}`} />`)}
    ${fix && html`<${Photo} id=${fix} label="办结照片" />`}
  </div>`;
}

function timelineText(e, places) {
  const d = e.data ?? {};
  if (e.type === 'dispatched' && d.assignee) return `派单给 ${places.personName(d.assignee)}`;
  if (e.type === 'resolved' && d.note) return `办结：${d.note}`;
  if (e.type === 'rated') return `评价 ${d.score ?? ''} 分${d.comment ? `：${d.comment}` : ''}`;
  if (e.type === 'note' && d.note) return `备注：${d.note}`;
  if (e.type === 'repeated' && d.count) return `再次触发（第 ${d.count} 次）`;
  if (e.type === 'phone')
    return `${d.channel === 'call' ? '电话' : '短信'} ${PHONE_TO[d.to] ?? d.to ?? ''} ${d.number ?? ''}：${PHONE_OUTCOME[d.outcome] ?? d.outcome}${d.retrying ? '，稍后重试' : ''}`;
  if (e.type === 'contact_answer') return `家属回复：${d.answer === 'safe' ? '已联系上，平安' : '联系不上'}`;
  if (e.type === 'photo') return '上传办结照片';
  if (e.type === 'snapshot') return '摄像机抓拍照片已保存';
  if (e.type === 'household_told') return '已在居民的聊天中告知办结';
  if (e.type === 'snapshot_refused') return `抓拍照片未能保存：${d.reason ?? ''}`;
  if (e.type === 'work_order') return `派单上门查看（${d.reason === 'unreachable' ? '家属联系不上' : '无人确认平安'}）`;
  return TIMELINE[e.type] ?? '状态更新';
}

function Timeline({ entries, places }) {
  if (!entries) return html`<p class="muted">时间线加载中…</p>`;
  return html`<ol class="timeline" data-testid="timeline">
    ${[...entries].reverse().map(
      (e) => html`<li class=${`tl-${e.type}`}><time>${clock(e.at)}</time><span class="tl-what">${timelineText(e, places)}</span><span class="tl-who">${places.personName(e.actor)}</span></li>`,
    )}
  </ol>`;
}

/**
 * The workflow's buttons: only the steps the server says this person may take now (`actions` of GET
 * /api/alerts/{id}, from src/alerts/permissions.ts), so a volunteer never sees 派单 and only the assignee sees 接单.
 */
function Actions({ a, allowed, assignees, places, onDone }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [assignee, setAssignee] = useState('');
  const [note, setNote] = useState('');
  const [score, setScore] = useState(5);
  const [comment, setComment] = useState('');
  const [fixPhoto, setFixPhoto] = useState(null);
  const may = (t) => allowed?.includes(t) === true;
  const members = useApi(may('dispatch') ? `people?gridId=${encodeURIComponent(a.gridId)}` : null);
  const candidates = (members.data?.items ?? []).filter((p) => !assignees || assignees.includes(p.id));

  useEffect(() => {
    // Propose a grid member first: they are the ones a job is usually sent to.
    if (!assignee && candidates.length) setAssignee((candidates.find((p) => p.roles.includes('grid_member')) ?? candidates[0]).id);
  }, [members.data, assignees]);

  async function act(t, body = {}) {
    setBusy(t);
    setError(null);
    try {
      // The photo of the fix goes first (one per alert, before 办结); a refused photo stops the 办结 with its reason.
      if (t === 'resolve' && fixPhoto) {
        const res = await fetch(`api/alerts/${a.id}/photo`, { method: 'POST', headers: { ...authHeaders(), 'content-type': fixPhoto.type || 'application/octet-stream' }, body: fixPhoto });
        if (!res.ok) {
          const e = await res.json().catch(() => ({}));
          throw Object.assign(new Error(e.message ?? res.statusText), { code: e.code, status: res.status });
        }
        setFixPhoto(null);
      }
      const updated = await api(`alerts/${a.id}/${t}`, { method: 'POST', body });
      if (t === 'resolve') setNote('');
      if (t === 'rate') setComment('');
      onDone(updated);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }
  const btn = (t, label, cls = '', body, disabled = false) =>
    html`<button class=${`act ${cls}`} data-action=${t} disabled=${busy !== null || disabled} onClick=${() => act(t, typeof body === 'function' ? body() : body)}>${busy === t ? '提交中…' : label}</button>`;

  if (!allowed) return html`<div class="actions" data-testid="actions"></div>`;
  const none = allowed.length === 0;
  return html`
    <div class="actions" data-testid="actions">
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${may('ack') && html`<div class="act-row">${btn('ack', '确认', 'primary')}<span class="hint">表示已看到，正在核实</span></div>`}
      ${may('dispatch') &&
      html`<div class="act-row bottom">
        <label class="grow">派单给
          <select value=${assignee} onChange=${(e) => setAssignee(e.currentTarget.value)} data-testid="assignee">
            ${candidates.map((p) => html`<option value=${p.id}>${p.displayName}（${rolesText(p.roles)}）</option>`)}
          </select>
        </label>
        ${btn('dispatch', '派单', '', () => ({ assignee }), !assignee)}
      </div>`}
      ${may('accept') && html`<div class="act-row">${btn('accept', '接单', 'primary')}<span class="hint">接单后请尽快到场处置</span></div>`}
      ${a.status === 'dispatched' && !may('accept') && html`<p class="hint">已派单给 ${places.personName(a.assignee)}，等待接单。</p>`}
      ${may('resolve') &&
      html`<div class="act-row col">
        <label>办结说明<textarea rows="2" maxlength="500" placeholder="例如：现场核实为做饭油烟，已开窗通风，老人安全" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
        ${!a.details?.resolutionPhoto && html`<label>办结照片（可选）<input type="file" accept="image/jpeg,image/png,image/webp" data-testid="fix-photo" onChange=${(e) => setFixPhoto(e.currentTarget.files?.[0] ?? null)} /></label>`}
        ${btn('resolve', '办结', 'good', () => (note.trim() ? { note: note.trim() } : {}))}
      </div>`}
      ${may('rate') &&
      html`<div class="act-row col">
        <div class="stars" role="radiogroup" aria-label="评分">
          ${[1, 2, 3, 4, 5].map((n) => html`<button type="button" role="radio" aria-checked=${n === score} class=${n <= score ? 'star on' : 'star'} onClick=${() => setScore(n)} aria-label=${`${n} 分`}>★</button>`)}
          <span class="hint">${score} 分</span>
        </div>
        <label>评价意见<textarea rows="2" maxlength="500" placeholder="处置是否及时、到位" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)}></textarea></label>
        ${btn('rate', '提交评价', 'primary', () => (comment.trim() ? { score, comment: comment.trim() } : { score }))}
      </div>`}
      ${none && a.status !== 'resolved' && html`<p class="hint" data-testid="no-actions">此告警由物业值班、网格长及派单对象处置，您可查看进展。</p>`}
    </div>
  `;
}

export function AlertDetail({ id, alert, places, me, now, onChanged, onClose }) {
  const detail = useApi(`alerts/${id}`);
  // The list holds the freshest copy (the stream updates it); the timeline is re-read whenever it changes.
  const a = alert ?? detail.data;
  const stamp = alert?.updatedAt;
  useEffect(() => {
    if (stamp && detail.data && detail.data.updatedAt !== stamp) detail.reload();
  }, [stamp]);

  return html`
    <aside class="detail-pane" data-testid="alert-detail" data-alert-id=${id}>
      <header class="detail-head">
        <button class="back" onClick=${onClose}><span class="narrow-only">‹ 返回列表</span><span class="wide-only">关闭 ✕</span></button>
      </header>
      ${!a && detail.error && html`<p class="error">${errorText(detail.error)}</p>`}
      ${!a && !detail.error && html`<p class="muted">加载中…</p>`}
      ${a &&
      html`
        <h2 class="detail-title"><span class=${`sev-chip sev-${a.severity}`}>${SEVERITY[a.severity]}</span> ${a.title}</h2>
        <p class="detail-sub"><span class=${`status st-${a.status}`} data-testid="detail-status" data-status=${a.status}>${STATUS[a.status]}</span> <${Age} alert=${a} now=${now} />${a.count > 1 && html`<span class="count">×${a.count}</span>`}</p>
        <${Actions} a=${a} allowed=${detail.data?.actions} assignees=${detail.data?.assignees} places=${places} onDone=${(u) => (onChanged(u), detail.reload())} />
        <h3>详情</h3>
        <${Facts} a=${a} places=${places} />
        <${Photos} a=${a} />
        ${a.householdId && html`<p><a href=${`#/water/${encodeURIComponent(a.householdId)}`}>查看该户用水曲线 ›</a></p>`}
        <h3>时间线</h3>
        <${Timeline} entries=${detail.data?.timeline} places=${places} />
      `}
    </aside>
  `;
}
