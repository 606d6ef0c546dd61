// The community inventory as lookups: community → micro-grids → buildings → households → devices, parking
// lots → spaces and gates, people. Built once from the frozen config; provisioned devices are added at run time.
import type { Inventory, DeviceKindName, Zone, Role, Person, IntegrationType } from './schema.js';
import { placementProblems } from '../ingest/types.js';
import { findKind } from '../../devices/index.js';

export interface DeviceInfo {
  id: string;
  kind: DeviceKindName;
  format: string;
  communityId: string;
  gridId: string;
  buildingId?: string;
  householdId?: string;
  spaceId?: string;
  gateId?: string;
  lotId?: string;
  area?: string;
  secretHash?: string;
  heartbeatSeconds?: number;
  /** LoRaWAN DevEUI, upper case, for HTTP integrations that name devices by it. */
  devEui?: string;
  /** A gate camera's lane: its name and which way cars go (inventory parkingLots[].gates[].lanes[]). */
  lane?: LaneInfo;
  /** `iot/{communityId}/{deviceId}/up`, precomputed for the ACL. */
  uplinkTopic: string;
}

export interface HouseholdInfo {
  id: string;
  room: string;
  communityId: string;
  gridId: string;
  buildingId: string;
  buildingName: string;
  loneElder: boolean;
  displayName?: string;
  careContacts: Array<{ personId?: string; relation: string; phone?: string; prefer?: 'sms' | 'call' | 'both'; hours?: { from: string; to: string } }>;
  plates: string[];
  /** Its own chat destinations (settings notify.destinations ids): told when its report or request is resolved. */
  destinations?: string[];
  rules?: Record<string, unknown>;
}

export interface SpaceInfo {
  id: string;
  zone: Zone;
  label?: string;
  lotId: string;
  gridId: string;
  communityId: string;
}

export interface LotInfo {
  id: string;
  name: string;
  capacity: number;
  gridId: string;
  communityId: string;
  spaceIds: string[];
  gateIds: string[];
}

/** A lane of a barrier gate, as a camera watching it sees it. */
export interface LaneInfo {
  name?: string;
  direction: 'in' | 'out';
}

type GateConfig = Inventory['parkingLots'][number]['gates'][number];
type LaneConfig = NonNullable<GateConfig['lanes']>[number];
type LaneObject = Exclude<LaneConfig, string>;
const isLaneObject = (l: LaneConfig): l is LaneObject => typeof l === 'object' && l !== null;

/**
 * The lane a camera of `gate` watches: the lane that lists it, else the gate's only lane (a one-lane gate needs
 * no camera list), else none.
 */
export function laneOfCamera(gate: GateConfig | undefined, cameraId: string): LaneInfo | undefined {
  const lanes = (gate?.lanes ?? []).filter(isLaneObject);
  const lane = lanes.find((l) => (l.cameras ?? []).includes(cameraId)) ?? (gate?.lanes?.length === 1 ? lanes[0] : undefined);
  return lane && { name: lane.name, direction: lane.direction };
}

/** A sender of device messages over HTTP (`POST /ingest/{id}`), serving one community's devices. */
export interface IntegrationInfo {
  id: string;
  type: IntegrationType;
  communityId: string;
  secretHash: string;
  /** Lower-case header name that carries the secret. */
  header: string;
}

export interface PersonInfo extends Person {
  communityId: string;
  roles: Role[];
  grids: string[];
}

