// EMQX 5 HTTP authentication and authorization hooks: with device traffic on an external EMQX 5 cluster, EMQX
// asks shaobing who may connect (`POST /hooks/emqx/authn`) and what a client may publish or subscribe to
// (`POST /hooks/emqx/authz`), and shaobing answers with the very rules of its embedded broker
// (src/broker/access.ts) and its MQTT throttles (src/broker/authGuard.ts). README "Running on EMQX" has the
// EMQX configuration (request body templates below).
//
// What EMQX 5 expects (docs: access-control/authn/http, access-control/authz/http): HTTP 200 with a JSON body
// `{"result": "allow" | "deny" | "ignore", "is_superuser": false}` for authentication and `{"result": "allow" |
// "deny"}` for authorization; any 4xx/5xx is taken as `ignore` (the next source in the chain decides, and with
// none the client is refused). Placeholders are rendered into the JSON template as strings, so `qos` arrives
// as "1" and `retain` as "false".
//
// Fast: every check is an in-memory map lookup and at most one SHA-256; the store is asked only for a username
// the directory does not know (a device provisioned by the CLI while we run), and that answer — found or not —
// is kept `cacheTtlMs`. A device provisioned through the API is in the directory at once; one removed from it is
// refused at once (nothing positive is cached). A failed CONNECT is counted by the same throttles as on the
// embedded broker (by username and the device's address, `peerhost`), and refused outright while one of them
// holds; it is answered at once rather than held back, since EMQX pipelines hook requests on a few
// connections and a held answer would stall the devices queued behind it.
//
// Devices' connects and disconnects (`POST /hooks/emqx/events`, src/transport/connectionEvents.ts): the events
// an EMQX rule's HTTP action sends, handed to `connections` (the app applies them to the device's state, or in a
// cluster passes them to the community's owner).
//
// The hooks themselves are protected by a shared secret in a header (settings.brokerHooks); a caller without it
// is answered 401, and an address that keeps sending wrong ones is throttled like wrong bearer tokens (429).
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import type { DeviceInfo } from '../config/inventory.js';
import { verifySecret } from '../broker/secrets.js';
import { checkCredentials, findDevice, mayPublish, maySubscribe, OPERATOR_USERNAME, SERVICE_USERNAME, type Principal } from '../broker/access.js';
import type { MqttAuthGuard } from '../broker/authGuard.js';
import { AppError } from '../errors.js';
import { Throttle } from '../throttle.js';
import { TOKEN_THROTTLE } from './auth.js';
import { errorSchema } from './schemas.js';
import type { ConnectionEvent } from '../transport/connectionEvents.js';

export interface BrokerHookSettings {
  secretHash: string;
  header: string;
  serviceSecretHash?: string;
  cacheTtlMs: number;
}

/** The request body templates to configure in EMQX (README "Running on EMQX"). */
export const EMQX_AUTHN_BODY = { clientid: '${clientid}', username: '${username}', password: '${password}', peerhost: '${peerhost}' };
export const EMQX_AUTHZ_BODY = {
  clientid: '${clientid}',
  username: '${username}',
  peerhost: '${peerhost}',
  action: '${action}',
  topic: '${topic}',
  qos: '${qos}',
  retain: '${retain}',
};

const authnResponse = {
  type: 'object',
  required: ['result', 'is_superuser'],
  properties: { result: { enum: ['allow', 'deny', 'ignore'] }, is_superuser: { type: 'boolean' } },
} as const;
const authzResponse = { type: 'object', required: ['result'], properties: { result: { enum: ['allow', 'deny'] } } } as const;
const str = { type: 'string', maxLength: 1024 } as const;

/** Usernames looked up in the store and not found, kept for a while so a flood of unknown names costs no query. */
class MissCache {
  private readonly misses = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  fresh(username: string, now: number): boolean {
    const at = this.misses.get(username);
    if (at === undefined) return false;
    if (now - at < this.ttlMs) return true;
    this.misses.delete(username);
    return false;
  }

  add(username: string, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.misses.size >= this.max) this.misses.delete(this.misses.keys().next().value as string);
    this.misses.set(username, now);
  }
}

/** The EMQX rule that sends devices' connects and disconnects to POST /hooks/emqx/events (README "Running on EMQX"). */
export const EMQX_EVENTS_RULE = 'SELECT * FROM "$events/client_connected", "$events/client_disconnected"';

