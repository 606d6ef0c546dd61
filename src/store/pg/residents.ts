// Provisioned devices, photos and resident invites in PostgreSQL; all working set, in memory and written through.
import type pg from 'pg';
import type { DevicesRepo, PhotoRole, PhotosRepo, ProvisionedDevice, ResidentInvitesRepo } from '../store.js';
import type { Loadable, PgContext } from './context.js';
import { insert, lit, MemMap } from './unit.js';

interface DeviceRow {
  id: string;
  kind: ProvisionedDevice['kind'];
  community_id: string;
  format: string;
  household_id: string | null;
  space_id: string | null;
  gate_id: string | null;
  building_id: string | null;
  area: string | null;
  secret_hash: string;
}

const device = (r: DeviceRow): ProvisionedDevice => ({
  id: r.id,
  kind: r.kind,
  communityId: r.community_id,
  format: r.format,
  householdId: r.household_id ?? undefined,
  spaceId: r.space_id ?? undefined,
  gateId: r.gate_id ?? undefined,
  buildingId: r.building_id ?? undefined,
  area: r.area ?? undefined,
  secretHash: r.secret_hash,
});

/** Without the keys whose value is undefined (as a device read back from SQLite has none). */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

type Photo = { id: number; photo: string; householdId: string | null; alertId: number | null; role: PhotoRole; createdAt: number };

export class DuplicateDeviceError extends Error {
  readonly code = 'SB_STORE_CONSTRAINT';
  constructor(id: string) {
    super(`device ${id} is provisioned already`);
    this.name = 'DuplicateDeviceError';
  }
}

/** Channel on which every device provisioned into the store is announced (in its unit: sent on commit). */
export const DEVICES_CHANNEL = 'shaobing_devices';

export function pgResidents(x: PgContext): {
  repos: { devices: DevicesRepo; photos: PhotosRepo; residentInvites: ResidentInvitesRepo };
  loadable: Loadable;
  /** A device another process provisioned (announced on DEVICES_CHANNEL): read it into the working set. */
  provisioned(id: string): Promise<void>;
} {
  const { unit } = x;
  const devices = new MemMap<string, ProvisionedDevice>(unit);
  const photos = new MemMap<number, Photo>(unit);
  const generations = new MemMap<string, number>(unit);

  const loadable: Loadable = {
    async load(db: Pick<pg.Pool, 'query'>) {
      const [d, p, g] = await Promise.all([
        db.query<DeviceRow>('SELECT * FROM devices'),
        db.query<{ id: number; photo: string; household_id: string | null; alert_id: number | null; role: PhotoRole; created_at: number }>(
          'SELECT id, photo, household_id, alert_id, role, created_at FROM photos',
        ),
        db.query<{ household_id: string; generation: number }>('SELECT household_id, generation FROM resident_invites'),
      ]);
      devices.clear();
      photos.clear();
      generations.clear();
      for (const r of d.rows) devices.load(r.id, device(r));
      for (const r of p.rows) photos.load(r.id, { id: r.id, photo: r.photo, householdId: r.household_id, alertId: r.alert_id, role: r.role, createdAt: r.created_at });
      for (const r of g.rows) generations.load(r.household_id, r.generation);
    },
  };

  const pendingOf = (householdId: string, photo: string) => {
    let first: Photo | undefined;
    for (const p of photos.values()) if (p.householdId === householdId && p.photo === photo && p.alertId === null && (!first || p.id < first.id)) first = p;
    return first;
  };

  return {
    loadable,
    provisioned: async (id) => {
      const [r] = await x.query<DeviceRow>('SELECT * FROM devices WHERE id = $1', [id]);
      if (r && !devices.has(id)) devices.load(id, defined(device(r)));
    },
    repos: {
      devices: {
        all: () => [...devices.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((d) => ({ ...d })),
        find: (id) => {
          const d = devices.get(id);
          return d && { ...d };
        },
        insert: (d, now) => {
          if (devices.has(d.id)) throw new DuplicateDeviceError(d.id);
          const sql = insert('devices', {
            id: d.id,
            kind: d.kind,
            community_id: d.communityId,
            format: d.format,
            household_id: d.householdId ?? null,
            space_id: d.spaceId ?? null,
            gate_id: d.gateId ?? null,
            building_id: d.buildingId ?? null,
            area: d.area ?? null,
            secret_hash: d.secretHash,
            created_at: now,
          });
          devices.set(d.id, defined({ ...d }));
          unit.write(sql);
          unit.write(`SELECT pg_notify(${lit(DEVICES_CHANNEL)}, ${lit(d.id)})`);
        },
      },
      photos: {
        add: (r) => {
          const id = x.id();
          const sql = insert('photos', {
            id,
            photo: r.photo,
            household_id: r.householdId ?? null,
            uploaded_by: r.uploadedBy,
            alert_id: r.alertId ?? null,
            role: r.role,
            width: r.width,
            height: r.height,
            bytes: r.bytes,
            created_at: r.at,
          });
          photos.set(id, { id, photo: r.photo, householdId: r.householdId ?? null, alertId: r.alertId ?? null, role: r.role, createdAt: r.at });
          unit.write(sql);
        },
        attach: (householdId, photo, alertId) => {
          const p = pendingOf(householdId, photo);
          if (!p) return false;
          photos.set(p.id, { ...p, alertId });
          unit.write(`UPDATE photos SET alert_id = ${lit(alertId)} WHERE id = ${lit(p.id)}`);
          return true;
        },
        pendingSince: (householdId, since) => {
          let n = 0;
          for (const p of photos.values()) if (p.householdId === householdId && p.alertId === null && p.createdAt >= since) n++;
          return n;
        },
        rows: (photo) =>
          [...photos.values()]
            .filter((p) => p.photo === photo)
            .sort((a, b) => a.id - b.id)
            .map((p) => ({ photo: p.photo, householdId: p.householdId, alertId: p.alertId, role: p.role })),
        countOn: (alertId, role) => {
          let n = 0;
          for (const p of photos.values()) if (p.alertId === alertId && p.role === role) n++;
          return n;
        },
        sweep: async (before) => {
          const gone = await x.query<{ id: number; photo: string }>('DELETE FROM photos WHERE alert_id IS NULL AND created_at < $1 RETURNING id, photo', [before]);
          for (const r of gone) photos.m.delete(r.id);
          const names = [...new Set(gone.map((r) => r.photo))];
          if (!names.length) return [];
          const still = new Set((await x.query<{ photo: string }>('SELECT DISTINCT photo FROM photos WHERE photo = ANY($1)', [names])).map((r) => r.photo));
          return names.filter((n) => !still.has(n));
        },
      },
      residentInvites: {
        generations: () => new Map(generations.entries()),
        revoke: (householdId, at, by) => {
          const generation = (generations.get(householdId) ?? 1) + 1;
          const sql = `${insert('resident_invites', { household_id: householdId, generation, revoked_at: at, revoked_by: by })}
            ON CONFLICT (household_id) DO UPDATE SET generation = GREATEST(resident_invites.generation + 1, EXCLUDED.generation),
              revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by`;
          generations.set(householdId, generation);
          unit.write(sql);
          return generation;
        },
      },
    },
  };
}
