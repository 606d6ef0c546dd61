// JSON Schemas for the settings file and the community inventory. The TypeScript types are derived from
// them (json-schema-to-ts), so the schema and the code cannot drift apart.
import type { FromSchema } from 'json-schema-to-ts';
import { phoneSchema } from '../notify/phone/schema.js';
import { ALERT_KINDS } from '../alerts/types.js';
import { deviceKinds } from '../../devices/index.js';

const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' } as const;
const hhmm = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;
/** Keys that name an alert kind: a typo (`smok:`) is an error, not a setting silently never read. */
const alertKindNames = { title: 'alert kind', enum: ALERT_KINDS } as const;

export const ROLES = [
  'property_duty', // 物业值班
  'grid_head', // 微网格长
  'grid_member', // 微网格员
  'special_care', // 特殊关怀员
  'emergency', // 应急处置员
  'volunteer', // 志愿者
  'residents_committee', // 居委
  'owners_committee', // 业委会
  'admin', // operator: sees every grid, provisions devices
] as const;

/** The registered device kinds (devices/<kind>/): a kind's folder is all it takes to be known here. */
export const DEVICE_KINDS: readonly string[] = deviceKinds.map((k) => k.kind);
export const ZONES = ['resident', 'visitor', 'no_parking', 'fire_lane'] as const;
/** Senders that post device messages over HTTP (src/ingest/integrations/): tts-v3 = The Things Stack v3 webhooks,
 *  hikvision-isapi = Hikvision cameras' HTTP listening pushes. */
export const INTEGRATION_TYPES = ['tts-v3', 'hikvision-isapi'] as const;

