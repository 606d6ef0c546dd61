// Device health by grid and building: late, offline and low-battery devices first, counts for the rest. The
// status (正常 / 迟报 / 离线) is the server's, judged on each device's cadence: an NB meter that reported and hung
// up is 正常.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { useApi, useNow } from '../hooks.js';
import { DEVICE_KIND, DEVICE_STATUS, ago, errorText } from '../zh.js';

export const LOW_BATTERY_PCT = 20;

export const isLow = (d) => d.batteryPct !== null && d.batteryPct !== undefined && d.batteryPct < LOW_BATTERY_PCT;
/** ok | late | offline (an older server without `status`: from `online`). */
export const statusOf = (d) => d.status ?? (d.online ? 'ok' : 'offline');
export const needsLook = (d) => statusOf(d) !== 'ok' || isLow(d);
const PILL = { ok: 'ok', late: 'warn', offline: 'bad' };

/** grid → group (building, lot or 公共区域) → devices, in the order the inventory lists places. */
function groupDevices(items, places) {
  const grids = new Map();
  for (const d of items) {
    const groupId = d.buildingId ?? d.lotId ?? 'common';
    const groupName = places.buildings.get(d.buildingId)?.name ?? places.lots.get(d.lotId)?.name ?? '公共区域';
    if (!grids.has(d.gridId)) grids.set(d.gridId, new Map());
    const groups = grids.get(d.gridId);
    if (!groups.has(groupId)) groups.set(groupId, { name: groupName, devices: [] });
    groups.get(groupId).devices.push(d);
  }
  return grids;
}

export function healthCounts(items) {
  const n = (s) => items.filter((d) => statusOf(d) === s).length;
  return { total: items.length, ok: n('ok'), late: n('late'), offline: n('offline'), low: items.filter(isLow).length };
}

function DeviceLine({ d, places, now }) {
  return html`
    <li class="device" data-device-id=${d.id}>
      <span class="dev-kind">${DEVICE_KIND[d.kind] ?? '设备'}</span>
      <span class="dev-where">${places.deviceWhere(d)}<span class="muted small"> ${d.id}</span></span>
      <span class="dev-state">
        <span class=${`pill ${PILL[statusOf(d)]}`} data-status=${statusOf(d)}>${DEVICE_STATUS[statusOf(d)]}</span>
        ${isLow(d) && html`<span class="pill warn">电量 ${d.batteryPct}%</span>`}
        <span class="muted small">${d.lastSeenAt ? `最后上报 ${ago(d.lastSeenAt, now)}` : '从未上报'}</span>
      </span>
    </li>
  `;
}

export function DevicesView({ places }) {
  const now = useNow(30_000);
  const devices = useApi('devices', { refreshMs: 30_000 });
  const [onlyProblems, setOnlyProblems] = useState(true);
  const items = devices.data?.items ?? [];
  const c = healthCounts(items);
  const grids = groupDevices(items, places);
  return html`
    <section class="devices-view">
      <h2 class="view-title">设备健康</h2>
      ${devices.error && html`<p class="error">${errorText(devices.error)}</p>`}
      <div class="care-summary">
        <div class="stat"><b>${c.total}</b><span>设备总数</span></div>
        <div class="stat ok"><b>${c.ok}</b><span>正常</span></div>
        <div class="stat due"><b>${c.late}</b><span>迟报</span></div>
        <div class="stat alert"><b>${c.offline}</b><span>离线</span></div>
        <div class="stat due"><b>${c.low}</b><span>电量低（低于${LOW_BATTERY_PCT}%）</span></div>
      </div>
      <label class="check"><input type="checkbox" checked=${onlyProblems} onChange=${(e) => setOnlyProblems(e.currentTarget.checked)} /> 只看迟报、离线和电量低的设备</label>
      ${[...grids].map(
        ([gridId, groups]) => html`
          <div class="grid-block">
            <h3>${places.gridName(gridId)}</h3>
            <div class="groups">
              ${[...groups.values()].map((g) => {
                const gc = healthCounts(g.devices);
                const shown = onlyProblems ? g.devices.filter(needsLook) : g.devices;
                return html`
                  <div class="group">
                    <h4>${g.name} <span class="muted small">共 ${gc.total} · 迟报 <b class=${gc.late ? 'warn-text' : ''}>${gc.late}</b> · 离线 <b class=${gc.offline ? 'bad-text' : ''}>${gc.offline}</b> · 电量低 <b class=${gc.low ? 'warn-text' : ''}>${gc.low}</b></span></h4>
                    ${shown.length ? html`<ul class="device-list">${shown.map((d) => html`<${DeviceLine} key=${d.id} d=${d} places=${places} now=${now} />`)}</ul>` : html`<p class="muted small">全部正常</p>`}
                  </div>
                `;
              })}
            </div>
          </div>
        `,
      )}
      ${devices.data && items.length === 0 && html`<p class="empty">您所在的网格没有设备。</p>`}
    </section>
  `;
}
