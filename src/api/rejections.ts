// Rejected payloads with their reasons, newest first, for the caller's grids.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { canSee } from './auth.js';
import { errorSchema } from './schemas.js';

interface Row {
  id: number;
  device_id: string | null;
  community_id: string | null;
  topic: string;
  code: string;
  message: string;
  payload: Buffer;
  payload_bytes: number;
  received_at: number;
}

export default async function rejectionsApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: { deviceId?: string; limit?: number } }>(
    '/api/rejections',
    {
      schema: {
        summary: 'Recent rejected payloads with reasons',
        tags: ['devices'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { deviceId: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
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
      const rows = (
        deviceId
          ? deps.db.prepare('SELECT * FROM rejections WHERE device_id = ? ORDER BY id DESC LIMIT ?').all(deviceId, limit * 4)
          : deps.db.prepare('SELECT * FROM rejections ORDER BY id DESC LIMIT ?').all(limit * 4)
      ) as Row[];
      const items = [];
      for (const r of rows) {
        const d = r.device_id ? deps.directory.devices.get(r.device_id) : undefined;
        const visible = d ? canSee(req.principal, d.gridId) : req.principal.admin;
        if (!visible) continue;
        const text = r.payload.toString('utf8');
        items.push({
          id: r.id,
          deviceId: r.device_id,
          communityId: r.community_id,
          topic: r.topic,
          code: r.code,
          message: r.message,
          receivedAt: new Date(r.received_at).toISOString(),
          payloadBytes: r.payload_bytes,
          // Text when the bytes are valid UTF-8 without control characters; always the raw bytes in base64.
          payloadText: Buffer.from(text, 'utf8').equals(r.payload) && !/[\u0000-\u0008\u000e-\u001f]/.test(text) ? text : null,
          payloadBase64: r.payload.toString('base64'),
        });
        if (items.length >= limit) break;
      }
      return { items };
    },
  );
}
