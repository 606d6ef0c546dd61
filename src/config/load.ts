// Load settings (YAML file + environment) and the community inventories, validate everything at once and
// report every error with its path, then freeze. Nothing here reads a global: the result is injected.
import { readTls } from '../tls.js';
import type { StartupErrorCode } from '../errors.js';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, relative } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Ajv, type ErrorObject } from 'ajv';
import { settingsSchema, inventorySchema, type Settings, type Inventory } from './schema.js';
import { checkInventory } from './inventory.js';
import { loadPhoneCredentials, phoneProblems, type PhoneCredentials } from '../notify/phone/config.js';
import { RuleSettings, RuleSettingsError } from '../rules/lib/config.js';
import { rules as allRules } from '../rules/index.js';
import { notifyProblems } from '../notify/check.js';
import { closest } from './suggest.js';

export interface Config {
  settings: Settings;
  communities: Inventory[];
  /** The settings file (for messages) and the folder relative paths are resolved against. */
  settingsPath: string | null;
  baseDir: string;
  /** SMS/voice platform keys, from the environment or notify.phone.secretsFile; kept out of `settings` (never logged). */
  phoneCredentials?: PhoneCredentials;
}

export class ConfigError extends Error {
  readonly code = 'SB_CONFIG_INVALID' satisfies StartupErrorCode;
  constructor(readonly errors: string[]) {
    super(`invalid configuration (${errors.length} error${errors.length === 1 ? '' : 's'}):\n  - ${errors.join('\n  - ')}`);
  }
}

/** Environment variables of CONTRACT.md → settings paths. */
const ENV: Array<[name: string, path: string[], type: 'int' | 'string' | 'clock' | 'level' | 'bool']> = [
  ['SHAOBING_DATA_DIR', ['dataDir'], 'string'],
  ['SHAOBING_MQTT_PORT', ['mqtt', 'port'], 'int'],
  ['SHAOBING_WS_PORT', ['mqtt', 'wsPort'], 'int'],
  ['SHAOBING_MQTT_THREAD', ['mqtt', 'thread'], 'bool'],
  ['SHAOBING_HTTP_PORT', ['http', 'port'], 'int'],
  ['SHAOBING_ADMIN_TOKEN', ['adminToken'], 'string'],
  ['SHAOBING_CLOCK', ['clock'], 'string'],
  ['SHAOBING_LOG_LEVEL', ['log', 'level'], 'string'],
  ['SHAOBING_DEMO', ['demo'], 'bool'],
  ['SHAOBING_PUBLIC_URL', ['http', 'publicUrl'], 'string'],
  // TLS (README "TLS"): MQTT over TLS, HTTPS, and the certificate's files.
  ['SHAOBING_MQTT_TLS_PORT', ['mqtt', 'tlsPort'], 'int'],
  ['SHAOBING_HTTP_TLS', ['http', 'tls'], 'bool'],
  ['SHAOBING_TLS_CERT', ['tls', 'cert'], 'string'],
  ['SHAOBING_TLS_KEY', ['tls', 'key'], 'string'],
  // Telemetry to InfluxDB 2 (docker-compose sets these; docs/telemetry.md).
  ['SHAOBING_TELEMETRY_SINK', ['telemetry', 'sink'], 'string'],
  ['SHAOBING_INFLUX_URL', ['telemetry', 'influx', 'url'], 'string'],
  ['SHAOBING_INFLUX_ORG', ['telemetry', 'influx', 'org'], 'string'],
  ['SHAOBING_INFLUX_BUCKET', ['telemetry', 'influx', 'bucket'], 'string'],
  ['SHAOBING_INFLUX_TOKEN', ['telemetry', 'influx', 'token'], 'string'],
  // Device traffic through an external MQTT broker (README "Running on EMQX").
  ['SHAOBING_EXTERNAL_BROKER_URL', ['externalBroker', 'url'], 'string'],
  ['SHAOBING_EXTERNAL_BROKER_PASSWORD', ['externalBroker', 'password'], 'string'],
  ['SHAOBING_CLUSTER_POSTGRES_URL', ['cluster', 'postgresUrl'], 'string'],
  ['SHAOBING_STORE_POSTGRES_URL', ['store', 'postgresUrl'], 'string'],
  ['SHAOBING_CLUSTER_LEASE_TTL_MS', ['cluster', 'leaseTtlMs'], 'int'],
  ['SHAOBING_CLUSTER_RENEW_MS', ['cluster', 'renewMs'], 'int'],
  // The EMQX hooks (docker-compose.yml's profile `cluster` sets these).
  ['SHAOBING_BROKER_HOOKS_SECRET_HASH', ['brokerHooks', 'secretHash'], 'string'],
  ['SHAOBING_BROKER_HOOKS_SERVICE_SECRET_HASH', ['brokerHooks', 'serviceSecretHash'], 'string'],
];

