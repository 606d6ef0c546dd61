// Device messages over HTTP: `POST /ingest/{integration}`, for senders that cannot speak MQTT as the device —
// a LoRaWAN network server's webhook (The Things Stack v3), a camera's HTTP push (Hikvision ISAPI). Each integration is one
// community's (inventory `integrations:`), authenticates with its own secret (stored hashed, like device
// secrets), and says by its type how a body names its device (src/ingest/integrations/). The body then takes
// the MQTT path unchanged: Ingest.submit as a QoS 1 message, answered 202 only once it is in the inbox (the
// sender retries anything else), then decoded, validated, kept as a rejection if it fails, run through the rules.
import type { SchemaTypes } from './typeProvider.js';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from './index.js';
import type { DeviceInfo, IntegrationInfo } from '../config/inventory.js';
import type { Ingest } from '../ingest/pipeline.js';
import { integrationAdapters, type DeviceRef } from '../ingest/integrations/index.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';
import { Throttle, type ThrottlePolicy } from '../throttle.js';
import { errorSchema } from './schemas.js';

export interface IngestApiSettings {
  /** Largest body taken in; a body above the device's payload limit is still stored, as a payload_too_large rejection. */
  bodyLimit: number;
}

/** The secret a request carries in the integration's header: `Bearer <secret>`, Basic (its password), or the value itself. */
export function secretOf(req: Pick<FastifyRequest, 'headers'>, header: string): string | undefined {
  const raw = req.headers[header];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  if (header !== 'authorization') return value;
  const bearer = /^Bearer\s+(\S+)$/i.exec(value);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** The integration's community's device a body names: by DevEUI first (the hardware's own id), then by id. */
function deviceOf(deps: ApiDeps, integration: IntegrationInfo, ref: DeviceRef): DeviceInfo | undefined {
  const ours = (d: DeviceInfo | undefined) => (d && d.communityId === integration.communityId ? d : undefined);
  return (ref.devEui ? ours(deps.directory.devicesByEui.get(ref.devEui)) : undefined) ?? (ref.deviceId ? ours(deps.directory.devices.get(ref.deviceId)) : undefined);
}

// A hash to verify against when the integration does not exist, so an unknown id costs the same as a wrong secret.
const DUMMY_HASH = 'sha256$AAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * Wrong integration secrets per client address, like wrong bearer tokens (SECURITY.md): 20, then waits from 1 s
 * doubling to 1 min, and from 100 on the address is refused for 15 min. A secret already seen to be right from
 * anywhere is recognised before the throttle, so a network server behind an address that is refused carries on.
 */
export const INGEST_THROTTLE: ThrottlePolicy = { free: 20, baseMs: 1000, capMs: 60_000, banAfter: 100, banMs: 15 * 60_000, forgetMs: 15 * 60_000 };

export function ingestApi(ingest: Pick<Ingest, 'submit' | 'rejectUnknown'>, settings: IngestApiSettings) {
  return async function ingestRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    const throttle = new Throttle(INGEST_THROTTLE);
    deps.metrics.blockedSources.set('ingest', () => throttle.blocked());
    /** sha256(integration id, secret) → the integration's hash it was verified against (a secret changed in the directory is checked afresh). */
    const known = new Map<string, string>();
    /** The integration whose secret the request carries, or a coded refusal; a guess is counted before it is checked. */
    const authenticate = (req: Pick<FastifyRequest, 'headers' | 'ip' | 'log'> & { params: { integration: string }; query: { key?: string } }): IntegrationInfo => {
      const integration = deps.directory.integrations.get(req.params.integration);
      const inQuery = integration && integrationAdapters[integration.type].secretInQuery ? req.query.key : undefined;
      const secret = secretOf(req, integration?.header ?? 'authorization') ?? (inQuery || undefined);
      const key = createHash('sha256').update(req.params.integration).update('\0').update(secret ?? '').digest('base64');
      if (integration && secret !== undefined && known.get(key) === integration.secretHash) return integration;
      const wait = throttle.wait(req.ip);
      if (wait > 0) {
        deps.metrics.authThrottled.inc({ surface: 'ingest' });
        const seconds = Math.ceil(wait / 1000);
        throw Object.assign(new AppError('SB_TOO_MANY_ATTEMPTS', `too many wrong integration secrets from this address; try again in ${seconds} s`), {
          retryAfterSeconds: seconds,
        });
      }
      throttle.attempt(req.ip);
      const ok = verifySecret(secret ?? '', integration?.secretHash ?? DUMMY_HASH);
      if (!integration || secret === undefined || !ok) {
        deps.metrics.authFailures.inc({ reason: 'ingest_secret' });
        throw new AppError('SB_UNAUTHORIZED', 'unknown integration or wrong secret');
      }
      throttle.succeed(req.ip, 'undo');
      if (known.size > 1000) known.clear();
      known.set(key, integration.secretHash);
      return integration;
    };
    // The body is kept as the bytes that came (they go to the inbox and the decoder as they are), whatever its type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_req, body, done) => done(null, body));

    app.withTypeProvider<SchemaTypes>().post(
      '/ingest/:integration',
      {
        config: { public: true },
        schema: {
          tags: ['ingest'],
          summary: 'A device message from an HTTP integration (The Things Stack v3 webhook, a Hikvision camera push)',
          description:
            "The integration's secret goes in its configured header (default `Authorization: Bearer <secret>`). The body is " +
            'the sender\'s own message, e.g. a The Things Stack v3 uplink message; it is stored in the inbox and answered 202, ' +
            'then decoded by the device\'s format like an MQTT payload (a failure is kept in /api/rejections). Integration types: ' +
            Object.values(integrationAdapters)
              .map((a) => `\`${a.type}\`: ${a.description}`)
              .join('; '),
          security: [{ integrationSecret: [] }],
          params: { type: 'object', required: ['integration'], properties: { integration: { type: 'string', maxLength: 64 } } },
          querystring: {
            type: 'object',
            properties: {
              device: { type: 'string', maxLength: 64, description: 'hikvision-isapi: the camera this URL is set on (its device id)' },
              key: { type: 'string', maxLength: 256, description: 'hikvision-isapi only: the integration secret, for cameras that cannot send a header' },
            },
          },
          response: {
            202: {
              description: 'stored in the inbox; processed next',
              type: 'object',
              required: ['status', 'deviceId'],
              properties: { status: { const: 'accepted' }, deviceId: { type: 'string' } },
            },
            200: {
              description: 'not device data (e.g. a join-accept): nothing stored, nothing to retry',
              type: 'object',
              required: ['status', 'reason'],
              properties: { status: { const: 'ignored' }, reason: { type: 'string' } },
            },
            '4xx': errorSchema,
            503: errorSchema,
          },
        },
      },
      async (req, reply) => {
        const integration = authenticate(req);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const seen = integrationAdapters[integration.type].identify(body, { device: req.query.device });
        if (seen.kind === 'invalid') throw new AppError('SB_BAD_REQUEST', seen.reason);
        if (seen.kind === 'ignored') return reply.code(200).send({ status: 'ignored', reason: seen.reason });
        const device = deviceOf(deps, integration, seen.ref);
        if (!device) {
          req.log.warn({ integration: integration.id, devEui: seen.ref.devEui, deviceId: seen.ref.deviceId }, 'ingest: no such device in the integration\'s community');
          const named = [seen.ref.deviceId && `device_id '${seen.ref.deviceId}'`, seen.ref.devEui && `DevEUI ${seen.ref.devEui}`].filter(Boolean).join(' or ');
          // Kept, like any payload refused (a sensor added to the network server but not to us shows up here).
          ingest.rejectUnknown(integration.communityId, `/ingest/${integration.id}`, body, `no device of this integration's community matches ${named}`);
          throw new AppError('SB_UNKNOWN_DEVICE', `no device of this integration's community matches ${named}`);
        }
        // QoS 1: `done` runs once the message is committed to the inbox (or failed to be).
        await new Promise<void>((resolve, reject) =>
          ingest.submit(device, `/ingest/${integration.id}`, body, 1, (err) =>
            err ? reject(new AppError('SB_UNAVAILABLE', 'the message could not be stored; send it again')) : resolve(),
          ),
        );
        return reply.code(202).send({ status: 'accepted', deviceId: device.id });
      },
    );
  };
}
