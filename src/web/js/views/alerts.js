// Live alerts, newest first: severity colour, repeat count, an age that ticks, and who has it.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { useNow, go } from '../hooks.js';
import { SEVERITY, STATUS, KIND, duration, clock } from '../zh.js';
import { AlertDetail } from './alertDetail.js';

export const isActive = (a) => a.status !== 'resolved';

/** Newest first (by when it was raised; the API's order). */
export function newestFirst(alerts) {
  return [...alerts].sort((a, b) => Date.parse(b.openedAt) - Date.parse(a.openedAt) || b.id - a.id);
}

/** Who has it now: the status, and the person it was dispatched to. */
export function whoHasIt(a, places) {
  const who = a.assignee ? places.personName(a.assignee) : '';
  if (a.status === 'dispatched') return `${STATUS.dispatched} · 待 ${who} 接单`;
  if (a.status === 'accepted') return `${who} 处理中`;
  if (a.status === 'resolved' && a.rating) return `${STATUS.resolved} · 已评价`;
  return STATUS[a.status] ?? a.status;
}

/** The kind's name, unless the title already says it (6号楼302 烟感报警). */
export function kindUnlessTitled(a) {
  const k = KIND[a.kind] ?? '告警';
  return a.title.includes(k) ? null : k;
}

export function alertWhere(a, places) {
  const h = a.householdId && places.household(a.householdId);
  return [places.gridName(a.gridId), h?.elder && `独居老人 ${h.elder}`].filter(Boolean).join(' · ');
}

/** Ticking age: how long an unresolved alert has been waiting, or how long a resolved one took. */
export function Age({ alert, now }) {
  const opened = Date.parse(alert.openedAt);
  if (alert.status === 'resolved' && alert.resolvedAt) return html`<span class="age">用时 ${duration(Date.parse(alert.resolvedAt) - opened)}</span>`;
  return html`<span class="age" data-age>已持续 ${duration(now - opened)}</span>`;
}

function AlertRow({ alert: a, places, now, selected }) {
  return html`
    <li class=${`alert-row sev-${a.severity} st-${a.status}${selected ? ' selected' : ''}`} data-alert-id=${a.id} data-status=${a.status}>
      <a href=${`#/alerts/${a.id}`} class="row-link">
        <span class="sev-chip">${SEVERITY[a.severity]}</span>
        <span class="row-main">
          <span class="row-title">${a.title}${a.count > 1 && html` <span class="count" title="重复次数">×${a.count}</span>`}</span>
          <span class="row-meta">${[kindUnlessTitled(a), alertWhere(a, places), clock(a.openedAt, now)].filter(Boolean).join(' · ')}</span>
        </span>
        <span class="row-side">
          <span class=${`status st-${a.status}`}>${whoHasIt(a, places)}</span>
          <${Age} alert=${a} now=${now} />
        </span>
      </a>
    </li>
  `;
}

export function AlertsView({ alerts, places, me, selectedId, onChanged }) {
  const now = useNow(1000);
  const [filter, setFilter] = useState('active');
  const all = newestFirst(alerts.values());
  const active = all.filter(isActive);
  const shown = filter === 'active' ? active : all;
  const selected = selectedId ? alerts.get(Number(selectedId)) : undefined;
  return html`
    <section class=${`alerts-view${selectedId ? ' has-detail' : ''}`}>
      <div class="list-pane">
        <div class="toolbar">
          <div class="seg" role="group" aria-label="筛选">
            <button class=${filter === 'active' ? 'on' : ''} onClick=${() => setFilter('active')}>未办结 <b>${active.length}</b></button>
            <button class=${filter === 'all' ? 'on' : ''} onClick=${() => setFilter('all')}>全部 <b>${all.length}</b></button>
          </div>
          <span class="legend">${Object.entries(SEVERITY).map(([k, v]) => html`<span class=${`dot sev-${k}`}></span>${v} `)}</span>
        </div>
        ${shown.length === 0
          ? html`<p class="empty">${filter === 'active' ? '暂无未办结告警，一切正常。' : '暂无告警记录。'}</p>`
          : html`<ul class="alert-list" data-testid="alert-list">
              ${shown.map((a) => html`<${AlertRow} key=${a.id} alert=${a} places=${places} now=${now} selected=${String(a.id) === selectedId} />`)}
            </ul>`}
      </div>
      ${selectedId &&
      html`<${AlertDetail} key=${selectedId} id=${selectedId} alert=${selected} places=${places} me=${me} now=${now} onChanged=${onChanged} onClose=${() => go('alerts')} />`}
    </section>
  `;
}
