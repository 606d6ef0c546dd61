// The sample communities and their public demo secrets, as the simulators see them: loaded through the
// service's own loader (src/config/load.ts), so a simulator never drifts from what the service accepts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { laneOfCamera } from '../../src/config/inventory.js';
import type { Inventory } from '../../src/config/schema.js';
import type { DeviceIdentity } from '../devices/device.js';

export type { Inventory };

/** The repository root (simulators/lib/ → ../..), so the tools work from any working directory. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Secrets {
  devices: Record<string, string>;
  people: Record<string, string>;
}

/** Community inventories listed by a settings file (default config/settings.yaml). */
export function loadCommunities(settingsPath = resolve(ROOT, 'config/settings.yaml')): Inventory[] {
  return loadConfig({ settingsPath, env: {}, cwd: ROOT }).communities;
}

export function loadSecrets(path = resolve(ROOT, 'config/sample-secrets.json')): Secrets {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<Secrets>;
  return { devices: raw.devices ?? {}, people: raw.people ?? {} };
}

/** Every device of a community with where it is installed (grid and lot are the service's business). */
export function devicesOf(c: Inventory): DeviceIdentity[] {
  const gates = new Map(c.parkingLots.flatMap((l) => l.gates.map((g) => [g.id, g] as const)));
  return c.devices.map((d) => ({
    id: d.id,
    kind: d.kind,
    format: d.format ?? 'canonical',
    communityId: c.id,
    householdId: d.householdId,
    spaceId: d.spaceId,
    gateId: d.gateId,
    buildingId: d.buildingId,
    area: d.area,
    heartbeatSeconds: d.heartbeatSeconds,
    // A gate camera's lane, as the service knows it: what its pushes need not say.
    lane: d.kind === 'smart-gate' && d.gateId ? laneOfCamera(gates.get(d.gateId), d.id) : undefined,
  }));
}

/** Device id → identity, over all given communities. */
export function deviceIndex(communities: readonly Inventory[]): Map<string, DeviceIdentity> {
  return new Map(communities.flatMap((c) => devicesOf(c).map((d) => [d.id, d] as const)));
}
