// The big screen (大屏, `?mode=big`): no controls, large type, always live. One dense board: open alerts
// (most severe, then newest; pages rotate when they do not fit), parking counts, lone-elder status, device
// health. Esc leaves the board on a keyboard-equipped screen.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { useApi, useNow } from '../hooks.js';
import { isMissingRoute } from '../api.js';
import { SEVERITY, SEVERITY_RANK, today, timeOfDay } from '../zh.js';
import { isActive, whoHasIt, alertWhere, kindUnlessTitled, Age } from './alerts.js';
import { LotCard } from './parking.js';
import { careState, byUrgency } from './care.js';
import { healthCounts } from './devices.js';

const ROTATE_MS = 10_000;

function pageSize() {
  // About one card per 100 px of height below the header, at least four.
  return Math.max(4, Math.floor((innerHeight - 180) / 104));
}

function usePaging(count) {
  const [size, setSize] = useState(pageSize);
  const [page, setPage] = useState(0);
  useEffect(() => {
    const on = () => setSize(pageSize());
    addEventListener('resize', on);
    return () => removeEventListener('resize', on);
  }, []);
  const pages = Math.max(1, Math.ceil(count / size));
  useEffect(() => {
    if (pages <= 1) return undefined;
    const t = setInterval(() => setPage((p) => (p + 1) % pages), ROTATE_MS);
    return () => clearInterval(t);
  }, [pages]);
  const current = page % pages;
  return { start: current * size, size, page: current, pages };
}

function ElderPanel({ elders, places, now }) {
  if (elders.error && isMissingRoute(elders.error)) return html`<p class="muted">关爱接口尚未开放</p>`;
  const items = elders.data?.items;
  if (!items) return html`<p class="muted">加载中…</p>`;
  const seen = items.filter((e) => careState(e, now).seen).length;
  const attention = byUrgency(items, now).filter((e) => !['ok', 'away'].includes(careState(e, now).level));
  return html`
    <p class="board-stat"><b>${seen}</b><span>/ ${items.length} 本轮已见</span></p>
    <ul class="board-elders">
      ${attention.slice(0, 6).map((e) => {
        const s = careState(e, now);
        return html`<li class=${`care-${s.level}`}><span>${e.displayName ?? '老人'}</span><span>${e.buildingName}${e.room}</span><span>${
          e.openAlerts > 0 ? '有告警' : s.level === 'missed' ? '上一轮未见面' : s.silentH === Infinity ? '暂无记录' : `${Math.floor(s.silentH)}小时无动静`
        }</span></li>`;
      })}
      ${attention.length > 6 && html`<li class="more">另有 ${attention.length - 6} 位待关注</li>`}
      ${attention.length === 0 && html`<li class="care-ok">本轮全部已见</li>`}
    </ul>
  `;
}

export function Board({ alerts, lots, places, me, live }) {
  const now = useNow(1000);
  const elders = useApi('care/elders', { refreshMs: 60_000 });
  const devices = useApi('devices', { refreshMs: 60_000 });
  const open = [...alerts.values()]
    .filter(isActive)
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || Date.parse(b.openedAt) - Date.parse(a.openedAt));
  const paging = usePaging(open.length);
  const shown = open.slice(paging.start, paging.start + paging.size);
  const communities = [...new Set(me.grids.map((g) => g.communityName))].join('、');
  const hc = devices.data ? healthCounts(devices.data.items) : null;

  useEffect(() => {
    const on = (e) => e.key === 'Escape' && (location.search = '');
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);

  return html`
    <div class="board">
      <header class="board-head">
        <div class="brand"><span class="logo" aria-hidden="true"></span><span>哨兵 · ${communities} 值守大屏</span></div>
        <div class="board-clock"><b data-testid="board-time">${timeOfDay(now)}</b><span>${today(now)}</span></div>
        <div class=${`live live-${live}`}>${live === 'live' ? '实时' : '重连中…'}</div>
      </header>
      <section class="board-alerts">
        <h2>未办结告警 <b data-testid="open-count">${open.length}</b>${paging.pages > 1 && html`<span class="page">第 ${paging.page + 1}/${paging.pages} 页</span>`}</h2>
        ${open.length === 0 && html`<p class="board-calm">暂无未办结告警</p>`}
        <ul class="board-list" data-testid="alert-list">
          ${shown.map(
            (a) => html`<li key=${a.id} class=${`board-alert sev-${a.severity} st-${a.status}`} data-alert-id=${a.id} data-status=${a.status}>
              <span class="sev-chip">${SEVERITY[a.severity]}</span>
              <span class="ba-main">
                <span class="ba-title">${a.title}${a.count > 1 && html` <span class="count">×${a.count}</span>`}</span>
                <span class="ba-meta">${[kindUnlessTitled(a), alertWhere(a, places)].filter(Boolean).join(' · ')}</span>
              </span>
              <span class="ba-side"><span class=${`status st-${a.status}`}>${whoHasIt(a, places)}</span><${Age} alert=${a} now=${now} /></span>
            </li>`,
          )}
        </ul>
      </section>
      <aside class="board-side">
        <section class="board-panel board-shrink">
          <h2>停车空位</h2>
          <div class="board-lots">${[...lots.values()].map((l) => html`<${LotCard} key=${l.id} lot=${l} places=${places} now=${now} compact=${true} />`)}</div>
          ${lots.size === 0 && html`<p class="muted">无停车场</p>`}
        </section>
        <section class="board-panel board-shrink board-elders-panel">
          <h2>独居老人</h2>
          <${ElderPanel} elders=${elders} places=${places} now=${now} />
        </section>
        <section class="board-panel board-devices" data-testid="board-devices">
          <h2>设备</h2>
          ${hc
            ? html`<div class="board-health"><span><b>${hc.ok}</b>正常</span><span class=${hc.late ? 'warn-text' : ''}><b>${hc.late}</b>迟报</span><span class=${hc.offline ? 'bad-text' : ''}><b>${hc.offline}</b>离线</span><span class=${hc.low ? 'warn-text' : ''}><b>${hc.low}</b>电量低</span></div>`
            : html`<p class="muted">加载中…</p>`}
        </section>
      </aside>
    </div>
  `;
}
