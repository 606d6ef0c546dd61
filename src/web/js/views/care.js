// Lone elders (独居老人): last sign of life, today's care round (一天两见面), logging a visit, marking an elder
// away (外出、住院、子女家) and back. Built on GET api/care/elders, POST api/care/visits and api/care/absences;
// while the server lacks them the panel says so and the rest of the console carries on.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, isMissingRoute } from '../api.js';
import { useApi, useNow } from '../hooks.js';
import { SIGN, ABSENCE, AWAY, ago, clock, hm, errorText, sameDay, localInputValue, parseLocalInput } from '../zh.js';

export const CARE_UNAVAILABLE = '关爱名单暂不可用：服务器尚未开放关爱接口（/api/care/elders）。告警、停车、设备等其他功能不受影响。';

/**
 * Seen in this round (a sign of life since the last round's deadline, or today when the server names no
 * rounds), and how urgent a visit is: open alerts, a missed round, a long silence, then not yet seen.
 */
export function careState(e, now) {
  const last = e.lastSignOfLifeAt ? Date.parse(e.lastSignOfLifeAt) : null;
  const roundStart = e.round?.lastAt ? Date.parse(e.round.lastAt) : null;
  const seen = last !== null && (roundStart !== null ? last > roundStart : sameDay(last, now));
  const silentH = last === null ? Infinity : (now - last) / 3_600_000;
  // No record is not a long silence (a meter not yet heard from, a service just set up): it is simply due.
  // Marked away (外出、住院、子女家): not expected to be seen, and not a silence to worry about.
  const level =
    e.openAlerts > 0 ? 'alert' : e.away ? 'away' : e.round?.missed && !seen ? 'missed' : last !== null && silentH >= 12 ? 'late' : seen ? 'ok' : 'due';
  return { seen, silentH, level };
}

export function byUrgency(elders, now) {
  const rank = { alert: 0, missed: 1, late: 2, due: 3, away: 4, ok: 5 };
  return [...elders].sort((a, b) => {
    const x = careState(a, now);
    const y = careState(b, now);
    return rank[x.level] - rank[y.level] || y.silentH - x.silentH || a.householdId.localeCompare(b.householdId);
  });
}

const LEVEL = { alert: '有告警', missed: '上一轮未见面', late: '超过12小时无动静', due: '本轮待见', away: '不在家', ok: '本轮已见' };

function AwayForm({ elder, onDone, onCancel }) {
  const [reason, setReason] = useState('outing');
  const [until, setUntil] = useState(() => localInputValue(Math.ceil((Date.now() + 24 * 3_600_000) / 3_600_000) * 3_600_000));
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const t = parseLocalInput(until); // the community's local time, whatever the browser's zone
    if (Number.isNaN(t)) return setError('请填写预计回来的时间');
    setBusy(true);
    setError(null);
    try {
      const body = { householdId: elder.householdId, reason, until: new Date(t).toISOString() };
      if (note.trim()) body.note = note.trim();
      await api('care/absences', { method: 'POST', body });
      onDone();
    } catch (err) {
      setError(isMissingRoute(err) ? '服务器尚未开放外出登记接口' : errorText(err));
      setBusy(false);
    }
  }
  return html`
    <form class="visit-form away-form" onSubmit=${submit}>
      <label>原因<select value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
        ${Object.entries(ABSENCE).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
      </select></label>
      <label>预计回来<input type="datetime-local" value=${until} onInput=${(e) => setUntil(e.currentTarget.value)} /></label>
      <label>备注（可选）<textarea rows="2" maxlength="500" placeholder="例如：住市一医院，女儿陪护" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
      <p class="small muted">登记期间不判"无用水"和巡访未见；老人回家用水会自动结束登记，到期未见用水会提醒您确认。</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="act-row"><button class="act good" type="submit" disabled=${busy}>${busy ? '提交中…' : '确认登记'}</button><button class="act" type="button" onClick=${onCancel}>取消</button></div>
    </form>
  `;
}

function BackButton({ elder, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function back() {
    setBusy(true);
    setError(null);
    try {
      await api(`care/absences/${elder.away.id}/end`, { method: 'POST', body: {} });
      onDone();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }
  return html`<button class="act good small-act" data-action="back" disabled=${busy} onClick=${back}>已回家</button>${error && html`<span class="error small" role="alert">${error}</span>`}`;
}

function VisitForm({ elder, onDone, onCancel }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('care/visits', { method: 'POST', body: note.trim() ? { householdId: elder.householdId, note: note.trim() } : { householdId: elder.householdId } });
      onDone();
    } catch (err) {
      setError(isMissingRoute(err) ? '服务器尚未开放探访登记接口' : errorText(err));
      setBusy(false);
    }
  }
  return html`
    <form class="visit-form" onSubmit=${submit}>
      <label>探访记录（可选）<textarea rows="2" maxlength="500" placeholder="例如：上门见面，老人精神好，已提醒按时吃药" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="act-row"><button class="act good" type="submit" disabled=${busy}>${busy ? '提交中…' : '确认已探访'}</button><button class="act" type="button" onClick=${onCancel}>取消</button></div>
    </form>
  `;
}

