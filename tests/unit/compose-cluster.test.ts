// docker-compose.yml's profile `cluster` (README "Running on EMQX"): no Docker engine runs in the tests, so the
// file is read with a YAML parser (merge keys as compose resolves them) and checked against what the code
// expects — the services, who talks to whom, and that the EMQX configuration it mounts calls the hook routes
// shaobing serves, with the body templates and the secret header they read.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { EMQX_AUTHN_BODY, EMQX_AUTHZ_BODY, EMQX_EVENTS_RULE } from '../../src/api/brokerHooks.js';
import { loadConfig } from '../../src/config/load.js';

interface Service {
  profiles?: string[];
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const clusterOnes = Object.entries(services).filter(([, s]) => s.profiles?.includes('cluster'));
const instances = clusterOnes.filter(([, s]) => s.build === '.');
const emqxConf = readFileSync('deploy/cluster/emqx.conf', 'utf8');
const nginxConf = readFileSync('deploy/cluster/nginx.conf', 'utf8');

/** The `body { k = "v" … }` block that follows `url = "…<path>"` in emqx.conf, as an object. */
function bodyAfter(path: string): Record<string, string> {
  const at = emqxConf.indexOf(path);
  expect(at, `${path} in emqx.conf`).toBeGreaterThan(0);
  const block = /body\s*\{\n([\s\S]*?)\n\s*\}/.exec(emqxConf.slice(at))![1];
  return Object.fromEntries([...block.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

describe('docker-compose profile `cluster`', () => {
  it('leaves the default stack as it was: no profile on shaobing, influxdb, grafana', () => {
    for (const name of ['shaobing', 'influxdb', 'grafana']) expect(services[name].profiles).toBeUndefined();
    expect(services.shaobing.environment!.SHAOBING_EXTERNAL_BROKER_URL).toBeUndefined();
  });

  it('has a 2-node EMQX 5 cluster, PostgreSQL, two shaobing instances and the console, on ports of their own', () => {
    const names = clusterOnes.map(([n]) => n).sort();
    expect(names).toEqual(['console', 'emqx1', 'emqx2', 'postgres', 'shaobing-1', 'shaobing-2']);
    const emqx = clusterOnes.filter(([, s]) => s.image?.startsWith('emqx/emqx:5.'));
    expect(emqx).toHaveLength(2);
    const nodes = emqx.map(([, s]) => s.environment!.EMQX_NODE__NAME);
    expect(new Set(nodes).size).toBe(2);
    // Each node lists both as seeds, and both share the cookie.
    for (const [, s] of emqx) {
      for (const n of nodes) expect(s.environment!.EMQX_CLUSTER__STATIC__SEEDS).toContain(n);
      expect(s.environment!.EMQX_NODE__COOKIE).toBe(emqx[0][1].environment!.EMQX_NODE__COOKIE);
      expect(s.volumes).toContain('./deploy/cluster/emqx.conf:/opt/emqx/etc/emqx.conf:ro');
    }
    expect(emqxConf).toMatch(/discovery_strategy\s*=\s*static/);
    expect(services.postgres.image).toMatch(/^postgres:15/);
    // Host ports do not collide with the default stack's.
    const host = (s: Service) => (s.ports ?? []).map((p) => p.split(':').at(-2));
    const defaults = ['shaobing', 'influxdb', 'grafana'].flatMap((n) => host(services[n]));
    for (const [, s] of clusterOnes) for (const p of host(s)) expect(defaults).not.toContain(p);
    // Every named volume is declared; every mounted file exists.
    for (const [, s] of clusterOnes)
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('./')) expect(existsSync(src), src).toBe(true);
        else expect(compose.volumes).toHaveProperty(src);
      }
  });

  it('gives each shaobing instance an EMQX node, PostgreSQL, the hook secrets and its own data volume, as settings load them', () => {
    expect(instances.map(([n]) => n).sort()).toEqual(['shaobing-1', 'shaobing-2']);
    const brokers = new Set<string>();
    const data = new Set<string>();
    for (const [, s] of instances) {
      const env = s.environment!;
      const broker = new URL(env.SHAOBING_EXTERNAL_BROKER_URL);
      expect(['emqx1', 'emqx2']).toContain(broker.hostname);
      brokers.add(broker.hostname);
      expect(new URL(env.SHAOBING_CLUSTER_POSTGRES_URL.replace(/\$\{[^}]+\}/g, 'x')).hostname).toBe('postgres');
      data.add(s.volumes!.find((v) => v.endsWith(':/data'))!);
      // The environment, with compose's ${…} filled in, loads as settings with the external broker, the cluster and the hooks.
      const filled = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)[^}]*\}/g, (_m, name: string) => (name.endsWith('_HASH') ? 'sha256$c2FsdA$aGFzaA' : name === 'SHAOBING_ADMIN_TOKEN' ? 'an-admin-token-0123456789' : name === 'SHAOBING_CONFIG' ? 'config/settings.yaml' : name.includes('SECRET') || name.includes('PASSWORD') ? 'a-secret-0123456789' : ''))]),
      );
      const { settings } = loadConfig({ settingsPath: 'config/settings.yaml', env: filled });
      expect(settings.externalBroker?.url).toBe(env.SHAOBING_EXTERNAL_BROKER_URL);
      expect(settings.cluster?.postgresUrl).toMatch(/^postgres:\/\/shaobing:.+@postgres:5432\/shaobing$/);
      expect(settings.brokerHooks).toMatchObject({ secretHash: 'sha256$c2FsdA$aGFzaA', serviceSecretHash: 'sha256$c2FsdA$aGFzaA', header: 'x-shaobing-hook-secret' });
    }
    expect(brokers.size).toBe(2);
    expect(data.size).toBe(2);
  });

  it('mounts an EMQX configuration that calls the hook routes shaobing serves, with their bodies and secret header, through the console', () => {
    expect(emqxConf).toContain('url = "http://console:8080/hooks/emqx/authn"');
    expect(emqxConf).toContain('url = "http://console:8080/hooks/emqx/authz"');
    expect(bodyAfter('/hooks/emqx/authn')).toEqual(EMQX_AUTHN_BODY);
    expect(bodyAfter('/hooks/emqx/authz')).toEqual(EMQX_AUTHZ_BODY);
    expect(emqxConf).toMatch(/no_match\s*=\s*deny/);
    // Device events: the rule's SQL is the one the route documents, its action posts to /hooks/emqx/events.
    const sql = /sql\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(emqxConf)![1].replace(/\\"/g, '"');
    expect(sql).toBe(EMQX_EVENTS_RULE);
    expect(emqxConf).toMatch(/path\s*=\s*"\/hooks\/emqx\/events"/);
    expect(emqxConf).toMatch(/actions\s*=\s*\["http:shaobing_device_events"\]/);
    expect(emqxConf).toMatch(/url\s*=\s*"http:\/\/console:8080"/);
    // The secret header reaches every call: the three `headers` objects are set from the environment.
    const env = services.emqx1.environment!;
    for (const key of ['EMQX_AUTHENTICATION__1__HEADERS', 'EMQX_AUTHORIZATION__SOURCES__1__HEADERS', 'EMQX_CONNECTORS__HTTP__SHAOBING__HEADERS']) {
      expect(env[key]).toContain('"x-shaobing-hook-secret" = "${SHAOBING_HOOK_SECRET');
      expect(env[key]).toContain('"content-type" = "application/json"');
    }
    expect(services.emqx2.environment!.EMQX_AUTHENTICATION__1__HEADERS).toBe(env.EMQX_AUTHENTICATION__1__HEADERS);
  });

  it('puts the console (nginx) in front of both instances, retrying the other when one is down', () => {
    expect(services.console.volumes).toContain('./deploy/cluster/nginx.conf:/etc/nginx/conf.d/default.conf:ro');
    for (const [name] of instances) expect(nginxConf).toContain(`server ${name}:8080`);
    expect(nginxConf).toMatch(/proxy_next_upstream error timeout http_502 http_503/);
    expect(nginxConf).toMatch(/location = \/api\/stream[^}]*proxy_buffering off/);
  });
});
