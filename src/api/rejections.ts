// Rejected payloads with their reasons, newest first: only of the devices in the caller's scope (a volunteer's:
// the devices of their paired households). A row whose device is no longer configured is the platform's.
import type { FastifyInstance } from 'fastify';
import type { SchemaTypes } from './typeProvider.js';
import type { ApiDeps } from './index.js';
import { inScope } from './scope.js';
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
  const newest = deps.db.prepare('SELECT * FROM rejections ORDER BY id DESC LIMIT ?');
  const byDevice = deps.db.prepare('SELECT * FROM rejections WHERE device_id = ? ORDER BY id DESC LIMIT ?');
  const ofDevices = deps.db.prepare('SELECT * FROM rejections WHERE device_id IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?');
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
      let rows: Row[];
      if (p.platform) rows = (deviceId ? byDevice.all(deviceId, limit) : newest.all(limit)) as Row[];
      else {
        // Filtered in SQL, so `limit` rows of the caller's come back however many others there are.
        const ids: string[] = [];
        for (const d of deps.directory.devices.values()) if ((!deviceId || d.id === deviceId) && inScope(p, d)) ids.push(d.id);
        rows = ids.length ? (ofDevices.all(JSON.stringify(ids), limit) as Row[]) : [];
      }
      const items = rows.map((r) => {
        const text = r.payload.toString('utf8');
        return {
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
        };
      });
      return { items };
    },
  );
}
