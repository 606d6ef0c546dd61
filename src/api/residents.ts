// Residents in the loop (issue 17; README "Residents: reports and requests from a phone").
//
// The household's side, /api/resident/*: authenticated by the household's invite token (src/residents/invites.ts)
// in `Authorization: Bearer sbi1.…`, never by a staff token; a household sees and rates only what it filed.
// Wrong tokens are throttled per client address (the staff token policy), a valid one is limited per household.
//
// The staff's side: GET /api/invites (the invite links and QR codes of the households in the caller's grids, to
// print) and POST /api/households/{id}/invite/revoke — for whoever runs the grid's jobs (grid head, property
// duty, admin). The work orders themselves are alerts (kinds resident_report, resident_request): listed, worked
// and streamed by the alert routes.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { ApiDeps } from './index.js';
import type { RuleEngine } from '../alerts/engine.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import { Throttle } from '../throttle.js';
import { TOKEN_THROTTLE } from './auth.js';
import { householdPlace, inScope, type Principal } from './scope.js';
import { ResidentInvites, invitePath } from '../residents/invites.js';
import { CATEGORIES, REPORT_CATEGORIES, REQUEST_CATEGORIES, ORDER_TYPES, TEXT_MAX, LIMITS, WorkOrders, placesOf, residentActor, residentView, type FileInput } from '../residents/workOrders.js';
import type { HouseholdInfo } from '../config/inventory.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FilePhotoStore, PHOTO_ID, PHOTO_LIMITS, storePhoto, type PhotoSize, type PhotoStore } from '../residents/photos.js';
import { mayTake, RESIDENT_KINDS } from '../alerts/permissions.js';
import type { Role } from '../config/schema.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A /api/resident route: the household's invite token, not a staff token. */
    resident?: boolean;
  }
  interface FastifyRequest {
    household: HouseholdInfo;
  }
}

/** Requests per household per window (the page polls its list every 30 s while open). */
export const RESIDENT_RATE = { max: 120, windowMs: 10 * 60_000 } as const;
/** Who prints and revokes households' invites. */
export const INVITE_ROLES: readonly Role[] = ['grid_head', 'property_duty', 'admin'];

export interface ResidentsDeps {
  engine: RuleEngine;
  utcOffsetMinutes?: number;
  publicUrl?: string;
  /** Where photos are kept; default a FilePhotoStore under <dataDir>/photos. */
  photoStore?: PhotoStore;
}

/** Unattached uploads of a household are dropped after a day; at most this many a day. */
export const PENDING_PHOTOS = { keepMs: 86_400_000, perDay: 20 } as const;
const photoQuery = { type: 'object', additionalProperties: false, properties: { size: { type: 'string', enum: ['full', 'thumb'], default: 'full' } } } as const;
const photoParams = { type: 'object', additionalProperties: false, properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id'] } as const;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'];

const orderSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    type: { type: 'string', enum: ORDER_TYPES },
    category: { type: 'string' },
    categoryZh: { type: 'string' },
    text: { type: 'string' },
    place: { type: 'string' },
    status: { type: 'string' },
    statusZh: { type: 'string' },
    openedAt: { type: 'string' },
    updatedAt: { type: 'string' },
    resolvedAt: { type: 'string' },
    resolution: { type: 'string' },
    rating: { type: 'object', properties: { score: { type: 'integer' }, comment: { type: 'string' }, at: { type: 'string' } } },
    canRate: { type: 'boolean' },
    photos: { type: 'array', items: { type: 'string' } },
    resolutionPhoto: { type: 'string' },
    steps: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, what: { type: 'string' }, note: { type: 'string' } } } },
  },
  required: ['id', 'type', 'category', 'categoryZh', 'text', 'place', 'status', 'statusZh', 'openedAt', 'updatedAt', 'canRate'],
} as const;

const idParams = { type: 'object', additionalProperties: false, properties: { id: { type: 'integer', minimum: 1, maximum: 2 ** 31 } }, required: ['id'] } as const;
const residentSecurity = [{ residentInvite: [] }];

