// Devices: provisioning (admin) and live state, scoped to the caller's grids.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { inScope, requireAdmin } from './scope.js';
import { deviceSchema, errorSchema } from './schemas.js';
import { provisionDevice } from '../broker/provision.js';
import { AppError } from '../errors.js';
import type { DeviceInfo } from '../config/inventory.js';
import type { CadenceSettings, DeviceStatus } from '../state/cadence.js';
import { DeviceStatusBoard } from '../state/deviceStatus.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const idPattern = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export default async function devicesApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  // The same thresholds as device_offline at each device's place (src/state/cadence.ts), shared with the digest.
  const board =
    deps.deviceStatus ??
    new DeviceStatusBoard(deps.directory, deps.states, deps.kinds, (d) => deps.rules?.engine.deviceRuleConfig<CadenceSettings>('device_offline', d));
  const view = (d: DeviceInfo, now = deps.clock.now()) => {
    const s = deps.states.get(d.id);
    const st = board.of(d, now);
    const heard = st.heardAt;
    return {
      id: d.id,
      kind: d.kind,
      format: d.format,
      communityId: d.communityId,
      gridId: d.gridId,
      buildingId: d.buildingId,
      householdId: d.householdId,
      spaceId: d.spaceId,
      gateId: d.gateId,
      lotId: d.lotId,
      area: d.area,
      online: st.status !== 'offline',
      status: st.status,
      connected: s?.connected ?? false,
      lastSeenAt: iso(heard),
      cadence: {
        intervalSeconds: Math.round(st.cadence.intervalMs / 1000),
        observed: st.cadence.observed,
        nextDueAt: iso(st.nextDueAt),
        lateAt: iso(st.lateAt),
        offlineAt: iso(st.offlineAt),
      },
      batteryPct: s?.batteryPct ?? null,
      rssi: s?.rssi ?? null,
      state: {
        lastType: s?.lastType ?? null,
        lastEventAt: iso(s?.lastEventAt ?? null),
        meterTotalM3: s?.meterTotalM3 ?? null,
        accepted: s?.accepted ?? 0,
        rejected: s?.rejected ?? 0,
        last: s?.last ?? null,
      },
    };
  };

  app.withTypeProvider<SchemaTypes>().post(
    '/api/devices',
    {
      schema: {
        summary: 'Provision a device (admin); the secret is shown this once. 409 SB_DEVICE_EXISTS for a taken id, 409 SB_SPACE_TAKEN for a parking space that already has a sensor',
        tags: ['devices'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'kind', 'communityId'],
          properties: {
            id: { type: 'string', pattern: idPattern },
            kind: { type: 'string' },
            communityId: { type: 'string' },
            format: { type: 'string' },
            householdId: { type: 'string' },
            spaceId: { type: 'string' },
            gateId: { type: 'string' },
            buildingId: { type: 'string' },
            area: { type: 'string', maxLength: 64 },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { id: { type: 'string' }, secret: { type: 'string' }, topic: { type: 'string' } },
            required: ['id', 'secret', 'topic'],
          },
          '4xx': errorSchema,
        },
      },
    },
    async (req, reply) => {
      requireAdmin(req.principal);
      const { device, secret } = provisionDevice(
        { directory: deps.directory, repo: deps.devicesRepo, kinds: deps.kinds, now: deps.clock.now(), mayPlace: (at) => inScope(req.principal, at) },
        req.body,
      );
      req.log.info({ deviceId: device.id, kind: device.kind, communityId: device.communityId }, 'device provisioned');
      return reply.code(201).send({ id: device.id, secret, topic: device.uplinkTopic });
    },
  );

  app.withTypeProvider<SchemaTypes>().get(
    '/api/devices',
    {
      schema: {
        summary: "Devices in the caller's grids",
        tags: ['devices'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string' },
            communityId: { type: 'string' },
            gridId: { type: 'string' },
            online: { type: 'boolean', description: 'true: not offline (ok or late)' },
            status: { type: 'string', enum: ['ok', 'late', 'offline'] },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: deviceSchema } } }, '4xx': errorSchema },
      },
    },
    async (req) => {
      const q = req.query;
      const items = [];
      const now = deps.clock.now();
      for (const d of deps.directory.devices.values()) {
        if (!inScope(req.principal, d)) continue;
        if (q.kind && d.kind !== q.kind) continue;
        if (q.communityId && d.communityId !== q.communityId) continue;
        if (q.gridId && d.gridId !== q.gridId) continue;
        const v = view(d, now);
        if (q.online !== undefined && v.online !== q.online) continue;
        if (q.status && v.status !== q.status) continue;
        items.push(v);
      }
      return { items };
    },
  );

  app.withTypeProvider<SchemaTypes>().get(
    '/api/devices/:id',
    {
      schema: {
        summary: 'One device and its live state',
        tags: ['devices'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: deviceSchema, '4xx': errorSchema },
      },
    },
    async (req) => {
      const d = deps.directory.devices.get(req.params.id) ?? (() => {
        const row = deps.devicesRepo.find(req.params.id);
        return row && deps.directory.communities.has(row.communityId) ? deps.directory.addDevice(row) : undefined;
      })();
      // Outside the caller's grids looks the same as absent (CONTRACT.md: 404).
      if (!d || !inScope(req.principal, d)) throw new AppError('SB_NOT_FOUND', `no device '${req.params.id}'`);
      return view(d);
    },
  );
}
