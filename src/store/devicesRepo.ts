// Devices provisioned through the API or the CLI. The inventory files are never rewritten.
import type { Db } from './db.js';
import type { DeviceKindName } from '../config/schema.js';
import type { DevicesRepo as Devices, ProvisionedDevice } from './store.js';

export type { ProvisionedDevice };

interface Row {
  id: string;
  kind: DeviceKindName;
  community_id: string;
  format: string;
  household_id: string | null;
  space_id: string | null;
  gate_id: string | null;
  building_id: string | null;
  area: string | null;
  secret_hash: string;
}

const fromRow = (r: Row): ProvisionedDevice => ({
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

export class DevicesRepo implements Devices {
  constructor(private readonly db: Db) {}

  all(): ProvisionedDevice[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY id').all() as Row[]).map(fromRow);
  }

  find(id: string): ProvisionedDevice | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  insert(d: ProvisionedDevice, now: number): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, kind, community_id, format, household_id, space_id, gate_id, building_id, area, secret_hash, created_at)
         VALUES (@id, @kind, @communityId, @format, @householdId, @spaceId, @gateId, @buildingId, @area, @secretHash, @now)`,
      )
      .run({
        householdId: null,
        spaceId: null,
        gateId: null,
        buildingId: null,
        area: null,
        ...d,
        now,
      });
  }
}