// strict: a schema keyword ajv does not know is a bug in our schema, not something to ignore. verbose: errors
// carry their schema, so an unknown key can be answered with the name it probably meant.
// (strictRequired stays off: a `then` that requires properties defined beside its `if` is the pattern for
// "these are needed only when", and repeating their schemas there would be the drift strictness is against.)
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
const validateSettings = ajv.compile(settingsSchema);
const validateInventory = ajv.compile(inventorySchema);

const suggest = (name: string, known: readonly string[]) => {
  const guess = closest(name, known);
  return guess ? ` (did you mean '${guess}'?)` : '';
};

function describe(file: string, e: ErrorObject): string | undefined {
  let path = e.instancePath || '/';
  let msg = e.message ?? e.keyword;
  // A key checked by `propertyNames` fails twice: the inner enum (with e.propertyName) and propertyNames itself.
  if (e.propertyName !== undefined) return undefined;
  if (e.keyword === 'propertyNames') {
    const name = String(e.params.propertyName);
    const names = (e.schema as { title?: string; enum?: string[] }) ?? {};
    path = `${e.instancePath}/${name}`;
    msg = `unknown ${names.title ?? 'name'}${suggest(name, names.enum ?? [])}${names.enum ? ` (known: ${names.enum.join(', ')})` : ''}`;
  } else if (e.keyword === 'additionalProperties') {
    const name = String(e.params.additionalProperty);
    path = `${e.instancePath}/${name}`;
    msg = `unknown setting${suggest(name, Object.keys((e.parentSchema as { properties?: object })?.properties ?? {}))}`;
  } else if (e.keyword === 'required') {
    path = `${e.instancePath}/${String(e.params.missingProperty)}`;
    msg = 'is required';
  } else if (e.keyword === 'enum') {
    msg = `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}`;
  }
  return `${file}: ${path}: ${msg}`;
}

const describeAll = (file: string, list: ErrorObject[] | null | undefined, errors: string[]) => {
  for (const e of list ?? []) {
    // `if` only says a `then` failed; the `then` errors themselves are reported by path.
    if (e.keyword === 'if') continue;
    const line = describe(file, e);
    if (line) errors.push(line);
  }
};

