// Parking: live lot counts (GET /api/parking/lots) and visitor registration (POST /api/visitors), which the
// unregistered_vehicle and visitor_overstay rules read. Scoped to the caller's grids.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { inScope, inScopeOfCommunity } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import { apiTime, timeSchema } from './time.js';
import type { RuleEngine } from '../alerts/engine.js';

export const lotSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    communityId: { type: 'string' },
    gridId: { type: 'string' },
    capacity: { type: 'integer' },
    occupied: { type: 'integer' },
    free: { type: 'integer' },
    updatedAt: { type: ['string', 'null'] },
  },
  required: ['id', 'name', 'capacity', 'occupied', 'free'],
} as const;

export function parkingApi(engine: RuleEngine) {
  return async function parkingPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    app.get(
      '/api/parking/lots',
      {
        schema: {
          summary: "Parking lots in the caller's grids with live counts",
          tags: ['parking'],
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: lotSchema } } }, '4xx': errorSchema },
        },
      },
      async (req) => ({ items: engine.lots().filter((l) => inScope(req.principal, l)) }),
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/visitors',
      {
        schema: {
          summary: 'Register (or extend) a visitor plate until a time',
          tags: ['parking'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['plate', 'communityId', 'until'],
            properties: {
              plate: { type: 'string', minLength: 2, maxLength: 16 },
              communityId: { type: 'string' },
              until: timeSchema('until when the plate may park'),
            },
          },
          response: {
            201: {
              type: 'object',
              properties: { communityId: { type: 'string' }, plate: { type: 'string' }, until: { type: 'string' }, registeredBy: { type: 'string' } },
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { plate, communityId } = req.body;
        const community = deps.directory.communities.get(communityId);
        if (!community || !inScopeOfCommunity(req.principal, deps.directory, communityId))
          throw new AppError('SB_NOT_FOUND', `no community '${communityId}'`);
        const until = apiTime('until', req.body.until);
        if (until <= deps.clock.now()) throw new AppError('SB_VALIDATION', 'until must lie in the future');
        const v = engine.visitors.register(communityId, plate, until, req.principal.id);
        req.log.info({ communityId, by: req.principal.id }, 'visitor registered');
        return reply.code(201).send({ communityId, plate: v.plate, until: new Date(v.until).toISOString(), registeredBy: req.principal.id });
      },
    );
  };
}
