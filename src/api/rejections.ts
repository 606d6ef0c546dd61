// Rejected payloads with their reasons, newest first: only of the devices in the caller's scope (a volunteer's:
// the devices of their paired households). A row whose device is no longer configured is the platform's.
import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from './typeProvider.js';
import type { ApiDeps } from './index.js';
import { inScope } from './scope.js';
import { errorSchema } from './schemas.js';
import type { Rejection } from '../store/store.js';

export default async function rejectionsApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.withTypeProvider<SchemaTypes>().get(
    '/api/rejections',
    {
      schema: {
        summary: 'Recent rejected payloads with reasons',
        tags: ['devices'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { deviceId: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        } as const,
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    deviceId: { type: ['string', 'null'] },
                    communityId: { type: ['string', 'null'] },
                    topic: { type: 'string' },
                    code: { type: 'string' },
                    message: { type: 'string' },
                    receivedAt: { type: 'string' },
                    payloadBytes: { type: 'integer' },
                    payloadText: { type: ['string', 'null'] },
                    payloadBase64: { type: 'string' },
                  },
                },
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (req) => {
      const { deviceId, limit = 100 } = req.query;
      const p = req.principal;
      let rows: Rejection[];
      if (p.platform) rows = await deps.store.rejections.list({ deviceIds: deviceId ? [deviceId] : undefined, limit });
      else {
        // Filtered in the store, so `limit` rows of the caller's come back however many others there are.
        const ids: string[] = [];
        for (const d of deps.directory.devices.values()) if ((!deviceId || d.id === deviceId) && inScope(p, d)) ids.push(d.id);
        rows = await deps.store.rejections.list({ deviceIds: ids, limit });
      }
      const items = rows.map((r) => {
        const text = r.payload.toString('utf8');
        return {
          id: r.id,
          deviceId: r.deviceId,
          communityId: r.communityId,
          topic: r.topic,
          code: r.code,
          message: r.message,
          receivedAt: new Date(r.receivedAt).toISOString(),
          payloadBytes: r.payloadBytes,
          // Text when the bytes are valid UTF-8 without control characters; always the raw bytes in base64.
          payloadText: Buffer.from(text, 'utf8').equals(r.payload) && !/[\u0000-\u0008\u000e-\u001f]/.test(text) ? text : null,
          payloadBase64: r.payload.toString('base64'),
        };
      });
      return { items };
    },
  );
}
