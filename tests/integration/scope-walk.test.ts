// Everyone sees only what is theirs (issue 12): every registered route, walked with every role — the platform
// operator (admin token), a community admin of this and of another community, property duty, a grid head, a
// grid member of another grid, care, emergency and committee staff, volunteers (token and console session) and
// nobody. Every answer is scanned for the ids of things the caller may not see (communities, grids, buildings,
// households, devices, lots, spaces, gates, people), whatever the route; a thing outside the caller's view
// must be answered exactly like one that does not exist; and a thing inside it must be reachable (so the walk
// cannot pass by calling nothing). The expected view is worked out here from the inventory, independently of
// src/api/scope.ts. Routes come from Fastify itself: one the walk does not know fails it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { startAlertsApp, T0, type AlertsEnv } from './alertsHarness.js';
import { ADMIN_TOKEN, auth, sampleSecrets } from '../helpers.js';
import type { Directory, PersonInfo } from '../../src/config/inventory.js';

type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH';
interface Req {
  method: Method;
  url: string;
  body?: unknown;
}
/** own: inside the caller's view (must not be 404); foreign: outside it (must look like `missing`). */
type Case = { req: Req; kind: 'plain' } | { req: Req; kind: 'own' } | { req: Req; kind: 'foreign'; missing: Req };

const MISSING = { alert: 999_999, device: 'no-such-device', household: 'no-such-household', community: 'no-such-community', grid: 'no-such-grid' };

// ── the expected view, from the inventory ────────────────────────────────────────────────────────────────

interface View {
  platform: boolean;
  person?: PersonInfo;
  community?: string;
  grids: Set<string>;
  volunteer: boolean;
  paired: Set<string>;
}

const volunteerOnly = (p: PersonInfo) => p.roles.every((r) => r === 'volunteer');

function viewOf(dir: Directory, person?: PersonInfo): View {
  if (!person) return { platform: true, grids: new Set(), volunteer: false, paired: new Set() };
  const communityGrids = dir.communities.get(person.communityId)!.grids.map((g) => g.id);
  const grids = new Set(person.grids.length ? person.grids : person.roles.includes('admin') ? communityGrids : []);
  const paired = new Set([...dir.households.values()].filter((h) => h.careContacts.some((c) => c.personId === person.id)).map((h) => h.id));
  return { platform: false, person, community: person.communityId, grids, volunteer: volunteerOnly(person), paired };
}

const seesGrid = (v: View, communityId: string, gridId: string) => v.platform || (v.community === communityId && v.grids.has(gridId));
const seesHousehold = (dir: Directory, v: View, id: string) => {
  const h = dir.households.get(id)!;
  return seesGrid(v, h.communityId, h.gridId) && (!v.volunteer || v.paired.has(id));
};
const seesDevice = (dir: Directory, v: View, id: string) => {
  const d = dir.devices.get(id)!;
  return seesGrid(v, d.communityId, d.gridId) && (!v.volunteer || (d.householdId !== undefined && v.paired.has(d.householdId)));
};
/** Lots, spaces, gates and whole-community parking: staff of the grid, never a volunteer. */
const seesParking = (v: View, communityId: string, gridId: string) => seesGrid(v, communityId, gridId) && !v.volunteer;
const servesGrid = (dir: Directory, p: PersonInfo, gridId: string) => {
  const c = dir.communities.get(p.communityId)!;
  if (!c.grids.some((g) => g.id === gridId)) return false;
  return p.grids.length ? p.grids.includes(gridId) : p.roles.includes('admin');
};
const seesPerson = (dir: Directory, v: View, p: PersonInfo) => {
  if (v.platform || p.id === v.person?.id) return true;
  if (p.communityId !== v.community || ![...v.grids].some((g) => servesGrid(dir, p, g))) return false;
  // A volunteer learns who the grid's staff are, not who the other volunteers are (nor, so, whom they visit).
  return !v.volunteer || !volunteerOnly(p);
};

const forbiddenCache = new Map<View, { size: number; ids: Set<string> }>();
/** Every id in the inventory that `v` may not see. */
function forbiddenIds(dir: Directory, v: View): Set<string> {
  const hit = forbiddenCache.get(v);
  if (hit && hit.size === dir.devices.size) return hit.ids;
  const ids = computeForbidden(dir, v);
  forbiddenCache.set(v, { size: dir.devices.size, ids });
  return ids;
}