/** Referential checks that a JSON Schema cannot express; each problem comes with its path. */
export function checkInventory(inv: Inventory): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string>();
  const unique = (id: string, path: string) => {
    if (ids.has(id)) problems.push(`${path}/id: '${id}' is already used at ${ids.get(id)}`);
    else ids.set(id, path);
  };
  const grids = new Set(inv.grids.map((g) => g.id));
  inv.grids.forEach((g, i) => unique(g.id, `/grids/${i}`));
  const households = new Set<string>();
  const spaces = new Set<string>();
  const gates = new Set<string>();
  const gateConfigs = new Map<string, { gate: GateConfig; at: string }>();
  const buildings = new Set<string>();
  inv.buildings.forEach((b, i) => {
    unique(b.id, `/buildings/${i}`);
    buildings.add(b.id);
    if (!grids.has(b.gridId)) problems.push(`/buildings/${i}/gridId: no micro-grid '${b.gridId}'`);
    b.households.forEach((h, j) => {
      unique(h.id, `/buildings/${i}/households/${j}`);
      households.add(h.id);
    });
  });
  inv.parkingLots.forEach((lot, i) => {
    unique(lot.id, `/parkingLots/${i}`);
    if (!grids.has(lot.gridId)) problems.push(`/parkingLots/${i}/gridId: no micro-grid '${lot.gridId}'`);
    lot.spaces.forEach((s, j) => {
      unique(s.id, `/parkingLots/${i}/spaces/${j}`);
      spaces.add(s.id);
    });
    lot.gates.forEach((g, j) => {
      unique(g.id, `/parkingLots/${i}/gates/${j}`);
      gates.add(g.id);
      gateConfigs.set(g.id, { gate: g, at: `/parkingLots/${i}/gates/${j}` });
    });
    // Capacity counts the bays cars may use; fire-lane and no-parking spaces are watched, not rented.
    const bays = lot.spaces.filter((s) => s.zone === 'resident' || s.zone === 'visitor').length;
    if (bays > lot.capacity) problems.push(`/parkingLots/${i}/capacity: ${lot.capacity} is fewer than its ${bays} resident and visitor spaces`);
  });
  const people = new Set<string>();
  inv.people.forEach((p, i) => {
    unique(p.id, `/people/${i}`);
    people.add(p.id);
    p.grids.forEach((g, j) => {
      if (!grids.has(g)) problems.push(`/people/${i}/grids/${j}: no micro-grid '${g}'`);
    });
  });
  inv.buildings.forEach((b, i) =>
    b.households.forEach((h, j) =>
      h.careContacts.forEach((c, k) => {
        if (c.personId && !people.has(c.personId))
          problems.push(`/buildings/${i}/households/${j}/careContacts/${k}/personId: no person '${c.personId}'`);
      }),
    ),
  );
  const euis = new Map<string, string>();
  const sensorOfSpace = new Map<string, string>();
  inv.devices.forEach((d, i) => {
    unique(d.id, `/devices/${i}`);
    const at = `/devices/${i}`;
    if (d.householdId && !households.has(d.householdId)) problems.push(`${at}/householdId: no household '${d.householdId}'`);
    if (d.spaceId && !spaces.has(d.spaceId)) problems.push(`${at}/spaceId: no parking space '${d.spaceId}'`);
    if (d.gateId && !gates.has(d.gateId)) problems.push(`${at}/gateId: no gate '${d.gateId}'`);
    if (d.buildingId && !buildings.has(d.buildingId)) problems.push(`${at}/buildingId: no building '${d.buildingId}'`);
    problems.push(...placementProblems(findKind(d.kind), d).map((p) => `${at}/${p}`));
    if (d.kind === 'parking-sensor' && d.spaceId) {
      // Two sensors on one space would count one car twice and fight over its occupancy.
      const other = sensorOfSpace.get(d.spaceId);
      if (other) problems.push(`${at}/spaceId: parking space '${d.spaceId}' already has sensor ${other}`);
      else sensorOfSpace.set(d.spaceId, d.id);
    }
    if (d.devEui) {
      const other = euis.get(d.devEui.toUpperCase());
      if (other) problems.push(`${at}/devEui: '${d.devEui}' is already the DevEUI of ${other}`);
      else euis.set(d.devEui.toUpperCase(), d.id);
    }
  });
  inv.integrations.forEach((x, i) => unique(x.id, `/integrations/${i}`));
  problems.push(...checkLanes(inv, gateConfigs));
  return problems;
}

/**
 * Gate lanes: a listed camera is a smart-gate device of that gate, in one lane only; and a Vzenith camera, whose
 * push does not say which way a car goes, can be told its lane's direction.
 */
function checkLanes(inv: Inventory, gates: Map<string, { gate: GateConfig; at: string }>): string[] {
  const problems: string[] = [];
  const devices = new Map(inv.devices.map((d) => [d.id, d]));
  for (const { gate, at } of gates.values()) {
    const seen = new Map<string, string>();
    (gate.lanes ?? []).forEach((l, k) => {
      if (!isLaneObject(l)) return;
      (l.cameras ?? []).forEach((cam, m) => {
        const where = `${at}/lanes/${k}/cameras/${m}`;
        const d = devices.get(cam);
        if (!d || d.kind !== 'smart-gate' || d.gateId !== gate.id) problems.push(`${where}: '${cam}' is not a camera (smart-gate device) of gate '${gate.id}'`);
        if (seen.has(cam)) problems.push(`${where}: '${cam}' already watches ${seen.get(cam)}`);
        else seen.set(cam, `${at}/lanes/${k}`);
      });
    });
  }
  inv.devices.forEach((d, i) => {
    if (d.kind !== 'smart-gate' || d.format !== 'vzenith' || !d.gateId) return;
    const g = gates.get(d.gateId);
    if (g && !laneOfCamera(g.gate, d.id))
      problems.push(`/devices/${i}: a vzenith camera's direction comes from its lane: list '${d.id}' in the cameras of a lane of gate '${d.gateId}' (${g.at}/lanes)`);
  });
  return problems;
}

export class Directory {
  readonly communities = new Map<string, Inventory>();
  readonly devices = new Map<string, DeviceInfo>();
  readonly households = new Map<string, HouseholdInfo>();
  readonly spaces = new Map<string, SpaceInfo>();
  readonly lots = new Map<string, LotInfo>();
  readonly gates = new Map<string, { id: string; name: string; lotId: string; gridId: string; communityId: string; config: GateConfig }>();
  readonly people = new Map<string, PersonInfo>();
  readonly integrations = new Map<string, IntegrationInfo>();
  /** Devices by upper-case DevEUI. */
  readonly devicesByEui = new Map<string, DeviceInfo>();
  readonly buildings = new Map<string, { id: string; name: string; gridId: string; communityId: string }>();