export function brokerHooksApi(
  settings: BrokerHookSettings,
  guard: MqttAuthGuard,
  opts: { now?: () => number; connections?: (e: ConnectionEvent) => boolean } = {},
) {
  const now = opts.now ?? Date.now;
  return async function brokerHookRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    const { directory, devicesRepo: repo, metrics, adminToken } = deps;
    const access = { directory, repo, adminToken, serviceSecretHash: settings.serviceSecretHash };
    const misses = new MissCache(settings.cacheTtlMs);
    const callers = new Throttle(TOKEN_THROTTLE, opts);
    metrics.blockedSources.set('broker_hook', () => callers.blocked());
    const log = deps.log.child({ component: 'broker-hooks' });

    /** The device a username names: the directory first (always current), then the store unless it said no lately. */
    const deviceOf = (username: string): DeviceInfo | undefined => {
      const known = directory.devices.get(username);
      if (known) return known;
      const t = now();
      if (misses.fresh(username, t)) return undefined;
      const found = findDevice(access, username);
      if (!found) misses.add(username, t);
      return found;
    };

    // Every hook call carries the shared secret. The right one always passes (one SHA-256): a neighbour guessing
    // from the EMQX node's address must not lock EMQX out. Wrong ones are counted per address and, past the
    // token throttle's allowance, answered 429 until the wait is over.
    app.addHook('onRequest', async (req) => {
      const raw = req.headers[settings.header];
      const given = Array.isArray(raw) ? raw[0] : raw;
      if (given !== undefined && verifySecret(given, settings.secretHash)) return;
      const wait = callers.wait(req.ip);
      if (wait > 0) {
        metrics.authThrottled.inc({ surface: 'broker_hook' });
        throw Object.assign(new AppError('SB_TOO_MANY_ATTEMPTS'), { retryAfterSeconds: Math.ceil(wait / 1000) });
      }
      callers.attempt(req.ip);
      metrics.authFailures.inc({ reason: 'hook_secret' });
      throw new AppError('SB_UNAUTHORIZED', `the broker hook secret is missing or wrong (header ${settings.header})`);
    });

    const hookSecurity = [{ brokerHookSecret: [] }];

    app.withTypeProvider<SchemaTypes>().post(
      '/hooks/emqx/authn',
      {
        config: { public: true },
        schema: {
          tags: ['broker'],
          summary: 'EMQX 5 HTTP authentication hook: may this client connect?',
          description:
            'Called by EMQX 5 for every CONNECT (authentication source `http`, method POST, body template ' +
            `\`${JSON.stringify(EMQX_AUTHN_BODY)}\`). Devices log in with their id as username and client id and their ` +
            'secret as password; `shaobing-operator` with the admin token (read-only); `shaobing-service` with the service ' +
            'secret (the shaobing instances). Answers 200 with `result` allow or deny and `is_superuser` false; failed ' +
            'CONNECTs are throttled per username and `peerhost` as on the embedded broker.',
          security: hookSecurity,
          body: {
            type: 'object',
            required: ['clientid', 'username', 'password', 'peerhost'],
            properties: { clientid: str, username: str, password: str, peerhost: str },
          },
          response: { 200: authnResponse, 401: errorSchema, 429: errorSchema, 400: errorSchema, 503: errorSchema },
        },
      },
      async (req) => {
        const { clientid, username, password, peerhost } = req.body;
        const deny = { result: 'deny', is_superuser: false } as const;
        if (guard.refuse(username, peerhost)) return deny;
        let verdict;
        try {
          const special = username === OPERATOR_USERNAME || username === SERVICE_USERNAME;
          const device = special ? undefined : deviceOf(username);
          verdict = special || device ? checkCredentials(access, username, password, clientid, device) : undefined;
        } catch (err) {
          log.error({ err, clientId: clientid }, 'device lookup failed during a hook authentication');
          throw new AppError('SB_UNAVAILABLE', 'the device store did not answer');
        }
        if (!verdict?.ok) {
          guard.failed(username, peerhost);
          metrics.authFailures.inc({ reason: verdict?.reason ?? 'bad_credentials' });
          if (username !== OPERATOR_USERNAME) log.warn({ clientId: clientid, username }, 'broker hook: connect refused');
          return deny;
        }
        guard.succeeded(username, peerhost, 'device' in verdict.who);
        return { result: 'allow', is_superuser: false } as const;
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/hooks/emqx/authz',
      {
        config: { public: true },
        schema: {
          tags: ['broker'],
          summary: 'EMQX 5 HTTP authorization hook: may this client publish or subscribe to this topic?',
          description:
            'Called by EMQX 5 for a PUBLISH or SUBSCRIBE of a client it authenticated (authorization source `http`, ' +
            `method POST, body template \`${JSON.stringify(EMQX_AUTHZ_BODY)}\`). The embedded broker's ACL: a device publishes ` +
            'only to iot/<community>/<id>/up and subscribes to its own …/down and …/errors; the operator subscribes to iot/… ' +
            'or #; the service takes uplinks (also as `$share/<group>/iot/<community>/+/up`) and publishes …/down and …/errors.',
          security: hookSecurity,
          body: {
            type: 'object',
            required: ['clientid', 'username', 'action', 'topic'],
            properties: {
              clientid: str,
              username: str,
              peerhost: str,
              action: str,
              topic: str,
              qos: { anyOf: [{ type: 'string', maxLength: 1 }, { type: 'integer', minimum: 0, maximum: 2 }] },
              retain: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'boolean' }] },
            },
          },
          response: { 200: authzResponse, 401: errorSchema, 429: errorSchema, 400: errorSchema, 503: errorSchema },
        },
      },
      async (req) => {
        const { clientid, username, action, topic } = req.body;
        let who: Principal | undefined;
        if (username === OPERATOR_USERNAME) who = { operator: true };
        else if (username === SERVICE_USERNAME) who = settings.serviceSecretHash ? { service: true } : undefined;
        else {
          let device: DeviceInfo | undefined;
          try {
            device = deviceOf(username);
          } catch (err) {
            log.error({ err, clientId: clientid }, 'device lookup failed during a hook authorization');
            throw new AppError('SB_UNAVAILABLE', 'the device store did not answer');
          }
          who = device && device.id === clientid ? { device } : undefined;
        }
        const allowed =
          who !== undefined && (action === 'publish' ? mayPublish(who, topic) : action === 'subscribe' ? maySubscribe(who, topic) : false);
        if (!allowed) {
          metrics.authFailures.inc({ reason: action === 'subscribe' ? 'subscribe_denied' : 'publish_denied' });
          log.warn({ clientId: clientid, action, topic }, 'broker hook: refused');
          return { result: 'deny' } as const;
        }
        return { result: 'allow' } as const;
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/hooks/emqx/events',
      {
        config: { public: true },
        schema: {
          tags: ['broker'],
          summary: "EMQX 5 client events: a device's MQTT connection came up or went down",
          description:
            `Called by an EMQX 5 rule's HTTP action (rule \`${EMQX_EVENTS_RULE}\`, method POST, the default body: the ` +
            'event as JSON). `client.connected` marks the device connected, `client.disconnected` disconnected; an event ' +
            'older than the latest connection seen (`connected_at`) is ignored, since events from several EMQX nodes can ' +
            'arrive out of order (answered `applied: false`, as are clients that are no device: the shaobing instances, the ' +
            "operator). In a cluster the event is passed to the instance that owns the device's community. Answers 200.",
          security: hookSecurity,
          body: {
            type: 'object',
            required: ['event', 'clientid', 'connected_at'],
            properties: {
              event: { enum: ['client.connected', 'client.disconnected'] },
              clientid: str,
              username: { anyOf: [str, { type: 'null' }] },
              connected_at: { type: 'integer', minimum: 0 },
              disconnected_at: { type: 'integer', minimum: 0 },
              reason: { anyOf: [str, { type: 'object' }] },
              node: str,
            },
          },
          response: {
            200: { type: 'object', required: ['applied'], properties: { applied: { type: 'boolean' } } },
            401: errorSchema,
            429: errorSchema,
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const { event, clientid, username, connected_at: connectedAt } = req.body;
        // A device logs in with its id as username and client id (src/broker/access.ts).
        const device = username === clientid ? directory.devices.get(clientid) : undefined;
        if (!device || !opts.connections) return { applied: false };
        return { applied: opts.connections({ deviceId: device.id, connected: event === 'client.connected', connectedAt }) };
      },
    );
  };
}