function computeForbidden(dir: Directory, v: View): Set<string> {
  const out = new Set<string>();
  const add = (id: string, ok: boolean) => !ok && out.add(id);
  for (const c of dir.communities.values()) {
    add(c.id, v.platform || v.community === c.id);
    for (const g of c.grids) add(g.id, seesGrid(v, c.id, g.id));
  }
  for (const h of dir.households.values()) add(h.id, seesHousehold(dir, v, h.id));
  for (const d of dir.devices.values()) add(d.id, seesDevice(dir, v, d.id));
  for (const b of dir.buildings.values())
    add(b.id, seesGrid(v, b.communityId, b.gridId) && (!v.volunteer || [...v.paired].some((h) => dir.households.get(h)?.buildingId === b.id)));
  for (const l of dir.lots.values()) add(l.id, seesParking(v, l.communityId, l.gridId));
  for (const s of dir.spaces.values()) add(s.id, seesParking(v, s.communityId, s.gridId));
  for (const g of dir.gates.values()) add(g.id, seesParking(v, g.communityId, g.gridId));
  for (const p of dir.people.values()) add(p.id, seesPerson(dir, v, p));
  return out;
}

/** Ids named anywhere in a value (strings split at anything an id cannot contain; keys too). */
function idsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const t of value.split(/[^A-Za-z0-9_.-]+/)) t && into.add(t.replace(/\.+$/, ''));
  else if (Array.isArray(value)) for (const x of value) idsIn(x, into);
  else if (value && typeof value === 'object')
    for (const [k, x] of Object.entries(value)) {
      idsIn(k, into);
      idsIn(x, into);
    }
  return into;
}

// ── the app and its data ─────────────────────────────────────────────────────────────────────────────────

let env: AlertsEnv;
let dir: Directory;
const at = (t: number) => new Date(t).toISOString();

/** Devices that send something: alarms (alerts), readings (history), parking changes; each also a rejected payload naming itself. */
const ALARMS = ['gh-sd-5-303', 'gh-sd-6-302', 'gh-sd-6-stair2', 'cj-sd-1-602', 'cj-sd-ebike-1'];
const READINGS = ['gh-wm-5-402', 'gh-wm-6-101', 'cj-wm-1-103'];
const PARKING = ['gh-ps-01', 'cj-ps-001'];
const SEEDED = [...ALARMS, ...READINGS, ...PARKING];

interface Subject {
  label: string;
  token?: string;
  person?: PersonInfo;
}
const PEOPLE = [
  'gh-admin', // community admin; of "another community" for 春江's data
  'cj-admin', // community admin of another community for 桂花园's data
  'gh-duty-1',
  'gh-head-g1',
  'gh-member-g2-1', // a grid member of another grid for gh-g1's data
  'gh-care-1',
  'gh-emerg-1',
  'gh-rc-1',
  'gh-oc-1',
  'gh-vol-g1-1',
  'gh-vol-g2-1',
  'cj-vol-1',
  'cj-duty-1',
];
let subjects: Subject[];
const streams = new Map<string, { text: () => string; close: () => void }>();