function ElderRow({ e, places, now, onVisited }) {
  const [open, setOpen] = useState(false);
  const [awayOpen, setAwayOpen] = useState(false);
  const s = careState(e, now);
  return html`
    <li class=${`elder care-${s.level}`} data-household-id=${e.householdId}>
      <div class="elder-main">
        <span class="elder-name">${e.displayName ?? '独居老人'}</span>
        <span class="muted">${e.buildingName} ${e.room}室 · ${places.gridName(e.gridId)}</span>
      </div>
      <div class="elder-sign">
        <span class=${`pill care-${s.level}`}>${e.away ? AWAY[e.away.reason] ?? LEVEL.away : LEVEL[s.level]}</span>
        ${e.away && html`<span class="small" data-away=${e.away.reason}>${ABSENCE[e.away.reason] ?? '外出'}，预计 ${hm(e.away.until, now)} 回来${e.away.note ? `（${e.away.note}）` : ''}</span>`}
        <span class="small">${e.lastSignOfLifeAt ? `最近${SIGN[e.lastSign] ?? '动静'}：${ago(e.lastSignOfLifeAt, now)}（${clock(e.lastSignOfLifeAt, now)}）` : '暂无动静记录'}</span>
        ${e.round?.nextAt && !s.seen && !e.away && html`<span class="small muted">本轮截止 ${hm(e.round.nextAt, now)}</span>`}
        ${e.openAlerts > 0 && html`<a class="small warn-link" href="#/alerts">未办结告警 ${e.openAlerts} 条 ›</a>`}
      </div>
      <div class="elder-acts">
        <a class="act small-act" href=${`#/water/${encodeURIComponent(e.householdId)}`}>用水</a>
        <button class="act good small-act" data-action="visit" onClick=${() => (setOpen(!open), setAwayOpen(false))}>登记探访</button>
        ${e.away
          ? html`<${BackButton} elder=${e} onDone=${onVisited} />`
          : html`<button class="act small-act" data-action="away" onClick=${() => (setAwayOpen(!awayOpen), setOpen(false))}>登记外出</button>`}
      </div>
      ${open && html`<${VisitForm} elder=${e} onCancel=${() => setOpen(false)} onDone=${() => (setOpen(false), onVisited())} />`}
      ${awayOpen && !e.away && html`<${AwayForm} elder=${e} onCancel=${() => setAwayOpen(false)} onDone=${() => (setAwayOpen(false), onVisited())} />`}
    </li>
  `;
}

export function CareView({ places }) {
  const now = useNow(30_000);
  const elders = useApi('care/elders', { refreshMs: 60_000 });
  if (elders.error && isMissingRoute(elders.error))
    return html`<section class="care-view" data-care="unavailable"><h2 class="view-title">独居老人关爱</h2><p class="notice">${CARE_UNAVAILABLE}</p></section>`;
  const items = elders.data?.items ?? [];
  const seen = items.filter((e) => careState(e, now).seen).length;
  const away = items.filter((e) => e.away && !careState(e, now).seen).length;
  return html`
    <section class="care-view" data-care=${elders.data ? 'ready' : 'loading'}>
      <h2 class="view-title">独居老人关爱 <span class="muted small">一天两见面</span></h2>
      ${elders.error && html`<p class="error">${errorText(elders.error)}</p>`}
      ${elders.data &&
      html`<div class="care-summary">
          <div class="stat"><b>${items.length}</b><span>关爱对象</span></div>
          <div class="stat ok"><b>${seen}</b><span>本轮已见</span></div>
          <div class="stat due"><b>${items.length - seen - away}</b><span>本轮待见</span></div>
          ${away > 0 && html`<div class="stat"><b>${away}</b><span>外出/住院</span></div>`}
          <div class="stat alert"><b>${items.filter((e) => e.openAlerts > 0 || e.round?.missed).length}</b><span>有告警或漏见</span></div>
        </div>
        ${items.length === 0
          ? html`<p class="empty">没有分配给您的关爱对象。</p>`
          : html`<ul class="elders" data-testid="elders">${byUrgency(items, now).map((e) => html`<${ElderRow} key=${e.householdId} e=${e} places=${places} now=${now} onVisited=${elders.reload} />`)}</ul>`}`}
      ${!elders.data && !elders.error && html`<p class="muted">加载中…</p>`}
    </section>
  `;
}