export const settingsSchema = {
  $id: 'shaobing/settings',
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', minLength: 1, default: './data' },
    clock: { enum: ['wall', 'event'], default: 'wall' },
    /** Inventory files (YAML), relative to the settings file. */
    communities: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    adminToken: { type: 'string', minLength: 16 },
    /** Production refuses the public sample secrets (src/config/samples.ts); unset = NODE_ENV=production. */
    production: { type: 'boolean' },
    /** A demo: production may run with the public sample secrets (SHAOBING_DEMO=1). */
    demo: { type: 'boolean', default: false },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 1883 },
        /** MQTT over TLS (8883 by convention) with `tls.cert` / `tls.key`; null = none. */
        tlsPort: { type: ['integer', 'null'], minimum: 0, maximum: 65535, default: null },
        /** Own port for MQTT over WebSocket; null serves it on the HTTP port at /mqtt only. */
        wsPort: { type: ['integer', 'null'], minimum: 0, maximum: 65535, default: null },
        maxPayloadBytes: { type: 'integer', minimum: 64, maximum: 1048576, default: 65536 },
        /** The broker (sockets, MQTT parsing, auth, ACL) on a thread of its own, ingest on the main thread (src/transport/brokerThread.ts). */
        thread: { type: 'boolean', default: false },
        // Fair reads (src/broker/connectionGuard.ts): bytes parsed per event-loop turn by busy connections
        // together (0 turns fairness off) and per connection, so one flood cannot hold back a smoke alarm.
        fairReads: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            turnBytes: { type: 'integer', minimum: 0, maximum: 16777216, default: 65536 },
            socketBytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 16384 },
          },
        },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        /** HTTPS (and WSS at /mqtt) instead of HTTP on `port`, with `tls.cert` / `tls.key`. */
        tls: { type: 'boolean', default: false },
        /** Public base URL used in links sent to phones (one-tap acknowledge). */
        publicUrl: { type: 'string', default: 'http://localhost:8080' },
      },
    },
    /**
     * The certificate (PEM, leaf first, then intermediates) and its private key (PEM), relative to the settings
     * file; read at start and again on SIGHUP. Needed when mqtt.tlsPort or http.tls is set.
     */
    tls: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        cert: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
        /** A client that has not finished its TLS handshake by then is dropped. */
        handshakeTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 120, default: 10 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        /** auto: readable when stdout is a terminal, JSON otherwise. */
        format: { enum: ['auto', 'json', 'pretty'], default: 'auto' },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** SQLite `synchronous` in WAL mode: full survives power loss, normal survives a process crash. */
        synchronous: { enum: ['full', 'normal'], default: 'full' },
        rejectionsMax: { type: 'integer', minimum: 100, default: 10000 },
        /**
         * The store in this PostgreSQL database instead of SQLite in dataDir (src/store/pg/; docs/cluster.md). One
         * instance per database for now: not with `cluster`, nor with `mqtt.thread` (its broker thread reads devices
         * from the SQLite file).
         */
        postgresUrl: { type: 'string', pattern: '^postgres(ql)?://' },
      },
    },
    ingest: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Most messages handled in one transaction (group commit). */
        batchMax: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
        // A message waiting longer than this makes /healthz say `degraded` (503) and the log say so.
        stuckAfterSeconds: { type: 'number', minimum: 1, maximum: 86400, default: 30 },
      },
    },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        sink: { enum: ['sqlite', 'influx', 'none'], default: 'sqlite' },
        retentionDays: { type: 'integer', minimum: 1, default: 90 },
        /** InfluxDB 2 (sink: influx); see docs/telemetry.md. */
        influx: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            url: { type: 'string', pattern: '^https?://' },
            org: { type: 'string', minLength: 1 },
            bucket: { type: 'string', minLength: 1 },
            token: { type: 'string', minLength: 1 },
            /** Points per write request; the InfluxDB docs suggest batches of about 5000 lines. */
            batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 5000 },
            flushIntervalMs: { type: 'integer', minimum: 10, default: 1000 },
            /** Disk kept for points while the server is away; past it new points are dropped (and counted). */
            spoolMaxBytes: { type: 'integer', minimum: 65536, default: 268435456 },
            timeoutMs: { type: 'integer', minimum: 100, default: 10000 },
            /** Retry delay after a failed write: doubles from min to max. */
            retryMinMs: { type: 'integer', minimum: 10, default: 1000 },
            retryMaxMs: { type: 'integer', minimum: 10, default: 30000 },
          },
        },
      },
      // The server's address and credentials are needed only when InfluxDB is the sink.
      if: { required: ['sink'], properties: { sink: { const: 'influx' } } },
      then: { type: 'object', properties: { influx: { type: 'object', required: ['url', 'org', 'bucket', 'token'] } } },
    },
    /**
     * Device traffic through an external MQTT 5 broker as well (README "Running on EMQX"): shaobing resumes one
     * persistent session per community (`<clientIdPrefix><communityId>`) and takes iot/<community>/+/up.
     */
    externalBroker: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'password'],
      properties: {
        url: { type: 'string', pattern: '^mqtts?://' },
        username: { type: 'string', minLength: 1, default: 'shaobing-service' },
        password: { type: 'string', minLength: 1 },
        clientIdPrefix: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,32}$', default: 'shaobing-c-' },
        /** How long the broker keeps a community's session (and queues its messages) while no instance holds it. */
        sessionExpirySeconds: { type: 'integer', minimum: 60, maximum: 4294967295, default: 604800 },
      },
    },
    /**
     * Several instances sharing the communities of an external broker (needs externalBroker): each community's
     * traffic is taken by the instance holding its lease in this PostgreSQL database (src/cluster/ownership.ts).
     */
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['postgresUrl'],
      properties: {
        postgresUrl: { type: 'string', pattern: '^postgres(ql)?://' },
        /** A dead owner's communities are taken over within leaseTtlMs + renewMs. */
        leaseTtlMs: { type: 'integer', minimum: 1000, maximum: 300000, default: 10000 },
        renewMs: { type: 'integer', minimum: 100, maximum: 60000, default: 2000 },
      },
    },
    /**
     * EMQX 5 HTTP authentication and authorization hooks (README "Running on EMQX"): absent = no hook routes.
     * The secrets are stored hashed (npm run provision -- --secret), like integration secrets.
     */
    brokerHooks: {
      type: 'object',
      additionalProperties: false,
      required: ['secretHash'],
      properties: {
        /** Hash of the shared secret EMQX sends in `header` with every hook call. */
        secretHash: { type: 'string', pattern: '^sha256\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
        /** The request header carrying it (lower case). */
        header: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$', default: 'x-shaobing-hook-secret' },
        /** Hash of the password the shaobing instances log in to the broker with as `shaobing-service`; absent = no such login. */
        serviceSecretHash: { type: 'string', pattern: '^sha256\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
        /** How long a looked-up device (or the absence of one) is kept before the store is asked again. */
        cacheTtlMs: { type: 'integer', minimum: 0, maximum: 600000, default: 5000 },
      },
    },
    /** Rule settings by rule key (docs/rules.md); open here, checked against each rule's own schema at load (src/rules/lib/config.ts). */
    rules: { type: 'object', default: {} },
    /** Notification channels and routing (docs/notify.md); cross-references checked at load (src/notify/check.ts). */
    notify: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Local time of the communities, minutes east of UTC (China: 480, no daylight saving). */
        utcOffsetMinutes: { type: 'integer', minimum: -720, maximum: 840, default: 480 },
        /** How long a one-tap acknowledge link in a message works. */
        ackLinkTtlMinutes: { type: 'integer', minimum: 1, default: 1440 },
        /** Group robots and webhooks. People name theirs in `channels.destinations`. */
        destinations: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'type', 'url'],
            properties: {
              id,
              type: { enum: ['wecom', 'dingtalk', 'feishu', 'webhook'] },
              url: { type: 'string', pattern: '^https?://' },
              /** DingTalk SEC… secret, Feishu signing secret, webhook HMAC key. */
              secret: { type: 'string', minLength: 1 },
              /** The street's operations centre: escalation steps with `streetOps: true` go here. */
              streetOps: { type: 'boolean', default: false },
              /**
               * Who is in the group this robot posts to: people matching every filter given (a community's
               * property-duty group = communities + roles). People may also name destinations themselves.
               */
              reaches: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  communities: { type: 'array', items: id },
                  grids: { type: 'array', items: id },
                  roles: { type: 'array', items: { enum: ROLES } },
                  people: { type: 'array', items: id },
                },
              },
            },
          },
        },
        /** Per alert kind: { roles, careContacts, digestOnly } over the defaults (docs/notify.md). */
        routes: {
          type: 'object',
          default: {},
          propertyNames: alertKindNames,
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: {
              roles: { type: 'array', items: { enum: ROLES } },
              careContacts: { type: 'boolean' },
              digestOnly: { type: 'boolean' },
            },
          },
        },
        /** Per alert kind: steps taken while nobody has acknowledged. Replaces the kind's default steps. */
        escalation: {
          type: 'object',
          default: {},
          propertyNames: alertKindNames,
          additionalProperties: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['afterMinutes'],
              properties: {
                afterMinutes: { type: 'number', exclusiveMinimum: 0 },
                roles: { type: 'array', items: { enum: ROLES }, default: [] },
                streetOps: { type: 'boolean', default: false },
              },
            },
          },
        },
        /** Repeat to the same people until acknowledged, a bounded number of times. */
        reminders: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            everyMinutes: { type: 'number', exclusiveMinimum: 0, default: 5 },
            max: { type: 'integer', minimum: 0, default: 3 },
            severities: { type: 'array', items: { enum: ['critical', 'major', 'minor', 'info'] }, default: ['critical', 'major'] },
          },
        },
        /** The committee's daily digest (src/jobs/dailyDigest.ts, docs/care.md). */
        digest: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            /** node-cron expression in the communities' local time (utcOffsetMinutes); default 08:00 daily. */
            cron: { type: 'string', minLength: 9, default: '0 8 * * *' },
          },
        },
        /** SMS and voice calls through Alibaba Cloud and Tencent Cloud (src/notify/phone, docs/notify.md). */
        phone: phoneSchema(ROLES),
      },
    },
  },
} as const;

