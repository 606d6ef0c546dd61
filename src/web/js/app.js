// The signed-in console: who I am, the live state (alerts and lots from the stream, caught up from the API on
// every (re)connect), the header and the views.
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { openStream } from './stream.js';
import { useApi, useHashRoute } from './hooks.js';
import { buildPlaces, rolesText } from './places.js';
import { errorText } from './zh.js';
import { AlertsView, isActive } from './views/alerts.js';
import { ParkingView } from './views/parking.js';
import { CareView } from './views/care.js';
import { DevicesView } from './views/devices.js';
import { WaterView } from './views/water.js';
import { Board } from './views/board.js';
import { InvitesView } from './views/invites.js';

const newer = (a, b) => !b || Date.parse(a.updatedAt ?? 0) >= Date.parse(b.updatedAt ?? 0);

const KEEP_RESOLVED_MS = 3_600_000;

/**
 * Alerts by id. A list from the API and events from the stream may cross: the later updatedAt wins. A fresh
 * list also drops what it no longer holds once resolved for an hour, so a big screen left on for weeks does
 * not grow without end.
 */
function alertsReducer(state, action) {
  if (action.type === 'upsert') return newer(action.item, state.get(action.item.id)) ? new Map(state).set(action.item.id, action.item) : state;
  const next = new Map(action.items.map((a) => [a.id, a]));
  const cutoff = Date.now() - KEEP_RESOLVED_MS;
  for (const [id, a] of state) {
    const listed = next.get(id);
    if (listed) {
      if (!newer(listed, a)) next.set(id, a);
    } else if (a.status !== 'resolved' || Date.parse(a.resolvedAt ?? a.updatedAt) > cutoff) next.set(id, a);
  }
  return next;
}

function lotsReducer(state, action) {
  const next = new Map(state);
  const items = action.type === 'load' ? action.items : [action.item];
  for (const l of items) {
    const old = next.get(l.id);
    if (!old || !old.updatedAt || !l.updatedAt || Date.parse(l.updatedAt) >= Date.parse(old.updatedAt)) next.set(l.id, l);
  }
  return next;
}

const NAV = [
  ['alerts', '告警'],
  ['parking', '停车'],
  ['care', '关爱'],
  ['devices', '设备'],
  ['water', '用水'],
  ['invites', '居民邀请'],
];
/** Who prints households' invites (src/api/residents.ts INVITE_ROLES). */
const INVITERS = ['grid_head', 'property_duty', 'admin'];

const LIVE = { connecting: '连接中…', live: '实时', down: '已断开，重连中…' };

/** Besides catching up on every reconnect, re-read the lists now and then: a screen left on stays exact. */
const RESYNC_MS = 10 * 60_000;

function useLiveState(onUnauthorized) {
  const [alerts, dispatchAlerts] = useReducer(alertsReducer, new Map());
  const [lots, dispatchLots] = useReducer(lotsReducer, new Map());
  const [live, setLive] = useState('connecting');
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    const sync = async () => {
      try {
        const [a, l] = await Promise.all([api('alerts?limit=500'), api('parking/lots')]);
        dispatchAlerts({ type: 'load', items: a.items });
        dispatchLots({ type: 'load', items: l.items });
        setError(null);
        setLoaded(true);
      } catch (err) {
        setError(err);
      }
    };
    const timer = setInterval(sync, RESYNC_MS);
    const stream = openStream({
      // Listeners are in place once the stream answers, so a list read now misses nothing.
      onOpen: sync,
      onEvent(type, data) {
        if (type === 'alert') dispatchAlerts({ type: 'upsert', item: data });
        else if (type === 'parking') dispatchLots({ type: 'upsert', item: data });
      },
      onState: setLive,
      onUnauthorized,
    });
    return () => {
      clearInterval(timer);
      stream.close();
    };
  }, []);
  return { alerts, lots, live, loaded, error, upsert: (a) => dispatchAlerts({ type: 'upsert', item: a }) };
}

export function Console({ big, onSignOut, onUnauthorized }) {
  const me = useApi('me');
  const people = useApi('people');
  const state = useLiveState(onUnauthorized);
  const route = useHashRoute();
  const places = useMemo(() => buildPlaces(me.data, people.data?.items), [me.data, people.data]);

  if (!me.data) {
    return html`<main class="boot">${me.error ? html`<p class="error">${errorText(me.error)}</p><button class="act" onClick=${onSignOut}>重新登录</button>` : '加载中…'}</main>`;
  }
  const ready = state.live === 'live' && state.loaded;
  if (big) {
    return html`<div class="console big" data-live=${String(ready)}><${Board} alerts=${state.alerts} lots=${state.lots} places=${places} me=${me.data} live=${state.live} /></div>`;
  }

  // A volunteer's work is the care round; everybody else starts on the alerts.
  const onlyVolunteer = me.data.roles.every((r) => r === 'volunteer');
  const nav = NAV.filter(([v]) => v !== 'invites' || me.data.roles.some((r) => INVITERS.includes(r)));
  const view = nav.some(([v]) => v === route.view) ? route.view : onlyVolunteer ? 'care' : 'alerts';
  const activeCount = [...state.alerts.values()].filter(isActive).length;
  const communities = [...new Set(me.data.grids.map((g) => g.communityName))].join('、');
  return html`
    <div class="console" data-live=${String(ready)} data-view=${view}>
      <div class="chrome">
      <header class="top">
        <div class="brand"><span class="logo" aria-hidden="true"></span><span class="brand-name">哨兵</span><span class="brand-sub">${communities || '社区'}值守台</span></div>
        <span class=${`live live-${state.live}`} data-testid="live" title="实时连接状态">${LIVE[state.live]}</span>
        <span class="who" title=${rolesText(me.data.roles)}>${me.data.displayName}<span class="muted small"> ${rolesText(me.data.roles)}</span></span>
        <a class="top-link" href="?mode=big" target="_blank" rel="noopener" title="在新窗口打开大屏">大屏</a>
        <button class="top-link" onClick=${onSignOut}>退出</button>
      </header>
      <nav class="tabs-nav">
        ${nav.map(
          ([v, label]) => html`<a href=${`#/${v}`} class=${view === v ? 'on' : ''} aria-current=${view === v ? 'page' : undefined}>${label}${v === 'alerts' && activeCount > 0 && html`<span class="badge">${activeCount}</span>`}</a>`,
        )}
      </nav>
      </div>
      ${state.error && html`<p class="error banner">${errorText(state.error)}</p>`}
      <main class="content">
        ${view === 'alerts' && html`<${AlertsView} alerts=${state.alerts} places=${places} me=${me.data} selectedId=${route.view === 'alerts' ? route.arg : null} onChanged=${state.upsert} />`}
        ${view === 'parking' && html`<${ParkingView} lots=${state.lots} places=${places} />`}
        ${view === 'care' && html`<${CareView} places=${places} />`}
        ${view === 'devices' && html`<${DevicesView} places=${places} />`}
        ${view === 'water' && html`<${WaterView} places=${places} arg=${route.view === 'water' ? route.arg : null} />`}
        ${view === 'invites' && html`<${InvitesView} places=${places} />`}
      </main>
    </div>
  `;
}
