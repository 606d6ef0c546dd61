// GET /snapshot/{token}: the camera snapshot a chat message links to (src/notify/snapshotLinks.ts). Signed,
// expiring, and opened only while the destination the message went to still reaches the staff of the alert's
// grid; the picture is the alert's newest snapshot when fetched. Anything else is a small Chinese page, never
// the picture, and never says which check failed beyond 链接无效 / 已过期 / 暂无照片.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { PhotoStore } from '../residents/photos.js';
import { verifySnapshot } from '../notify/snapshotLinks.js';
import { esc, page } from './ack.js';

export interface SnapshotLinkDeps {
  engine: RuleEngine;
  store: PhotoStore;
  signingKey(): string;
  reachesGridStaff(destination: string, alert: { communityId: string; gridId: string }): boolean;
}

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 2048 } } } as const;
const sizeQuery = { type: 'object', properties: { size: { type: 'string', enum: ['full', 'thumb'], default: 'full' } } } as const;

export function snapshotLinksApi(d: SnapshotLinkDeps) {
  return async function snapshotRoutes(app: FastifyInstance, _deps: ApiDeps): Promise<void> {
    app.withTypeProvider<SchemaTypes>().get('/snapshot/:token', { schema: { hide: true, params: tokenParams, querystring: sizeQuery } }, async (req, reply) => {
      const v = verifySnapshot(d.signingKey(), req.params.token, Date.now()); // links expire in real time
      if (!v.ok) return page(reply, 410, v.message, `<h1>${esc(v.message)}</h1><p>请打开哨兵控制台查看。</p><p class="code">${v.code}</p>`);
      const alert = d.engine.alerts.get(v.alertId);
      if (!alert || !d.reachesGridStaff(v.destination, alert)) return page(reply, 410, '链接无效', '<h1>链接无效</h1><p>请打开哨兵控制台查看。</p><p class="code">SB_ACK_INVALID</p>');
      const id = typeof alert.details.snapshot === 'string' ? alert.details.snapshot : undefined;
      const bytes = id ? await d.store.get(id, req.query.size ?? 'full') : undefined;
      if (!bytes) {
        const why = alert.details.snapshotPending === true ? '照片处理中，请稍后再打开' : typeof alert.details.snapshotError === 'string' ? `照片未能保存：${alert.details.snapshotError}` : '暂无照片';
        return page(reply, 404, alert.title, `<h1>${esc(alert.title)}</h1><p>${esc(why)}</p>`);
      }
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'private, no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'")
        .send(bytes);
    });
  };
}
