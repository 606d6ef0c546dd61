// Provisioning: a new device gets a random secret, shown once; only its hash is stored.
import type { Directory, DeviceInfo } from '../config/inventory.js';
import type { DevicesRepo } from '../store/store.js';
import { placementProblems, type DeviceKindDef } from '../ingest/types.js';
import type { DeviceKindName } from '../config/schema.js';
import { hashSecret, newSecret } from './secrets.js';
import { AppError } from '../errors.js';

export interface ProvisionRequest {
  id: string;
  kind: string;
  communityId: string;
  format?: string;
  householdId?: string;
  spaceId?: string;
  gateId?: string;
  buildingId?: string;
  area?: string;
}

export function provisionDevice(
  deps: {
    directory: Directory;
    repo: DevicesRepo;
    kinds: readonly DeviceKindDef[];
    now: number;
    /** The caller's scope (src/api/scope.ts): a community outside it is as unknown as one that does not exist. */
    mayPlace?: (at: { communityId: string; gridId?: string; householdId?: string }) => boolean;
  },
  req: ProvisionRequest,
): { device: DeviceInfo; secret: string } {
  const { directory, repo, kinds } = deps;
  const problems: string[] = [];
  const kind = kinds.find((k) => k.kind === req.kind);
  const visible = (c: string) => !deps.mayPlace || deps.mayPlace({ communityId: c });
  const community = visible(req.communityId) ? directory.communities.get(req.communityId) : undefined;
  if (!kind) problems.push(`kind: unknown kind '${req.kind}' (known: ${kinds.map((k) => k.kind).join(', ')})`);
  if (!community) problems.push(`communityId: unknown community '${req.communityId}'`);
  const format = req.format ?? 'canonical';
  if (kind && !kind.decoders.some((d) => d.format === format))
    problems.push(`format: kind ${kind.kind} has no format '${format}' (known: ${kind.decoders.map((d) => d.format).join(', ')})`);
  const inCommunity = (what: string, id: string | undefined, map: Map<string, { communityId: string }>) => {
    if (id !== undefined && map.get(id)?.communityId !== req.communityId) problems.push(`${what}: no '${id}' in community '${req.communityId}'`);
  };
  inCommunity('householdId', req.householdId, directory.households);
  inCommunity('spaceId', req.spaceId, directory.spaces);
  inCommunity('gateId', req.gateId, directory.gates);
  inCommunity('buildingId', req.buildingId, directory.buildings);
  problems.push(...placementProblems(kind, req));
  if (problems.length) throw new AppError('SB_INVALID_DEVICE', problems.join('; '));
  // A community admin whose grids are part of their community places devices in those grids only.
  if (deps.mayPlace && !deps.mayPlace({ communityId: req.communityId, gridId: directory.placeOf(req).gridId, householdId: req.householdId }))
    throw new AppError('SB_FORBIDDEN', `the device would be placed outside the caller's grids`);
  if (directory.devices.has(req.id) || repo.find(req.id)) throw new AppError('SB_DEVICE_EXISTS', `device '${req.id}' already exists`);
  if (req.kind === 'parking-sensor' && req.spaceId) {
    // One sensor per space: a second would count one car twice and fight the first over the occupancy.
    // The inventory's and, through the store, those provisioned since (also by the CLI while the service runs).
    for (const d of [...directory.devices.values(), ...repo.all()])
      if (d.kind === 'parking-sensor' && d.spaceId === req.spaceId)
        throw new AppError('SB_SPACE_TAKEN', `parking space '${req.spaceId}' already has sensor '${d.id}'`);
  }

  const secret = newSecret();
  const record = { ...req, kind: req.kind as DeviceKindName, format, secretHash: hashSecret(secret) };
  repo.insert(record, deps.now);
  return { device: directory.addDevice(record), secret };
}