const careContact = {
  type: 'object',
  additionalProperties: false,
  required: ['relation'],
  properties: {
    /** A person in `people` (a paired volunteer), or an outside contact given by phone only. */
    personId: id,
    relation: { enum: ['volunteer', 'family', 'neighbour', 'doctor'] },
    phone: { type: 'string', pattern: '^\\+?[0-9-]{5,20}$' },
    /** How a contact with a phone is reached when a phone step says `preferred` (docs/notify.md). */
    prefer: { enum: ['sms', 'call', 'both'], default: 'sms' },
    /** When the contact may be texted or called; non-critical alerts wait for these hours. */
    hours: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: hhmm, to: hhmm } },
  },
} as const;

const household = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'room'],
  properties: {
    id,
    room: { type: 'string', minLength: 1, maxLength: 16 },
    loneElder: { type: 'boolean', default: false },
    /** Minimal personal data: a display name such as 王阿婆 is enough for a volunteer. */
    displayName: { type: 'string', maxLength: 32 },
    careContacts: { type: 'array', items: careContact, default: [] },
    plates: { type: 'array', items: { type: 'string', minLength: 2, maxLength: 12 }, default: [] },
    /**
     * The household's own chat destinations (ids of settings notify.destinations: a family's group robot, a
     * webhook into the community's mini-program): told when one of its reports or requests is resolved.
     */
    destinations: { type: 'array', items: id, default: [] },
    /** Per-household rule overrides, same shape as settings.rules. */
    rules: { type: 'object' },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind'],
  properties: {
    id,
    kind: { type: 'string', title: 'device kind', enum: DEVICE_KINDS },
    format: { type: 'string', default: 'canonical' },
    /** `sha256$<salt>$<hash>` from `npm run provision` (see src/broker/secrets.ts). */
    secretHash: { type: 'string', pattern: '^sha256\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
    householdId: id,
    spaceId: id,
    gateId: id,
    /** Common area, e.g. 6号楼 楼道. */
    area: { type: 'string', maxLength: 64 },
    buildingId: id,
    heartbeatSeconds: { type: 'integer', minimum: 10 },
    /** LoRaWAN DevEUI, for an HTTP integration that names devices by it (The Things Stack end_device_ids.dev_eui). */
    devEui: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' },
  },
} as const;

/**
 * A lane of a barrier gate: which way cars go through it and which LPR cameras watch it. A camera's plates take
 * the lane's direction (LPR cameras do not know it: Vzenith documents its `channel` as reserved). A bare string
 * is a lane name only (older inventories), with no direction.
 */
const lane = {
  anyOf: [
    { type: 'string', maxLength: 64 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['direction'],
      properties: {
        /** Shown as the plate's `lane`, e.g. 东门入口. */
        name: { type: 'string', maxLength: 64 },
        direction: { enum: ['in', 'out'] },
        /** Smart-gate devices at this gate that watch this lane. Left out, a gate's only lane takes all its cameras. */
        cameras: { type: 'array', items: id },
      },
    },
  ],
} as const;

/** A sender of device messages over HTTP, `POST /ingest/{id}` (README "Device integrations over HTTP"). */
const integration = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'secretHash'],
  properties: {
    id,
    type: { enum: INTEGRATION_TYPES },
    /** `sha256$<salt>$<hash>` of the integration's secret (`npm run provision -- --secret`). */
    secretHash: { type: 'string', pattern: '^sha256\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
    /** The request header carrying the secret; `authorization` takes `Bearer <secret>` or Basic with it as password. */
    header: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$', default: 'authorization' },
  },
} as const;

