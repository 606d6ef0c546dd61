// Whether the public sample secrets of config/sample-secrets.json open anything in the running inventory:
// device secrets, people's API tokens, the admin token (sha256 checks, cheap). Anyone who has read the
// repository knows them, so `npm start` says so loudly (src/main.ts). Passwords are scrypt and not checked here
// (the sample people whose token matches are the ones with the sample passwords).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Directory } from './inventory.js';
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
