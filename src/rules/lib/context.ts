// The places a rule needs to judge one subject and title its alert: the device and where it is (household,
// parking space, lot, gate), built from the inventory. For a reading, the reading's device; for a deadline or
// a visitor registration, whatever the subject names.
import type { Directory } from '../../config/inventory.js';
import type { DeviceKindDef } from '../../ingest/types.js';
import type { DeviceStates } from '../../state/deviceState.js';
import type { Reading } from '../../ingest/reading.js';
import type { AlertPlace } from '../../alerts/types.js';
import type { RuleContext, SubjectType } from './types.js';
import { whereOf } from './place.js';

/** The community's plate lists (src/alerts/visitors.ts keeps them). */
export interface PlateSource {
  isResident(communityId: string, plate: string): boolean;
  visitorUntil(communityId: string, plate: string): number | undefined;
}

export type Places = Omit<RuleContext<unknown>, 'now' | 'subject' | 'config' | 'alert' | 'deadline' | 'care'> & {
  /** community|grid|household: which rule settings apply (RuleSettings caches by it). */
  levelKey: string;
};

export class ContextBuilder {
  private readonly kinds: Map<string, { label: string; heartbeatSeconds: number; periodic: boolean; routineTypes: readonly string[] }>;
  private readonly plateViews = new Map<string, RuleContext<unknown>['plates']>();

  constructor(
    private readonly directory: Directory,
    kinds: readonly DeviceKindDef[],
    private readonly states: DeviceStates,
    private readonly plateLists: PlateSource,
  ) {
    this.kinds = new Map(kinds.map((k) => [k.kind, { label: k.label, heartbeatSeconds: k.heartbeatSeconds, periodic: k.periodic ?? false, routineTypes: k.routineTypes }]));
  }

  /** Places for `subject` of a rule of `type`; undefined when the subject is no longer in the inventory. */
  places(type: SubjectType, subject: string, reading?: Reading): Places | undefined {
    const d = this.directory;
    const device = reading ? d.devices.get(reading.deviceId) : type === 'device' ? d.devices.get(subject) : undefined;
    if (type === 'device' && !device) return undefined;
    const household = type === 'household' ? d.households.get(subject) : device?.householdId ? d.households.get(device.householdId) : undefined;
    if (type === 'household' && !household) return undefined;
    const space = device?.spaceId ? d.spaces.get(device.spaceId) : undefined;
    const gate = device?.gateId ? d.gates.get(device.gateId) : undefined;
    const lot = type === 'lot' ? d.lots.get(subject) : device?.lotId ? d.lots.get(device.lotId) : undefined;
    if (type === 'lot' && !lot) return undefined;

    let place: AlertPlace;
    if (type === 'lot') place = { communityId: lot!.communityId, gridId: lot!.gridId };
    // A household's alert (missed_check) is about the flat, whichever of its devices (if any) spoke.
    else if (type === 'household') place = { communityId: household!.communityId, gridId: household!.gridId, householdId: household!.id };
    else if (device) {
      place = { communityId: device.communityId, gridId: device.gridId, deviceId: device.id };
      if (device.householdId) place.householdId = device.householdId;
      if (device.spaceId) place.spaceId = device.spaceId;
    } else {
      // A plate subject without a reading (deadline, visitor registration): the community's first grid until
      // the rule names the lot's.
      const communityId = subject.slice(0, subject.indexOf('/'));
      const community = d.communities.get(communityId);
      if (!community) return undefined;
      place = { communityId, gridId: community.grids[0].id };
    }
    const communityId = place.communityId;
    const building = device?.buildingId ? d.buildings.get(device.buildingId) : undefined;
    return {
      levelKey: `${communityId}|${place.gridId}|${household?.id ?? ''}`,
      place,
      device,
      deviceState: device ? this.states.get(device.id) : undefined,
      kind: device ? this.kinds.get(device.kind) : undefined,
      household,
      space,
      lot,
      gate,
      where: type === 'lot' ? lot!.name : whereOf({ device, household, space, gate, lot, buildingName: building?.name }),
      plates: this.platesOf(communityId),
    };
  }

  private platesOf(communityId: string): RuleContext<unknown>['plates'] {
    let view = this.plateViews.get(communityId);
    if (!view) {
      const lists = this.plateLists;
      view = {
        isResident: (plate) => lists.isResident(communityId, plate),
        visitorUntil: (plate) => lists.visitorUntil(communityId, plate),
      };
      this.plateViews.set(communityId, view);
    }
    return view;
  }
}