  constructor(communities: readonly Inventory[]) {
    for (const c of communities) this.addCommunity(c);
  }

  private addCommunity(c: Inventory): void {
    this.communities.set(c.id, c);
    for (const b of c.buildings) {
      this.buildings.set(b.id, { id: b.id, name: b.name, gridId: b.gridId, communityId: c.id });
      for (const h of b.households) {
        this.households.set(h.id, {
          id: h.id,
          room: h.room,
          communityId: c.id,
          gridId: b.gridId,
          buildingId: b.id,
          buildingName: b.name,
          loneElder: h.loneElder ?? false,
          displayName: h.displayName,
          careContacts: [...(h.careContacts ?? [])],
          destinations: [...(h.destinations ?? [])],
          plates: [...(h.plates ?? [])],
          rules: h.rules as Record<string, unknown> | undefined,
        });
      }
    }
    for (const lot of c.parkingLots) {
      this.lots.set(lot.id, {
        id: lot.id,
        name: lot.name,
        capacity: lot.capacity,
        gridId: lot.gridId,
        communityId: c.id,
        spaceIds: lot.spaces.map((s) => s.id),
        gateIds: lot.gates.map((g) => g.id),
      });
      for (const s of lot.spaces)
        this.spaces.set(s.id, { id: s.id, zone: s.zone, label: s.label, lotId: lot.id, gridId: lot.gridId, communityId: c.id });
      for (const g of lot.gates) this.gates.set(g.id, { id: g.id, name: g.name, lotId: lot.id, gridId: lot.gridId, communityId: c.id, config: g });
    }
    for (const p of c.people) this.people.set(p.id, { ...p, communityId: c.id, roles: [...p.roles], grids: [...(p.grids ?? [])] });
    for (const d of c.devices) this.addDevice({ ...d, communityId: c.id });
    for (const x of c.integrations ?? [])
      this.integrations.set(x.id, { id: x.id, type: x.type, communityId: c.id, secretHash: x.secretHash, header: (x.header ?? 'authorization').toLowerCase() });
  }

  /** Where a device is placed decides its micro-grid; a device placed nowhere belongs to the first grid. */
  placeOf(d: { communityId: string; householdId?: string; spaceId?: string; gateId?: string; buildingId?: string }): {
    gridId: string;
    buildingId?: string;
    lotId?: string;
  } {
    const community = this.communities.get(d.communityId);
    if (!community) throw new Error(`unknown community ${d.communityId}`);
    const household = d.householdId ? this.households.get(d.householdId) : undefined;
    const space = d.spaceId ? this.spaces.get(d.spaceId) : undefined;
    const gate = d.gateId ? this.gates.get(d.gateId) : undefined;
    const building = d.buildingId ? this.buildings.get(d.buildingId) : undefined;
    return {
      gridId: household?.gridId ?? space?.gridId ?? gate?.gridId ?? building?.gridId ?? community.grids[0].id,
      buildingId: household?.buildingId ?? d.buildingId,
      lotId: space?.lotId ?? gate?.lotId,
    };
  }

  addDevice(d: {
    id: string;
    kind: DeviceKindName;
    communityId: string;
    format?: string;
    householdId?: string;
    spaceId?: string;
    gateId?: string;
    buildingId?: string;
    area?: string;
    secretHash?: string;
    heartbeatSeconds?: number;
    devEui?: string;
  }): DeviceInfo {
    const place = this.placeOf(d);
    const info: DeviceInfo = {
      id: d.id,
      kind: d.kind,
      format: d.format ?? 'canonical',
      communityId: d.communityId,
      ...place,
      householdId: d.householdId,
      spaceId: d.spaceId,
      gateId: d.gateId,
      area: d.area,
      secretHash: d.secretHash,
      heartbeatSeconds: d.heartbeatSeconds,
      devEui: d.devEui?.toUpperCase(),
      lane: d.kind === 'smart-gate' && d.gateId ? laneOfCamera(this.gates.get(d.gateId)?.config, d.id) : undefined,
      uplinkTopic: `iot/${d.communityId}/${d.id}/up`,
    };
    this.devices.set(info.id, info);
    if (info.devEui) this.devicesByEui.set(info.devEui, info);
    return info;
  }

  /**
   * Grids a person serves; an admin with no grids serves every grid of their own community (never another's:
   * only the platform operator's admin token is above communities). Never 'all' for a person; the type keeps
   * callers that also handle the platform operator simple.
   */
  gridsOf(person: PersonInfo): Set<string> | 'all' {
    if (person.roles.includes('admin') && person.grids.length === 0)
      return new Set(this.communities.get(person.communityId)?.grids.map((g) => g.id) ?? []);
    return new Set(person.grids);
  }
}
