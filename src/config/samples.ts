// Whether the public sample secrets of config/sample-secrets.json open anything in the running inventory:
// device secrets, people's API tokens, the admin token (sha256 checks, cheap). Anyone who has read the
// repository knows them, so `npm start` says so loudly (src/main.ts). Passwords are scrypt and not checked here
// (the sample people whose token matches are the ones with the sample passwords).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Directory } from './inventory.js';
import type { Config } from './load.js';
import { verifySecret } from '../broker/secrets.js';

export const SAMPLE_SECRETS_PATH = fileURLToPath(new URL('../../config/sample-secrets.json', import.meta.url));

export interface SamplesInUse {
  devices: number;
  people: number;
  /** The admin token is one of the sample secrets (any of them). */
  adminToken: boolean;
}

export function sampleSecretsInUse(directory: Directory, adminToken: string | undefined, path = SAMPLE_SECRETS_PATH): SamplesInUse | undefined {
  if (!existsSync(path)) return undefined;
  let samples: { devices?: Record<string, string>; people?: Record<string, string>; passwords?: Record<string, string> };
  try {
    samples = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  let devices = 0;
  for (const [id, secret] of Object.entries(samples.devices ?? {})) if (verifySecret(secret, directory.devices.get(id)?.secretHash)) devices++;
  let people = 0;
  for (const [id, token] of Object.entries(samples.people ?? {})) if (verifySecret(token, directory.people.get(id)?.tokenHash)) people++;
  const all = [...Object.values(samples.devices ?? {}), ...Object.values(samples.people ?? {}), ...Object.values(samples.passwords ?? {})];
  const admin = adminToken !== undefined && all.includes(adminToken);
  return devices || people || admin ? { devices, people, adminToken: admin } : undefined;
}

/** Is this a production run? settings `production`, else NODE_ENV=production (the Docker image sets it). */
export const isProduction = (config: Config, env: NodeJS.ProcessEnv = process.env): boolean => config.settings.production ?? env.NODE_ENV === 'production';

/**
 * Why a production run must not start: the public sample secrets open devices or people, or a secret is still
 * deploy/env.example's `change-me-…` placeholder. Empty when it may start — not production, or a run declared
 * a demo (settings `demo: true`, SHAOBING_DEMO=1). One line per problem, by setting path.
 */
export function productionRefusal(config: Config, directory: Directory, env: NodeJS.ProcessEnv = process.env, path = SAMPLE_SECRETS_PATH): string[] {
  const s = config.settings;
  if (!isProduction(config, env) || s.demo) return [];
  const out: string[] = [];
  const samples = sampleSecretsInUse(directory, s.adminToken, path);
  if (samples?.devices) out.push(`/communities: ${samples.devices} devices have the public sample secret of config/sample-secrets.json (e.g. the sample inventories)`);
  if (samples?.people) out.push(`/communities: ${samples.people} people have the public sample API token of config/sample-secrets.json`);
  if (samples?.adminToken) out.push('/adminToken: is one of the public sample secrets');
  const placeholder = (v: unknown) => typeof v === 'string' && v.startsWith('change-me');
  if (placeholder(s.adminToken)) out.push("/adminToken: is deploy/env.example's placeholder (change-me-…)");
  if (placeholder(s.telemetry.influx?.token)) out.push("/telemetry/influx/token: is deploy/env.example's placeholder (change-me-…)");
  return out;
}
