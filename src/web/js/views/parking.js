// Parking lots with free spaces, live from the stream's `parking` events.
import { html } from '../html.js';
import { useNow } from '../hooks.js';
import { ago } from '../zh.js';

export function LotCard({ lot, places, now, compact = false }) {
  const pct = lot.capacity ? Math.min(100, Math.round((lot.occupied / lot.capacity) * 100)) : 0;
  // The count is keyed by its value below, so each change replays the flash animation.
  const level = lot.free === 0 ? 'full' : lot.free <= Math.max(2, lot.capacity * 0.1) ? 'low' : 'ok';
  return html`
    <article class=${`lot lot-${level}${compact ? ' compact' : ''}`} data-lot-id=${lot.id}>
      <h3>${lot.name}</h3>
      ${!compact && html`<p class="muted">${places.gridName(lot.gridId)}</p>`}
      <p class="lot-free">
        <span class="label">空位</span>
        <b key=${`${lot.id}:${lot.free}`} class="flash" data-free=${lot.free}>${lot.free}</b>
        <span class="of">/ ${lot.capacity}</span>
      </p>
      <div class="bar" role="meter" aria-valuemin="0" aria-valuemax=${lot.capacity} aria-valuenow=${lot.occupied} aria-label="占用">
        <span style=${`width:${pct}%`}></span>
      </div>
      <p class="lot-meta">已停 ${lot.occupied} 辆 · 占用 ${pct}%${lot.updatedAt ? ` · ${ago(lot.updatedAt, now)}更新` : ''}</p>
    </article>
  `;
}

export function ParkingView({ lots, places }) {
  const now = useNow(10_000);
  const list = [...lots.values()];
  return html`
    <section class="parking-view">
      <h2 class="view-title">停车场 <span class="muted small">空位实时更新</span></h2>
      ${list.length === 0
        ? html`<p class="empty">您所在的网格没有停车场。</p>`
        : html`<div class="lots">${list.map((l) => html`<${LotCard} key=${l.id} lot=${l} places=${places} now=${now} />`)}</div>`}
    </section>
  `;
}
