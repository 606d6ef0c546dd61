// GET /api/reports/daily: the committee's daily digest (src/jobs/digest.ts) as JSON, for the caller's grids of
// one community. Without `date`: the 24 h up to now, as the morning digest says it. With `date` (YYYY-MM-DD,
// local): that calendar day, 00:00 to 24:00 (up to now if it is today). For the committees, grid heads and
// admins; other roles get 403.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { inGrids, type Principal } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import type { Role } from '../config/schema.js';
import { loadDigest } from '../jobs/digestData.js';

const DAY = 86_400_000;
export const REPORT_ROLES: readonly Role[] = ['residents_committee', 'owners_committee', 'grid_head', 'admin'];

const stat = {
  type: 'object',
  properties: { count: { type: 'integer' }, medianMinutes: { type: ['number', 'null'] }, p90Minutes: { type: ['number', 'null'] } },
} as const;
const deviceLine = {
  type: 'object',
  properties: {
    alertId: { type: 'integer' },
    deviceId: { type: 'string' },
    householdId: { type: 'string' },
    gridId: { type: 'string' },
    title: { type: 'string' },
    since: { type: 'string' },
  },
} as const;

const digestSchema = {
  type: 'object',
  properties: {
    communityId: { type: 'string' },
    communityName: { type: 'string' },
    date: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    openAlerts: { type: 'object', properties: { total: { type: 'integer' }, byKind: { type: 'object', additionalProperties: { type: 'integer' } } } },
    opened: { type: 'integer' },
    resolved: { type: 'integer' },
    autoResolved: { type: 'integer' },
    grids: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          gridId: { type: 'string' },
          gridName: { type: 'string' },
          opened: { type: 'integer' },
          open: { type: 'integer' },
          acknowledge: stat,
          resolve: stat,
        },
      },
    },
    offlineDevices: { type: 'array', items: deviceLine },
    lowBatteries: { type: 'array', items: deviceLine },
    devices: {
      type: 'object',
      description: "the grids' devices by status now (GET /api/devices status); only without `date`",
      properties: { ok: { type: 'integer' }, late: { type: 'integer' }, offline: { type: 'integer' } },
    },
    residents: {
      type: 'object',
      description: "residents' reports (随手拍) and requests (点单): filed by category, first response and resolution per grid, average 评单",
      properties: {
        filed: {
          type: 'object',
          properties: { report: { type: 'object', additionalProperties: { type: 'integer' } }, request: { type: 'object', additionalProperties: { type: 'integer' } } },
        },
        grids: {
          type: 'array',
          items: {
            type: 'object',
            properties: { gridId: { type: 'string' }, gridName: { type: 'string' }, filed: { type: 'integer' }, firstResponse: stat, resolve: stat },
          },
        },
        rating: { type: 'object', properties: { count: { type: 'integer' }, average: { type: ['number', 'null'] } } },
      },
    },
    cameras: {
      type: 'object',
      description: 'AI-camera alerts opened in the window, by kind (camera_fire, ebike_in_lift, …; a burst on one camera is one)',
      additionalProperties: { type: 'integer' },
    },
  },
} as const;

function mayReport(p: Principal): boolean {
  return p.platform || p.roles.some((r) => REPORT_ROLES.includes(r));
}

export function reportsApi(opts: { utcOffsetMinutes?: number } = {}) {
  const offset = opts.utcOffsetMinutes ?? 480;
  return async function reportsPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    app.withTypeProvider<SchemaTypes>().get(
      '/api/reports/daily',
      {
        schema: {
          summary: "The committee's daily digest: open alerts by kind, response times per grid, offline devices, low batteries, residents' orders, camera events",
          tags: ['reports'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['communityId'],
            properties: {
              communityId: { type: 'string', minLength: 1 },
              date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local calendar day; default the 24 h up to now' },
            },
          },
          response: { 200: digestSchema, '4xx': errorSchema },
        },
      },
      async (req) => {
        const p = req.principal;
        const community = deps.directory.communities.get(req.query.communityId);
        const grids = community ? new Set(community.grids.filter((g) => inGrids(p, community.id, g.id)).map((g) => g.id)) : new Set<string>();
        if (!community || grids.size === 0) throw new AppError('SB_NOT_FOUND', `no community '${req.query.communityId}'`);
        if (!mayReport(p)) throw new AppError('SB_FORBIDDEN', 'reports are for the committees, grid heads and admins');
        const now = deps.clock.now();
        let from = now - DAY;
        let to = now;
        if (req.query.date) {
          const start = Date.parse(`${req.query.date}T00:00:00Z`) - offset * 60_000;
          // Date.parse takes 2025-02-30 as 2 March: a day that does not read back the same is no day.
          if (!Number.isFinite(start) || new Date(start + offset * 60_000).toISOString().slice(0, 10) !== req.query.date) throw new AppError('SB_VALIDATION', `date '${req.query.date}' is not a day`);
          if (start > now) throw new AppError('SB_VALIDATION', `date '${req.query.date}' lies in the future`);
          from = start;
          to = Math.min(start + DAY, now);
        }
        // Status is known now, not per past day: the 设备 line only for the 24 h up to now.
        const devices = req.query.date ? undefined : deps.deviceStatus?.counts(community.id, grids, now);
        return loadDigest(deps.store, { community, grids, from, to, utcOffsetMinutes: offset, devices });
      },
    );
  };
}