/** A per-household fixed window: enough for a person, not for a script. */
class Budget {
  private readonly used = new Map<string, { n: number; from: number }>();
  take(key: string, now: number): boolean {
    const e = this.used.get(key);
    if (!e || now - e.from >= RESIDENT_RATE.windowMs) {
      if (this.used.size > 50_000) this.used.clear();
      this.used.set(key, { n: 1, from: now });
      return true;
    }
    return ++e.n <= RESIDENT_RATE.max;
  }
}

export function residentsApi(d: ResidentsDeps) {
  return async function residentsPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    const invites = new ResidentInvites(deps.store.residentInvites, deps.dataDir);
    const photosRepo = deps.store.photos;
    const photoStore = d.photoStore ?? new FilePhotoStore(join(deps.dataDir ?? tmpdir(), 'photos'));
    const orders = new WorkOrders({ engine: d.engine, directory: deps.directory, utcOffsetMinutes: d.utcOffsetMinutes ?? 480, photos: photosRepo });
    // Photo uploads: the raw bytes (the body is the image), checked and re-encoded by src/residents/photos.ts.
    app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit: PHOTO_LIMITS.maxBytes }, (_req, body, done) => done(null, body));
    const sweep = async () => {
      try {
        for (const id of await photosRepo.sweep(Date.now() - PENDING_PHOTOS.keepMs)) await photoStore.delete(id);
      } catch (err) {
        deps.log.warn({ err }, 'sweeping unattached photos failed');
      }
    };
    const sweeper = setInterval(() => void sweep(), 3_600_000);
    sweeper.unref();
    app.addHook('onClose', async () => clearInterval(sweeper));
    const sendPhoto = async (reply: import('fastify').FastifyReply, id: string, size: PhotoSize) => {
      const bytes = await photoStore.get(id, size);
      if (!bytes) throw new AppError('SB_NOT_FOUND', 'no such photo');
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'private, max-age=86400, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'")
        .send(bytes);
    };
    const badTokens = new Throttle(TOKEN_THROTTLE);
    const budget = new Budget();
    app.decorateRequest('household', null as never);

    app.addHook('onRequest', async (req: FastifyRequest) => {
      if (!req.routeOptions.config?.resident) return;
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const wait = badTokens.wait(req.ip);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        throw Object.assign(new AppError('SB_TOO_MANY_ATTEMPTS', `链接无效的尝试太多，请 ${seconds} 秒后再试`), { retryAfterSeconds: seconds });
      }
      const token = m?.[1] ?? '';
      const householdId = m ? invites.verify(token) : undefined;
      const h = householdId ? deps.directory.households.get(householdId) : undefined;
      if (!h) {
        if (m && invites.revoked(token)) throw new AppError('SB_INVITE_REVOKED');
        if (m) badTokens.attempt(req.ip);
        throw new AppError('SB_UNAUTHORIZED', '链接无效：请扫描社区发给您家的二维码');
      }
      if (!budget.take(h.id, Date.now())) throw Object.assign(new AppError('SB_TOO_MANY_REQUESTS', '操作太频繁，请过几分钟再试'), { retryAfterSeconds: 60 });
      req.household = h;
    });

    const resident = { public: true, resident: true };

    app.get(
      '/api/resident/me',
      {
        config: resident,
        schema: {
          summary: "The household's page: where it is, the places a report can be about, the categories",
          tags: ['residents'],
          security: residentSecurity,
          response: {
            200: {
              type: 'object',
              properties: {
                household: { type: 'object', properties: { building: { type: 'string' }, room: { type: 'string' }, community: { type: 'string' }, buildingId: { type: 'string' } } },
                places: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' } } } },
                categories: {
                  type: 'object',
                  properties: {
                    report: { type: 'object', additionalProperties: { type: 'string' } },
                    request: { type: 'object', additionalProperties: { type: 'string' } },
                  },
                },
                limits: { type: 'object', properties: { unresolved: { type: 'integer' }, perDay: { type: 'integer' }, textMax: { type: 'integer' }, photos: { type: 'integer' } } },
              },
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req) => {
        const h = req.household;
        return {
          household: { building: h.buildingName, room: h.room, community: deps.directory.communities.get(h.communityId)?.name ?? '', buildingId: h.buildingId },
          places: placesOf(deps.directory, h.communityId).map((p) => ({ id: p.id, name: p.name, kind: p.kind })),
          categories: { report: REPORT_CATEGORIES, request: REQUEST_CATEGORIES },
          limits: { ...LIMITS, textMax: TEXT_MAX, photos: PHOTO_LIMITS.perReport },
        };
      },
    );

    app.get(
      '/api/resident/orders',
      {
        config: resident,
        schema: {
          summary: "The household's own reports and requests, newest first",
          tags: ['residents'],
          security: residentSecurity,
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: orderSchema } } }, '4xx': errorSchema },
        },
      },
      async (req) => ({ items: (await orders.list(req.household.id)).map((a) => residentView(a)) }),
    );

    app.withTypeProvider<SchemaTypes>().get(
      '/api/resident/orders/:id',
      {
        config: resident,
        schema: { summary: 'One of the household\'s own orders, with its steps', tags: ['residents'], security: residentSecurity, params: idParams, response: { 200: orderSchema, '4xx': errorSchema } },
      },
      async (req) => {
        const a = orders.own(req.household.id, req.params.id);
        return residentView(a, d.engine.alerts.timeline(a.id));
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/resident/orders',
      {
        config: resident,
        schema: {
          summary: 'File a report (随手拍) or a request (居民点单)',
          description: `Report categories: ${Object.entries(REPORT_CATEGORIES).map(([k, v]) => `${k} ${v}`).join(', ')}. Request categories: ${Object.entries(REQUEST_CATEGORIES).map(([k, v]) => `${k} ${v}`).join(', ')}. placeId: a building or parking lot of the household's community (GET /api/resident/me), default the household's building; the order goes to that place's grid. At most ${LIMITS.unresolved} unresolved and ${LIMITS.perDay} a day per household: 429 SB_RESIDENT_LIMIT with a Chinese message.`,
          tags: ['residents'],
          security: residentSecurity,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'category', 'text'],
            properties: {
              type: { type: 'string', enum: ORDER_TYPES },
              category: { type: 'string', enum: [...new Set([...Object.keys(REPORT_CATEGORIES), ...Object.keys(REQUEST_CATEGORIES)])] },
              text: { type: 'string', minLength: 1, maxLength: TEXT_MAX },
              placeId: { type: 'string', minLength: 1, maxLength: 64 },
              photos: { type: 'array', maxItems: PHOTO_LIMITS.perReport, items: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'ids from POST /api/resident/photos' },
            },
          },
          response: { 201: orderSchema, '4xx': errorSchema },
        },
      },
      async (req, reply) => {
        const a = orders.file(req.household, req.body);
        req.log.info({ alertId: a.id, kind: a.kind, gridId: a.gridId, householdId: req.household.id }, 'resident filed');
        return reply.code(201).send(residentView(a, d.engine.alerts.timeline(a.id)));
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/resident/orders/:id/rate',
      {
        config: resident,
        schema: {
          summary: 'Rate a resolved order (评单): 1–5 and a comment',
          tags: ['residents'],
          security: residentSecurity,
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['score'],
            properties: { score: { type: 'integer', minimum: 1, maximum: 5 }, comment: { type: 'string', maxLength: TEXT_MAX } },
          },
          response: { 200: orderSchema, '4xx': errorSchema },
        },
      },
      async (req) => {
        const a = orders.own(req.household.id, req.params.id);
        if (a.status !== 'resolved') throw new AppError('SB_ILLEGAL_TRANSITION', '还没有办结，办结后才能评价');
        if (a.rating) throw new AppError('SB_ALREADY_RATED', '已经评价过了');
        const comment = req.body.comment?.trim();
        const v = d.engine.transition(a.id, 'rate', residentActor(req.household.id), { score: req.body.score, ...(comment ? { comment } : {}) });
        return residentView(v, d.engine.alerts.timeline(v.id));
      },
    );

    // ── photos ─────────────────────────────────────────────────────────────────────────────────────────

    app.post(
      '/api/resident/photos',
      {
        config: resident,
        schema: {
          summary: 'Upload a photo for a report (the body is the image: JPEG, PNG or WebP, ≤ 10 MB); answers its id',
          description: `Decoded and re-encoded (EXIF stripped, upright, ≤ ${PHOTO_LIMITS.side} px) or refused with nothing stored: 415 SB_PHOTO_TYPE (not a photo by its bytes), 400 SB_PHOTO_INVALID (truncated, corrupt), 413 SB_PHOTO_TOO_LARGE (over ${PHOTO_LIMITS.maxPixels / 1e6} megapixels), 413 SB_PAYLOAD_TOO_LARGE. Attach it with \`photos\` when filing; unattached uploads are dropped after a day.`,
          tags: ['residents'],
          security: residentSecurity,
          consumes: IMAGE_TYPES,
          response: {
            201: { type: 'object', properties: { id: { type: 'string' }, width: { type: 'integer' }, height: { type: 'integer' } } },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const h = req.household;
        if (!Buffer.isBuffer(req.body)) throw new AppError('SB_PHOTO_TYPE', '只能上传照片（JPG、PNG 或 WebP 格式）');
        if (photosRepo.pendingSince(h.id, Date.now() - PENDING_PHOTOS.keepMs) >= PENDING_PHOTOS.perDay)
          throw new AppError('SB_RESIDENT_LIMIT', '今天上传的照片太多了，请明天再传');
        const p = await storePhoto(photoStore, req.body);
        photosRepo.add({ photo: p.id, householdId: h.id, uploadedBy: residentActor(h.id), role: 'report', width: p.width, height: p.height, bytes: p.full.length, at: Date.now() });
        return reply.code(201).send({ id: p.id, width: p.width, height: p.height });
      },
    );

    app.withTypeProvider<SchemaTypes>().get(
      '/api/resident/photos/:id',
      {
        config: resident,
        schema: { summary: "A photo of the household's own (its uploads, and the photo of its order's resolution)", tags: ['residents'], security: residentSecurity, params: photoParams, querystring: photoQuery },
      },
      async (req, reply) => {
        const h = req.household.id;
        const mine = photosRepo.rows(req.params.id).some((r) => r.householdId === h || (r.alertId !== null && d.engine.alerts.get(r.alertId)?.householdId === h && RESIDENT_KINDS.has(d.engine.alerts.get(r.alertId)!.kind)));
        if (!mine) throw new AppError('SB_NOT_FOUND', '找不到这张照片');
        return sendPhoto(reply, req.params.id, req.query.size);
      },
    );

    app.withTypeProvider<SchemaTypes>().get(
      '/api/photos/:id',
      {
        schema: { summary: "A photo of an alert in the caller's view (a resident's report, a resolution)", tags: ['residents'], params: photoParams, querystring: photoQuery },
      },
      async (req, reply) => {
        const seen = photosRepo.rows(req.params.id).some((r) => {
          const a = r.alertId !== null ? d.engine.alerts.get(r.alertId) : undefined;
          return a !== undefined && inScope(req.principal, a);
        });
        if (!seen) throw new AppError('SB_NOT_FOUND', `no photo ${req.params.id}`);
        return sendPhoto(reply, req.params.id, req.query.size);
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/alerts/:id/photo',
      {
        schema: {
          summary: 'Attach the photo of the fix (one per alert, before 办结), by whoever may resolve it; the body is the image',
          tags: ['alerts'],
          params: idParams,
          consumes: IMAGE_TYPES,
          response: { 200: { type: 'object', additionalProperties: true }, '4xx': errorSchema },
        },
      },
      async (req) => {
        const a = d.engine.alerts.get(req.params.id);
        if (!a || !inScope(req.principal, a)) throw new AppError('SB_NOT_FOUND', `no alert ${req.params.id}`);
        const cares = !!a.householdId && (deps.directory.households.get(a.householdId)?.careContacts.some((c) => c.personId === req.principal.id) ?? false);
        if (!mayTake('resolve', req.principal, { alert: a, caresForHousehold: cares })) throw new AppError('SB_STEP_NOT_ALLOWED', 'the photo of the fix is attached by whoever may resolve the alert');
        if (a.status === 'resolved') throw new AppError('SB_ILLEGAL_TRANSITION', 'the alert is resolved; attach the photo before 办结');
        if (photosRepo.countOn(a.id, 'resolution') > 0) throw new AppError('SB_CONFLICT', '已上传过办结照片');
        if (!Buffer.isBuffer(req.body)) throw new AppError('SB_PHOTO_TYPE');
        const p = await storePhoto(photoStore, req.body);
        let view!: import('../alerts/types.js').AlertView;
        d.engine.runInTransaction((now) => {
          photosRepo.add({ photo: p.id, uploadedBy: req.principal.id, alertId: a.id, role: 'resolution', width: p.width, height: p.height, bytes: p.full.length, at: now });
          view = d.engine.alerts.mergeDetails(a.id, { resolutionPhoto: p.id }, now, 'photo', req.principal.id, { photo: p.id, role: 'resolution' });
          return [view];
        });
        return view;
      },
    );

    // ── staff: invites to print, and revoking one ──────────────────────────────────────────────────────

    const mayInvite = (p: Principal) => p.platform || p.roles.some((r) => INVITE_ROLES.includes(r));
    const inviteOf = async (h: HouseholdInfo) => {
      const path = invitePath(invites.token(h.id));
      const url = d.publicUrl ? `${d.publicUrl.replace(/\/$/, '')}${path}` : undefined;
      return {
        householdId: h.id,
        gridId: h.gridId,
        buildingId: h.buildingId,
        building: h.buildingName,
        room: h.room,
        generation: invites.generation(h.id),
        path,
        ...(url ? { url } : {}),
        // The QR code holds the full link when the public address is known, else the path (the console prefixes its own origin).
        qrSvg: await QRCode.toString(url ?? path, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      };
    };
    const inviteSchema = {
      type: 'object',
      properties: {
        householdId: { type: 'string' },
        gridId: { type: 'string' },
        buildingId: { type: 'string' },
        building: { type: 'string' },
        room: { type: 'string' },
        generation: { type: 'integer' },
        path: { type: 'string', description: 'the page and the token: /r/#sbi1.…' },
        url: { type: 'string', description: 'the full link, when settings.http.publicUrl is set' },
        qrSvg: { type: 'string', description: 'the QR code of the link (or of the path), as SVG' },
      },
    } as const;

    app.withTypeProvider<SchemaTypes>().get(
      '/api/invites',
      {
        schema: {
          summary: "Invite links and QR codes of the households in the caller's grids, to print (grid head, property duty, admin)",
          tags: ['residents'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { gridId: { type: 'string', maxLength: 64 }, buildingId: { type: 'string', maxLength: 64 } },
          },
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: inviteSchema } } }, '4xx': errorSchema },
        },
      },
      async (req) => {
        if (!mayInvite(req.principal)) throw new AppError('SB_FORBIDDEN', `invites are printed by ${INVITE_ROLES.join(', ')}`);
        const q = req.query;
        const hs = [...deps.directory.households.values()].filter(
          (h) => inScope(req.principal, householdPlace(h)) && (!q.gridId || h.gridId === q.gridId) && (!q.buildingId || h.buildingId === q.buildingId),
        );
        return { items: await Promise.all(hs.map(inviteOf)) };
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/households/:id/invite/revoke',
      {
        schema: {
          summary: "Revoke a household's invite: the links printed before stop working; answers the new one",
          tags: ['residents'],
          params: { type: 'object', additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] },
          response: { 200: inviteSchema, '4xx': errorSchema },
        },
      },
      async (req) => {
        const h = deps.directory.households.get(req.params.id);
        if (!h || !inScope(req.principal, householdPlace(h))) throw new AppError('SB_NOT_FOUND', `no household ${req.params.id}`);
        if (!mayInvite(req.principal)) throw new AppError('SB_FORBIDDEN', `invites are revoked by ${INVITE_ROLES.join(', ')}`);
        invites.revoke(h.id, Date.now(), req.principal.id);
        req.log.info({ householdId: h.id, by: req.principal.id, generation: invites.generation(h.id) }, 'resident invite revoked');
        return inviteOf(h);
      },
    );
  };
}

export { CATEGORIES };