function readYaml(path: string, label: string, errors: string[]): unknown {
  if (!existsSync(path)) {
    errors.push(`${label}: file not found`);
    return undefined;
  }
  try {
    return parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    errors.push(`${label}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

export interface LoadOptions {
  /** Settings file; default SHAOBING_CONFIG or config/settings.yaml. null = embedded defaults only. */
  settingsPath?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Values applied over the file and the environment (tests, benchmarks). */
  overrides?: Record<string, unknown>;
  cwd?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      deepMerge(b as Record<string, unknown>, v as Record<string, unknown>);
    } else base[k] = v;
  }
  return base;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}

/**
 * TLS wanted (mqtt.tlsPort, http.tls) needs both files, readable, a certificate and its own key; the paths are
 * made absolute (relative to the settings file) so a reload on SIGHUP reads the same files.
 */
function tlsProblems(settings: Settings, baseDir: string, file: string): string[] {
  const t = settings.tls;
  const wanted = [settings.mqtt.tlsPort != null && '/mqtt/tlsPort', settings.http.tls && '/http/tls'].filter(Boolean).join(' and ');
  if (!wanted) return [];
  const missing = (['cert', 'key'] as const).filter((k) => !t[k]).map((k) => `${file}: /tls/${k}: required when ${wanted} is set (SHAOBING_TLS_${k.toUpperCase()})`);
  if (missing.length) return missing;
  const paths = { cert: resolve(baseDir, t.cert!), key: resolve(baseDir, t.key!) };
  try {
    readTls(paths);
  } catch (err) {
    const m = /^tls\.(cert|key): (.*)$/s.exec((err as Error).message);
    return [m ? `${file}: /tls/${m[1]}: ${m[2]}` : `${file}: /tls: ${(err as Error).message}`];
  }
  Object.assign(t, paths);
  return [];
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const errors: string[] = [];
  const settingsPath =
    opts.settingsPath === null ? null : resolve(cwd, opts.settingsPath ?? env.SHAOBING_CONFIG ?? 'config/settings.yaml');
  const label = (p: string) => relative(cwd, p) || p;

  let raw: Record<string, unknown> = {};
  if (settingsPath) {
    const parsed = readYaml(settingsPath, label(settingsPath), errors);
    if (parsed !== undefined) {
      if (typeof parsed === 'object' && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
      else errors.push(`${label(settingsPath)}: /: must be a mapping of settings`);
    }
  }
  for (const [name, path, type] of ENV) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (type === 'int') {
      if (!/^\d+$/.test(value)) {
        errors.push(`environment ${name}: must be an integer port, got '${value}'`);
        continue;
      }
      setPath(raw, path, Number(value));
    } else if (type === 'bool') {
      if (!/^(1|0|true|false)$/.test(value)) {
        errors.push(`environment ${name}: must be 1, 0, true or false, got '${value}'`);
        continue;
      }
      setPath(raw, path, value === '1' || value === 'true');
    } else setPath(raw, path, value);
  }
  if (opts.overrides) deepMerge(raw, structuredClone(opts.overrides));

  const fileLabel = settingsPath ? label(settingsPath) : 'settings';
  if (!validateSettings(raw)) describeAll(fileLabel, validateSettings.errors, errors);
  const settings = raw as Settings;
  const baseDir = settingsPath ? dirname(settingsPath) : cwd;
  let phoneCredentials: PhoneCredentials | undefined;
  if (errors.length === 0 && settings.notify?.phone) {
    errors.push(...phoneProblems(settings.notify.phone, fileLabel));
    const loaded = loadPhoneCredentials(settings.notify.phone, env, baseDir, fileLabel);
    errors.push(...loaded.problems);
    phoneCredentials = loaded.credentials;
  }

  if (errors.length === 0) errors.push(...tlsProblems(settings, baseDir, fileLabel));

  const communities: Inventory[] = [];
  const communityFiles = new Map<string, string>();
  for (const [i, file] of (Array.isArray(settings.communities) ? settings.communities : []).entries()) {
    const path = resolve(baseDir, file);
    const inv = readYaml(path, `${fileLabel}: /communities/${i} (${label(path)})`, errors);
    if (inv === undefined) continue;
    if (!validateInventory(inv)) {
      describeAll(label(path), validateInventory.errors, errors);
      continue;
    }
    communities.push(inv as Inventory);
    communityFiles.set((inv as Inventory).id, label(path));
    for (const problem of checkInventory(inv as Inventory)) errors.push(`${label(path)}: ${problem}`);
  }
  const seen = new Map<string, string>();
  for (const c of communities) {
    if (seen.has(c.id)) errors.push(`community id '${c.id}' is used twice`);
    seen.set(c.id, c.name);
  }
  // Ids are global (one directory serves every community, and scope is judged by grid and household id), so a
  // grid, household or person id used by two communities would let one community's staff see the other's.
  const owner = new Map<string, string>();
  for (const c of communities) {
    const ids = [
      ...c.grids.map((g) => g.id),
      ...c.buildings.flatMap((b) => [b.id, ...b.households.map((h) => h.id)]),
      ...c.parkingLots.flatMap((l) => [l.id, ...l.spaces.map((x) => x.id), ...l.gates.map((x) => x.id)]),
      ...c.devices.map((d) => d.id),
      ...c.people.map((p) => p.id),
      ...c.integrations.map((x) => x.id), // POST /ingest/{id} names one community's integration
    ];
    for (const id of new Set(ids)) {
      const other = owner.get(id);
      if (other !== undefined && other !== c.id) errors.push(`${c.id}: id '${id}' is also used by community '${other}' (ids are unique across communities)`);
      else owner.set(id, c.id);
    }
  }
  // Console sign-in names (docs/console.md): one login page serves every community, so names are unique across them.
  const usernames = new Map<string, string>();
  for (const c of communities) {
    c.people.forEach((p, i) => {
      if ((p.username === undefined) !== (p.passwordHash === undefined))
        errors.push(`${c.id}: /people/${i}: username and passwordHash go together (a console sign-in needs both)`);
      if (p.username === undefined) return;
      const other = usernames.get(p.username);
      if (other) errors.push(`${c.id}: /people/${i}/username: '${p.username}' is already used by ${other}`);
      else usernames.set(p.username, `${c.id}/${p.id}`);
    });
  }
  // What the schemas cannot say: each rule's settings against that rule's own schema, and the notification
  // cross-references — checked here, with everything else, rather than one at a time when units start.
  const labels = { settings: fileLabel, community: (id: string) => communityFiles.get(id) ?? id };
  try {
    new RuleSettings(allRules, { settings: isObject(settings.rules) ? settings.rules : {}, communities, labels });
  } catch (err) {
    if (!(err instanceof RuleSettingsError)) throw err;
    errors.push(...err.errors);
  }
  if (isObject(settings.notify)) errors.push(...notifyProblems(settings.notify, communities, labels));
  if (settings.store.postgresUrl !== undefined) {
    // The PostgreSQL store loads every community's working set: two instances on one database would each act on
    // all of them (docs/cluster.md "What remains" 1.), and the broker thread reads devices from the SQLite file.
    if (settings.cluster) errors.push('/store/postgresUrl: not with /cluster yet (one instance per PostgreSQL store database; docs/cluster.md)');
    if (settings.mqtt.thread) errors.push('/store/postgresUrl: not with /mqtt/thread (the broker thread reads devices from the SQLite file)');
  }
  if (errors.length) throw new ConfigError(errors);
  if (settings.dataDir) settings.dataDir = resolve(cwd, settings.dataDir);
  return deepFreeze({ settings, communities, settingsPath, baseDir, phoneCredentials });
}
