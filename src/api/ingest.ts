// Device messages over HTTP: `POST /ingest/{integration}`, for senders that cannot speak MQTT as the device —
// a LoRaWAN network server's webhook (The Things Stack v3) now, camera pushes later. Each integration is one
// community's (inventory `integrations:`), authenticates with its own secret (stored hashed, like device
// secrets), and says by its type how a body names its device (src/ingest/integrations/). The body then takes
// the MQTT path unchanged: Ingest.submit as a QoS 1 message, answered 202 only once it is in the inbox (the
// sender retries anything else), then decoded, validated, kept as a rejection if it fails, run through the rules.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from './index.js';
import type { DeviceInfo, IntegrationInfo } from '../config/inventory.js';
import type { Ingest } from '../ingest/pipeline.js';
import { integrationAdapters, type DeviceRef } from '../ingest/integrations/index.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';
import { errorSchema } from './schemas.js';

export interface IngestApiSettings {
  /** Largest body taken in; a body above the device's payload limit is still stored, as a payload_too_large rejection. */
  bodyLimit: number;
}

/** The secret a request carries in the integration's header: `Bearer <secret>`, Basic (its password), or the value itself. */
export function secretOf(req: FastifyRequest, header: string): string | undefined {
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

export function ingestApi(ingest: Pick<Ingest, 'submit'>, settings: IngestApiSettings) {
  return async function ingestRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    // The body is kept as the bytes that came (they go to the inbox and the decoder as they are), whatever its type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_req, body, done) => done(null, body));

    app.post<{ Params: { integration: string }; Body: Buffer }>(
      '/ingest/:integration',
      {
        config: { public: true },
        schema: {
          tags: ['ingest'],
          summary: 'A device message from an HTTP integration (The Things Stack v3 webhook)',
          description:
            "The integration's secret goes in its configured header (default `Authorization: Bearer <secret>`). The body is " +
            'the sender\'s own message, e.g. a The Things Stack v3 uplink message; it is stored in the inbox and answered 202, ' +
            'then decoded by the device\'s format like an MQTT payload (a failure is kept in /api/rejections). Integration types: ' +
            Object.values(integrationAdapters)
              .map((a) => `\`${a.type}\`: ${a.description}`)
              .join('; '),
          security: [{ integrationSecret: [] }],
          params: { type: 'object', required: ['integration'], properties: { integration: { type: 'string', maxLength: 64 } } },
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
        const integration = deps.directory.integrations.get(req.params.integration);
        const secret = secretOf(req, integration?.header ?? 'authorization');
        const known = verifySecret(secret ?? '', integration?.secretHash ?? DUMMY_HASH);
        if (!integration || secret === undefined || !known) {
          deps.metrics.authFailures.inc({ reason: 'ingest_secret' });
          throw new AppError('SB_UNAUTHORIZED', 'unknown integration or wrong secret', 401);
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const seen = integrationAdapters[integration.type].identify(body);
        if (seen.kind === 'invalid') throw new AppError('SB_BAD_REQUEST', seen.reason, 400);
        if (seen.kind === 'ignored') return reply.code(200).send({ status: 'ignored', reason: seen.reason });
        const device = deviceOf(deps, integration, seen.ref);
        if (!device) {
          req.log.warn({ integration: integration.id, devEui: seen.ref.devEui, deviceId: seen.ref.deviceId }, 'ingest: no such device in the integration\'s community');
          const named = [seen.ref.deviceId && `device_id '${seen.ref.deviceId}'`, seen.ref.devEui && `DevEUI ${seen.ref.devEui}`].filter(Boolean).join(' or ');
          throw new AppError('SB_UNKNOWN_DEVICE', `no device of this integration's community matches ${named}`, 404);
        }
        // QoS 1: `done` runs once the message is committed to the inbox (or failed to be).
        await new Promise<void>((resolve, reject) =>
          ingest.submit(device, `/ingest/${integration.id}`, body, 1, (err) =>
            err ? reject(new AppError('SB_UNAVAILABLE', 'the message could not be stored; send it again', 503)) : resolve(),
          ),
        );
        return reply.code(202).send({ status: 'accepted', deviceId: device.id });
      },
    );
  };
}
