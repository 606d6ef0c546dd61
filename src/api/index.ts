// The HTTP side: one Fastify plugin per area, coded errors (never a stack trace), OpenAPI at /docs.
// Building the server is separate from listening, so tests use `inject` or port 0.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyError, type FastifyBaseLogger } from 'fastify';
import swagger from '@fastify/swagger';
import type { SecureContextOptions } from 'node:tls';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Directory } from '../config/inventory.js';
import type { DeviceStates } from '../state/deviceState.js';
import type { DevicesRepo } from '../store/store.js';
import type { DeviceKindDef } from '../ingest/types.js';
import type { Clock } from '../clock/clock.js';
import type { Metrics } from '../metrics.js';
import { AppError, toAppError } from '../errors.js';
import { plainJsonProblem } from '../ingest/validate.js';
import { Authenticator } from './auth.js';
import devicesApi from './devices.js';
import rejectionsApi from './rejections.js';
import telemetryApi from './telemetry.js';
import type { TelemetrySink } from '../telemetry/sink.js';
import { rulesPlugins, type RulesApiDeps } from './rulesApi.js';
import { Sessions, sessionApi } from './session.js';
import peopleApi from './people.js';
import webApi from './web.js';
import type { DeviceStatusBoard } from '../state/deviceStatus.js';

export interface ApiDeps {
  store: Store;
  directory: Directory;
  states: DeviceStates;
  devicesRepo: DevicesRepo;
  kinds: readonly DeviceKindDef[];
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  adminToken?: string;
  /** The data dir: console sessions keep their signing key there (session.key); absent = a per-process key. */
  dataDir?: string;
  /** History for GET /api/devices/{id}/telemetry; absent = none kept. */
  telemetry?: Pick<TelemetrySink, 'name' | 'query'>;
  /** The rule engine: alerts, parking, visitors, the live stream and the replay clock; absent = those routes are off. */
  rules?: RulesApiDeps;
  /** Device statuses (src/state/deviceStatus.ts), shared with the digest; absent = built from the above. */
  deviceStatus?: DeviceStatusBoard;
  /** true when the broker, the store and the scheduler are up. */
  health(): Record<string, boolean>;
  /** Messages received and not yet processed; `stuck` makes /healthz say degraded. */
  backlog?(): { depth: number; oldestSeconds: number; stuck: boolean };
  /** Serve HTTPS with this certificate and key (settings http.tls); the server's setSecureContext reloads it. */
  https?: SecureContextOptions & { handshakeTimeout?: number };
}

export interface RegisteredRoute {
  method: string;
  url: string;
  isPublic: boolean;
  /** The route's validation schema (params, querystring, body), for the hostile-input walk. */
  schema?: { params?: unknown; querystring?: unknown; body?: unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered (method and URL pattern), in registration order. */
    registeredRoutes: readonly RegisteredRoute[];
  }
}

/** An API area: registered after authentication is in place. */
export type ApiPlugin = (app: FastifyInstance, deps: ApiDeps) => Promise<void>;