function openStream(token: string) {
  let text = '';
  const req = http.get(`${env.t.httpUrl}/api/stream`, { headers: auth(token) });
  req.on('response', (res) => {
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return { text: () => text, close: () => void req.destroy() };
}

beforeAll(async () => {
  env = await startAlertsApp();
  dir = env.t.app.directory;
  const session = await env.t.app.api.inject({
    method: 'POST',
    url: '/api/session',
    payload: { username: 'gh-vol-g1-1', password: sampleSecrets.passwords['gh-vol-g1-1'] },
  });
  expect(session.statusCode).toBe(201);
  subjects = [
    { label: 'platform operator (admin token)', token: ADMIN_TOKEN },
    ...PEOPLE.map((id) => ({ label: id, token: sampleSecrets.people[id], person: dir.people.get(id)! })),
    { label: 'gh-vol-g1-1 (console session)', token: session.json().token as string, person: dir.people.get('gh-vol-g1-1')! },
  ];
  // Streams first, so everything seeded below also goes past them.
  for (const s of subjects) streams.set(s.label, openStream(s.token!));
  await new Promise((r) => setTimeout(r, 200));
  for (const id of SEEDED) {
    const d = await env.device(id);
    if (ALARMS.includes(id)) await d.send({ type: 'alarm', smokePct: 40, ts: at(T0) });
    if (READINGS.includes(id)) await d.send({ type: 'reading', totalM3: 12.5, ts: at(T0) });
    if (PARKING.includes(id)) await d.send({ type: 'state', occupied: true, ts: at(T0) });
    await d.sendRaw(JSON.stringify({ type: 'not-a-type', marker: id }));
  }
  for (const id of ALARMS) await env.waitAlert({ kind: 'smoke', deviceId: id });
  // An absence in each grid of each community, for the routes that take an absence id.
  for (const c of dir.communities.values())
    for (const g of c.grids) {
      const h = [...dir.households.values()].find((x) => x.gridId === g.id && x.loneElder) ?? [...dir.households.values()].find((x) => x.gridId === g.id);
      if (h) env.t.app.rules.care.markAway({ householdId: h.id, communityId: h.communityId, gridId: h.gridId, reason: 'hospital', from: T0, until: T0 + 86_400_000, createdBy: 'admin' });
    }
}, 60_000);

afterAll(async () => {
  for (const s of streams.values()) s.close();
  await env?.close();
});

// ── the walk ────────────────────────────────────────────────────────────────────────────────────────────

/** What each registered route is called with, for one caller. Keys are `METHOD url` as Fastify has them. */
type RouteTable = Record<string, Case[] | 'stream' | { public: string; cases: Case[] }>;

async function routeCases(v: View): Promise<RouteTable> {
  const alerts = await env.t.app.rules.alerts.list({ grids: 'all', limit: 1000 });
  const sees = (a: { communityId: string; gridId: string; householdId?: string }) =>
    seesGrid(v, a.communityId, a.gridId) && (!v.volunteer || (a.householdId !== undefined && v.paired.has(a.householdId)));
  const get = (url: string): Req => ({ method: 'GET', url });
  const post = (url: string, body: unknown): Req => ({ method: 'POST', url, body });
  const split = <T>(items: T[], own: (x: T) => boolean, mk: (x: T) => Req, missing: Req): Case[] =>
    items.map((x) => (own(x) ? { req: mk(x), kind: 'own' as const } : { req: mk(x), kind: 'foreign' as const, missing }));
  const communities = [...dir.communities.keys()];
  const absences = await env.t.app.rules.care.absences.since(0);
  const grids = [...dir.communities.values()].flatMap((c) => c.grids.map((g) => ({ c: c.id, g: g.id })));
  // Devices and households to try: those that sent something, plus two of each kind, grid and placement
  // (household or common area) — every distinction the scope makes, without walking all of them.
  const seen = new Map<string, number>();
  const devices = [...dir.devices.values()].filter((d) => {
    const k = `${d.communityId}/${d.gridId}/${d.kind}/${d.householdId ? 'household' : 'common'}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    return SEEDED.includes(d.id) || d.id.startsWith('walk-') || seen.get(k)! <= 2;
  });
  const households = [...new Set(devices.map((d) => d.householdId).filter((h): h is string => !!h))];
  /** Things of the whole community (visitor plates): staff of one of its grids, not a volunteer. */
  const seesCommunityShared = (c: string) => dir.communities.get(c)!.grids.some((g) => seesParking(v, c, g.id));
  const memberOf = (gridId: string) => [...dir.people.values()].find((p) => p.roles.includes('grid_member') && p.grids.includes(gridId))!.id;
  const transitions: Record<string, (a: { gridId: string }) => unknown> = {
    ack: () => ({}),
    dispatch: (a) => ({ assignee: memberOf(a.gridId) }),
    accept: () => ({}),
    resolve: () => ({ note: 'walk' }),
    rate: () => ({ score: 4 }),
  };
  const listQueries = (path: string, extra: string[] = []) => [
    { req: get(path), kind: 'plain' as const },
    ...grids.map(({ g }) => ({ req: get(`${path}?gridId=${g}`), kind: 'plain' as const })),
    ...extra.map((q) => ({ req: get(`${path}?${q}`), kind: 'plain' as const })),
  ];
  const table: RouteTable = {
    'GET /api/alerts': listQueries('/api/alerts', [...SEEDED.map((d) => `deviceId=${d}`), 'status=open,acknowledged']),
    'GET /api/alerts/:id': split(alerts, sees, (a) => get(`/api/alerts/${a.id}`), get(`/api/alerts/${MISSING.alert}`)),
    'GET /api/devices': listQueries('/api/devices', [...communities.map((c) => `communityId=${c}`), 'kind=parking-sensor']),
    'GET /api/devices/:id': split(devices, (d) => seesDevice(dir, v, d.id), (d) => get(`/api/devices/${d.id}`), get(`/api/devices/${MISSING.device}`)),
    'GET /api/devices/:id/telemetry': split(
      devices,
      (d) => seesDevice(dir, v, d.id),
      (d) => get(`/api/devices/${d.id}/telemetry?from=${T0 - 3_600_000}&to=${T0 + 3_600_000}`),
      get(`/api/devices/${MISSING.device}/telemetry?from=${T0 - 3_600_000}&to=${T0 + 3_600_000}`),
    ),
    'POST /api/devices': split(
      communities,
      (c) => v.platform || v.community === c,
      (c) => post('/api/devices', { id: `walk-${Math.random().toString(36).slice(2, 10)}`, kind: 'smoke-detector', communityId: c }),
      post('/api/devices', { id: 'walk-missing', kind: 'smoke-detector', communityId: MISSING.community }),
    ),
    'GET /api/rejections': [
      { req: get('/api/rejections?limit=1000'), kind: 'plain' },
      ...SEEDED.map((d) => ({ req: get(`/api/rejections?deviceId=${d}`), kind: 'plain' as const })),
    ],
    'GET /api/parking/lots': [{ req: get('/api/parking/lots'), kind: 'plain' }],
    'POST /api/visitors': split(
      communities,
      seesCommunityShared,
      (c) => post('/api/visitors', { communityId: c, plate: '川A12345', until: at(T0 + 86_400_000) }),
      post('/api/visitors', { communityId: MISSING.community, plate: '川A12345', until: at(T0 + 86_400_000) }),
    ),
    'GET /api/stream': 'stream',
    'POST /api/care/visits': split(
      households,
      (h) => seesHousehold(dir, v, h),
      (h) => post('/api/care/visits', { householdId: h }),
      post('/api/care/visits', { householdId: MISSING.household }),
    ),
    'GET /api/care/elders': [{ req: get('/api/care/elders'), kind: 'plain' }],
    'GET /api/care/elders/:householdId/water': split(
      households,
      (h) => seesHousehold(dir, v, h),
      (h) => get(`/api/care/elders/${h}/water`),
      get(`/api/care/elders/${MISSING.household}/water`),
    ),
    'POST /api/care/absences': split(
      households,
      (h) => seesHousehold(dir, v, h),
      (h) => post('/api/care/absences', { householdId: h, reason: 'outing', from: at(T0 + 2 * 86_400_000), until: at(T0 + 3 * 86_400_000) }),
      post('/api/care/absences', { householdId: MISSING.household, reason: 'outing', from: at(T0 + 2 * 86_400_000), until: at(T0 + 3 * 86_400_000) }),
    ),
    'GET /api/care/absences': [
      { req: get('/api/care/absences'), kind: 'plain' },
      ...split(households, (h) => seesHousehold(dir, v, h), (h) => get(`/api/care/absences?householdId=${h}`), get(`/api/care/absences?householdId=${MISSING.household}`)),
    ],
    'PATCH /api/care/absences/:id': split(
      absences,
      (a) => seesHousehold(dir, v, a.householdId),
      (a) => ({ method: 'PATCH', url: `/api/care/absences/${a.id}`, body: { until: at(T0 + 36 * 3_600_000) } }),
      { method: 'PATCH', url: `/api/care/absences/${MISSING.alert}`, body: { until: at(T0 + 36 * 3_600_000) } },
    ),
    'POST /api/care/absences/:id/end': split(
      absences,
      (a) => seesHousehold(dir, v, a.householdId),
      (a) => post(`/api/care/absences/${a.id}/end`, {}),
      post(`/api/care/absences/${MISSING.alert}/end`, {}),
    ),
    // A volunteer is told "not for you" (403) about their own community's report, as the other roles without it.
    'GET /api/reports/daily': split(
      communities,
      (c) => v.platform || v.community === c,
      (c) => get(`/api/reports/daily?communityId=${c}`),
      get(`/api/reports/daily?communityId=${MISSING.community}`),
    ),
    'GET /api/me': [{ req: get('/api/me'), kind: 'plain' }],
    // Residents (issue 17): staff print and revoke the invites of the households they see (only the grid's
    // runners may; others are told 403); the household's own routes take its invite token, never a staff token.
    'GET /api/invites': listQueries('/api/invites'),
    'POST /api/households/:id/invite/revoke': split(
      households,
      (h) => seesHousehold(dir, v, h),
      (h) => post(`/api/households/${h}/invite/revoke`, {}),
      post(`/api/households/${MISSING.household}/invite/revoke`, {}),
    ),
    'GET /api/resident/me': { public: "a household's invite token is the credential (src/residents/invites.ts)", cases: [{ req: get('/api/resident/me'), kind: 'plain' }] },
    'GET /api/resident/orders': { public: 'invite token', cases: [{ req: get('/api/resident/orders'), kind: 'plain' }] },
    'GET /api/resident/orders/:id': { public: 'invite token', cases: [{ req: get('/api/resident/orders/1'), kind: 'plain' }] },
    'POST /api/resident/orders': { public: 'invite token', cases: [{ req: post('/api/resident/orders', { type: 'report', category: 'other', text: 'walk' }), kind: 'plain' }] },
    'POST /api/resident/orders/:id/rate': { public: 'invite token', cases: [{ req: post('/api/resident/orders/1/rate', { score: 3 }), kind: 'plain' }] },
    'POST /api/resident/photos': { public: 'invite token', cases: [{ req: post('/api/resident/photos', {}), kind: 'plain' }] },
    'GET /api/resident/photos/:id': { public: 'invite token', cases: [{ req: get(`/api/resident/photos/${'a'.repeat(64)}`), kind: 'plain' }] },
    // A photo is seen by who sees an alert it belongs to (tests/integration/residents-photos.test.ts walks them).
    'GET /api/photos/:id': [{ req: get(`/api/photos/${'a'.repeat(64)}`), kind: 'plain' }],
    'GET /api/people': [
      { req: get('/api/people'), kind: 'plain' },
      ...split(grids, ({ c, g }) => seesGrid(v, c, g), ({ g }) => get(`/api/people?gridId=${g}`), get(`/api/people?gridId=${MISSING.grid}`)),
    ],
    // The one clock is everybody's: only the platform operator moves it; others are refused whatever they ask.
    'POST /api/replay/clock': [{ req: post('/api/replay/clock', { now: at(env.t.app.clock.now()) }), kind: 'plain' }],
    'POST /api/session': {
      public: 'console sign-in',
      cases: [{ req: post('/api/session', { username: 'gh-vol-g1-1', password: 'wrong-password' }), kind: 'plain' }],
    },
    'GET /ack/:token': { public: 'one-tap link: the signed token is the capability', cases: [{ req: get('/ack/not-a-token'), kind: 'plain' }] },
    'POST /ack/:token': { public: 'one-tap link', cases: [{ req: post('/ack/not-a-token', {}), kind: 'plain' }] },
    'GET /snapshot/:token': {
      public: "a chat message's snapshot link: the signed token is the capability, and its destination must still reach the grid's staff",
      cases: [{ req: get('/snapshot/not-a-token'), kind: 'plain' }],
    },
    'GET /c/:code': { public: 'texted one-tap page: the random code is the capability', cases: [{ req: get('/c/abcdef123'), kind: 'plain' }] },
    'POST /c/:code/:answer': { public: 'texted one-tap page', cases: [{ req: post('/c/abcdef123/safe', {}), kind: 'plain' }] },
    // Device messages over HTTP: each integration authenticates with its own secret, never a person's token.
    'POST /ingest/:integration': {
      public: 'device integrations (src/api/ingest.ts): the integration secret is the credential',
      cases: [{ req: post('/ingest/gh-tts', { end_device_ids: { device_id: 'gh-ps-fl1' }, uplink_message: { f_port: 1, frm_payload: 'lQ==' } }), kind: 'plain' }],
    },
    'GET /healthz': { public: 'health', cases: [{ req: get('/healthz'), kind: 'plain' }] },
    'GET /metrics': { public: 'Prometheus: counts only, never an id', cases: [{ req: get('/metrics'), kind: 'plain' }] },
    'GET /*': { public: 'the console files', cases: ['/', '/index.html', '/js/app.js', '/nothing-here'].map((u) => ({ req: get(u), kind: 'plain' as const })) },
    'GET /js/labels.js': { public: 'console labels of alert and device kinds (no data)', cases: [{ req: get('/js/labels.js'), kind: 'plain' }] },
    'GET /vendor/:name': { public: 'browser builds', cases: ['preact.mjs', 'nothing'].map((n) => ({ req: get(`/vendor/${n}`), kind: 'plain' as const })) },
    'GET /docs': { public: 'OpenAPI', cases: [{ req: get('/docs'), kind: 'plain' }] },
    'GET /docs/json': { public: 'OpenAPI', cases: [{ req: get('/docs/json'), kind: 'plain' }] },
    'GET /docs/yaml': { public: 'OpenAPI', cases: [{ req: get('/docs/yaml'), kind: 'plain' }] },
    'GET /docs/static/index.html': { public: 'OpenAPI UI', cases: [{ req: get('/docs/static/index.html'), kind: 'plain' }] },
    'GET /docs/static/swagger-initializer.js': { public: 'OpenAPI UI', cases: [{ req: get('/docs/static/swagger-initializer.js'), kind: 'plain' }] },
    'GET /docs/static/*': { public: 'OpenAPI UI', cases: [{ req: get('/docs/static/swagger-ui.css'), kind: 'plain' }] },
    'HEAD /docs/': { public: 'OpenAPI UI', cases: [{ req: { method: 'HEAD', url: '/docs/' }, kind: 'plain' }] },
  };
  table['POST /api/alerts/:id/photo'] = split(alerts, sees, (a) => post(`/api/alerts/${a.id}/photo`, {}), post(`/api/alerts/${MISSING.alert}/photo`, {}));
  for (const [t, body] of Object.entries(transitions))
    table[`POST /api/alerts/:id/${t}`] = split(alerts, sees, (a) => post(`/api/alerts/${a.id}/${t}`, body(a)), post(`/api/alerts/${MISSING.alert}/${t}`, body({ gridId: 'gh-g1' })));
  // HEAD answers like GET, without the body.
  for (const [key, value] of Object.entries(table)) {
    if (!key.startsWith('GET ') || value === 'stream') continue;
    const head = (c: Case): Case => ({ ...c, req: { ...c.req, method: 'HEAD' } }) as Case;
    const headOf = (c: Case): Case => (c.kind === 'foreign' ? { ...head(c), missing: { ...c.missing, method: 'HEAD' } } as Case : head(c));
    table[key.replace(/^GET /, 'HEAD ')] = Array.isArray(value) ? value.map(headOf) : { public: value.public, cases: value.cases.map(headOf) };
  }
  // A HEAD of the stream is answered with its headers and closed (see src/api/stream.ts).
  table['HEAD /api/stream'] = [{ req: { method: 'HEAD', url: '/api/stream' }, kind: 'plain' }];
  return table;
}

async function call(req: Req, token?: string) {
  const res = await env.t.app.api.inject({
    method: req.method,
    url: req.url,
    headers: token ? auth(token) : {},
    ...(req.body !== undefined ? { payload: req.body as object } : {}),
  });
  let body: unknown = res.body;
  try {
    body = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    // HTML, JavaScript, Prometheus text: scanned as text.
  }
  return { status: res.statusCode, code: (body as { code?: string } | undefined)?.code, body };
}

describe('every route × every role', () => {
  it('shows nobody anything outside their view, and answers a foreign thing like a missing one', async () => {
    const failures: string[] = [];
    const registered = env.t.app.api.registeredRoutes.map((r) => `${r.method} ${r.url}`);
    const known = await routeCases(viewOf(dir));
    for (const key of registered) if (!(key in known)) failures.push(`${key}: registered but not walked — add it to the walk`);
    for (const key of Object.keys(known)) if (!registered.includes(key)) failures.push(`${key}: walked but not registered (stale entry)`);
    const publicRoutes = new Set(env.t.app.api.registeredRoutes.filter((r) => r.isPublic).map((r) => `${r.method} ${r.url}`));

    const timing = new Map<string, number>();
    let calls = 0;
    let reached = 0;
    const check = async (who: Subject, view: View | undefined, key: string, c: Case) => {
      const res = await call(c.req, who.token);
      calls++;
      const at = `${who.label}: ${c.req.method} ${c.req.url}${c.req.body ? ` ${JSON.stringify(c.req.body)}` : ''} → ${res.status}`;
      if (res.status >= 500) failures.push(`${at}: a 5xx`);
      // Anybody without a token: every /api route but signing in is 401, and nothing names anything.
      const forbidden = view ? forbiddenIds(dir, view) : new Set(idsIn([...dir.communities.keys(), ...dir.devices.keys(), ...dir.households.keys(), ...dir.people.keys(), ...dir.lots.keys()]));
      if (!view && c.req.url.startsWith('/api') && !publicRoutes.has(key) && res.status !== 401) failures.push(`${at}: not 401 without a token`);
      const echoed = idsIn([c.req.url, c.req.body ?? '']);
      const leaks = [...idsIn(res.body)].filter((id) => forbidden.has(id) && !echoed.has(id));
      if (leaks.length) failures.push(`${at}: shows ${leaks.slice(0, 8).join(', ')}${leaks.length > 8 ? ` and ${leaks.length - 8} more` : ''}`);
      if (!view) return;
      if (c.kind === 'own') {
        if (res.status === 404 || res.status === 401) failures.push(`${at}: inside the caller's view but answered ${res.status}`);
        else reached++;
      }
      if (c.kind === 'foreign') {
        const m = await call(c.missing, who.token);
        if (m.status !== res.status || m.code !== res.code)
          failures.push(`${at} ${res.code ?? ''}: outside the caller's view, but a missing one is ${m.status} ${m.code ?? ''}`);
      }
    };

    for (const who of [...subjects, { label: 'nobody (no token)' } as Subject]) {
      const view = who.token ? viewOf(dir, who.person) : undefined;
      const table = await routeCases(view ?? viewOf(dir));
      for (const key of registered) {
        const entry = table[key];
        if (!entry || entry === 'stream') continue;
        // Public routes answer the same whoever asks: walked once, by nobody, against every id there is.
        if (!Array.isArray(entry) && view) continue;
        const t0 = performance.now();
        for (const c of Array.isArray(entry) ? entry : entry.cases) await check(who, view, key, view ? c : ({ req: c.req, kind: 'plain' } as Case));
        timing.set(key, (timing.get(key) ?? 0) + performance.now() - t0);
      }
    }

    // The live stream of each caller, after all the above went past it: only their things.
    await new Promise((r) => setTimeout(r, 300));
    for (const who of subjects) {
      const text = streams.get(who.label)!.text();
      const view = viewOf(dir, who.person);
      const events = text.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]) as unknown);
      const leaks = [...idsIn(events)].filter((id) => forbiddenIds(dir, view).has(id));
      if (leaks.length) failures.push(`${who.label}: GET /api/stream shows ${leaks.join(', ')}`);
      const own = ALARMS.filter((d) => seesDevice(dir, view, d));
      if (own.length && !own.some((d) => idsIn(events).has(d))) failures.push(`${who.label}: GET /api/stream showed none of their own alerts`);
    }

    if (process.env.WALK_DEBUG) console.log([...timing].sort((a, b) => b[1] - a[1]).slice(0, 12));
    if (process.env.WALK_DEBUG) console.log(`${calls} calls, ${reached} inside the callers' views`);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(1000);
    expect(reached).toBeGreaterThan(100);
  }, 120_000);
});