const person = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'roles'],
  properties: {
    id,
    displayName: { type: 'string', maxLength: 32 },
    roles: { type: 'array', minItems: 1, items: { enum: ROLES } },
    /** Micro-grids this person serves; empty with role admin means every grid. */
    grids: { type: 'array', items: id, default: [] },
    /** `sha256$<salt>$<hash>` of the person's API/console token. */
    tokenHash: { type: 'string', pattern: '^sha256\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
    /** Console sign-in name, unique across all communities (docs/console.md). */
    username: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$' },
    /** `scrypt$N$salt$hash` from `npm run provision -- --password` (src/api/passwords.ts). */
    passwordHash: { type: 'string', pattern: '^scrypt\\$[0-9]{4,8}\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
    mobile: { type: 'string', pattern: '^\\+?[0-9-]{5,20}$' },
    /** The duty phone (值班电话) that phone steps with `to: [duty]` text or call for the alerts this person is told of. */
    dutyPhone: { type: 'string', pattern: '^\\+?[0-9-]{5,20}$' },
    quietHours: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to'],
      properties: { from: hhmm, to: hhmm },
    },
    /** Where this person is reached: `destinations` lists ids of settings.notify.destinations. */
    channels: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { destinations: { type: 'array', items: id, default: [] } },
    },
  },
} as const;

export const inventorySchema = {
  $id: 'shaobing/inventory',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'grids'],
  properties: {
    id,
    name: { type: 'string', minLength: 1 },
    city: { type: 'string' },
    district: { type: 'string' },
    street: { type: 'string' },
    grids: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: { id, name: { type: 'string', minLength: 1 }, rules: { type: 'object' } },
      },
    },
    buildings: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'gridId'],
        properties: {
          id,
          name: { type: 'string', minLength: 1 },
          gridId: id,
          floors: { type: 'integer', minimum: 1 },
          households: { type: 'array', items: household, default: [] },
        },
      },
    },
    parkingLots: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'capacity', 'gridId'],
        properties: {
          id,
          name: { type: 'string', minLength: 1 },
          gridId: id,
          capacity: { type: 'integer', minimum: 0 },
          spaces: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'zone'],
              properties: { id, zone: { enum: ZONES }, label: { type: 'string' } },
            },
          },
          gates: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'name'],
              properties: { id, name: { type: 'string' }, lanes: { type: 'array', items: lane } },
            },
          },
        },
      },
    },
    devices: { type: 'array', items: device, default: [] },
    integrations: { type: 'array', items: integration, default: [] },
    people: { type: 'array', items: person, default: [] },
    rules: { type: 'object' },
  },
} as const;

export type Settings = FromSchema<typeof settingsSchema>;
export type Inventory = FromSchema<typeof inventorySchema>;
export type Household = FromSchema<typeof household>;
export type DeviceConfig = FromSchema<typeof device>;
export type IntegrationConfig = FromSchema<typeof integration>;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];
export type Person = FromSchema<typeof person>;
export type Role = (typeof ROLES)[number];
/** A registered device kind's name (devices/<kind>/): known at start-up, not at compile time. */
export type DeviceKindName = string;
export type Zone = (typeof ZONES)[number];