export async function buildApi(deps: ApiDeps, extra: ApiPlugin[] = []): Promise<FastifyInstance> {
  // With `https` the server is an https.Server; its type is left as http.Server's (the API is the same here).
  const app = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    // One-tap acknowledge links carry a signed token of ~160 characters in the path (/ack/:token).
    routerOptions: { maxParamLength: 512 },
    loggerInstance: deps.log.child({ component: 'api' }) as unknown as FastifyBaseLogger,
    // Requests are not logged one by one (the console polls); errors are, by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors the router raises before any route runs (a malformed URL, an over-long parameter): coded like the rest.
    frameworkErrors: (err, _req, reply) => {
      const e = toAppError(err);
      void (reply as FastifyReply).code(e.statusCode).send(e.toJSON());
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  });
  // Every route registered, for the role × route walk (tests/integration/scope-walk.test.ts): a new route
  // that the walk does not know fails it.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method: String(method), url: r.url, isPublic: r.config?.public === true, schema: r.schema as RegisteredRoute['schema'] });
  });
  app.decorate('registeredRoutes', routes);

  // Every answer carries an SB_* code (src/errors.ts); Fastify's own FST_ERR_* codes never reach a caller.
  // tests/integration/route-fuzz.test.ts walks every route above with hostile values: none may get a 5xx.
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const e = toAppError(err);
    // A throttle's refusal says when to come back (RFC 9110 §10.2.3).
    const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    // The matched route, not the URL: a one-tap ack link's token is a capability and must not reach the log.
    if (e.statusCode >= 500) req.log.error({ err, route: req.routeOptions.url }, 'request failed');
    return reply.code(e.statusCode).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError('SB_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(e.statusCode).send(e.toJSON());
  });
  // A JSON content type with an empty body is no body (curl -H 'content-type: application/json' -X POST …):
  // routes whose body is optional accept it; the others answer SB_VALIDATION like for any missing field.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    (body as string).length === 0 ? done(null, undefined) : json(req, body as string, done),
  );
  // No body at all is an empty object: `POST /api/alerts/1/ack` needs none (README), and a route that does
  // need fields names the missing one instead of "body must be object".
  // A reply says what was done only once it is committed: with a store that commits asynchronously
  // (PostgreSQL) wait for the request's units; if the server refused them, 503 instead of the answer. SQLite has
  // committed already (durable() is undefined: no promise per request). /healthz and /metrics write nothing and
  // must say how things are even then.
  const unwritten = new Set(['/healthz', '/metrics']);
  app.addHook('onSend', (req, _reply, payload, done) => {
    const durable = unwritten.has(req.routeOptions.url ?? '') ? undefined : deps.store.durable();
    if (!durable) return done(null, payload);
    durable.then(
      () => done(null, payload),
      () => done(new AppError('SB_UNAVAILABLE', 'the store did not commit this change; try again')),
    );
  });
  app.addHook('preValidation', async (req) => {
    if (req.body == null && req.routeOptions.schema?.body) req.body = {};
  });

  // After validation (which coerces query text to numbers): no non-finite number, and no absurd nesting, reaches
  // a handler from any part of the request. `?limit=1e309` coerces to Infinity and ajv lets it through an
  // integer's maximum; a JSON body's 1e309 parses to Infinity. Either is the caller's mistake: a coded 400.
  app.addHook('preHandler', async (req) => {
    for (const [part, value] of [['querystring', req.query], ['params', req.params], ['body', req.body]] as const) {
      if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) {
        if (typeof value === 'number' && !Number.isFinite(value)) throw new AppError('SB_VALIDATION', `${part}: ${value} is not a finite number`);
        continue;
      }
      const problem = plainJsonProblem(value);
      if (problem) throw new AppError('SB_VALIDATION', `${part}${problem}`);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'shaobing 哨兵 API', version: '0.1.0', description: 'Community sensor sentinel: devices, alerts, parking, care.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // POST /ingest/{integration}: the integration's own secret (in the header it is configured with).
          integrationSecret: { type: 'http', scheme: 'bearer' },
          // POST /hooks/emqx/*: the shared secret EMQX sends (settings.brokerHooks.header, this by default).
          brokerHookSecret: { type: 'apiKey', in: 'header', name: 'x-shaobing-hook-secret' },
          // /api/resident/*: a household's invite token (sbi1.…, src/residents/invites.ts).
          residentInvite: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const sessions = new Sessions({ directory: deps.directory, dataDir: deps.dataDir });
  const auth = new Authenticator(deps.directory, deps.adminToken, sessions, deps.metrics);
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (req) => {
    // Judge both the route that matched (the router decodes /%61pi/… to /api/…) and the raw URL (an unknown
    // /api path is 401, not 404: no probing for which routes exist).
    const isApi = (u: string) => u === '/api' || u.startsWith('/api/') || u.startsWith('/api?');
    if ((isApi(req.routeOptions.url ?? '') || isApi(req.url)) && !req.routeOptions.config?.public) req.principal = auth.authenticate(req);
  });

  // 200 `ok`; 503 `unavailable` when a unit is down; 503 `degraded` when every unit is up but messages wait
  // unprocessed longer than settings.ingest.stuckAfterSeconds (smoke alarms may be among them: whatever
  // watches this endpoint must treat it as an outage, not as a warning).
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const parts = deps.health();
    const backlog = deps.backlog?.();
    const up = Object.values(parts).every(Boolean);
    const status = !up ? 'unavailable' : backlog?.stuck ? 'degraded' : 'ok';
    const inbox = backlog && { depth: backlog.depth, oldestSeconds: Math.round(backlog.oldestSeconds * 1000) / 1000 };
    return reply.code(status === 'ok' ? 200 : 503).send({ status, ...parts, ...(inbox ? { inbox } : {}) });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );

  for (const plugin of [devicesApi, rejectionsApi, telemetryApi, sessionApi(sessions), peopleApi, webApi, ...(deps.rules ? rulesPlugins(deps.rules) : []), ...extra]) await app.register(async (scope) => plugin(scope, deps));
  return app;
}
