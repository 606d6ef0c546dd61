// 居民邀请: each household's invite link as a QR code, to print and put through the door (grid head, property
// duty, admin). Revoking one (a lost or misused link) prints a new code; the old one stops working at once.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { useApi } from '../hooks.js';
import { errorText } from '../zh.js';

const qrSrc = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

export function InvitesView({ places }) {
  const [gridId, setGridId] = useState('');
  const list = useApi(`invites${gridId ? `?gridId=${encodeURIComponent(gridId)}` : ''}`);
  const [fresh, setFresh] = useState(new Map());
  const [error, setError] = useState(null);
  if (list.error) return html`<p class="error">${errorText(list.error)}</p>`;
  if (!list.data) return html`<p class="muted">加载中…</p>`;
  const items = list.data.items.map((i) => fresh.get(i.householdId) ?? i);
  const byBuilding = new Map();
  for (const i of items) byBuilding.set(i.building, [...(byBuilding.get(i.building) ?? []), i]);

  async function revoke(i) {
    if (!confirm(`停用 ${i.building} ${i.room}室 的邀请二维码？旧码立即失效，需要重新打印新码。`)) return;
    setError(null);
    try {
      const n = await api(`households/${encodeURIComponent(i.householdId)}/invite/revoke`, { method: 'POST' });
      setFresh(new Map(fresh).set(i.householdId, n));
    } catch (err) {
      setError(errorText(err));
    }
  }

  return html`
    <section class="invites" data-testid="invites">
      <div class="invites-bar no-print">
        <label>网格 <select value=${gridId} onChange=${(e) => setGridId(e.target.value)}>
          <option value="">全部</option>
          ${[...places.grids.values()].map((g) => html`<option value=${g.id}>${g.name}</option>`)}
        </select></label>
        <button class="act primary" onClick=${() => print()}>打印</button>
        <span class="hint">每户一张：居民用手机（含微信）扫码即可随手拍、点单、查看进度和评价，无需下载、无需密码。</span>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${[...byBuilding].map(
        ([building, hs]) => html`
          <h3 class="invites-building">${building}</h3>
          <ul class="invite-cards">
            ${hs.map(
              (i) => html`<li class="invite-card" data-household=${i.householdId}>
                <img src=${qrSrc(i.qrSvg)} alt=${`${building} ${i.room}室 邀请二维码`} width="140" height="140" />
                <div class="invite-room">${building} ${i.room}室</div>
                <div class="invite-how">微信扫一扫 · 社区随手拍 / 居民点单</div>
                <a class="invite-link no-print" href=${i.url ?? i.path} target="_blank" rel="noopener noreferrer">打开</a>
                <button class="act no-print" data-action="revoke" onClick=${() => revoke(i)}>停用并换新码</button>
              </li>`,
            )}
          </ul>
        `,
      )}
    </section>
  `;
}
