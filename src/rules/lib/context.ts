// The places a rule needs to judge one subject and title its alert: the device and where it is (household,
// parking space, lot, gate), built from the inventory. For a reading, the reading's device; for a deadline or
// a visitor registration, whatever the subject names.
import type { DeviceInfo, Directory } from '../../config/inventory.js';
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
  /** Places built for readings of a device (see places()); null = the subject is not in the inventory. */
  private byDevice = new WeakMap<DeviceInfo, { device?: Places | null; plate?: Places | null; household?: Map<string, Places | null>; lot?: Map<string, Places | null> }>();

  constructor(
    private readonly directory: Directory,
    kinds: readonly DeviceKindDef[],
    private readonly states: DeviceStates,
    private readonly plateLists: PlateSource,
  ) {
    this.kinds = new Map(kinds.map((k) => [k.kind, { label: k.label, heartbeatSeconds: k.heartbeatSeconds, periodic: k.periodic ?? false, routineTypes: k.routineTypes }]));
  }

  /**
   * Places for `subject` of a rule of `type`; undefined when the subject is no longer in the inventory.
   *
   * For a reading, the places are built once per device (and subject, for household and lot rules) and kept
   * with its DeviceInfo: the inventory's places do not change while the service runs, and a device provisioned
   * again is a new DeviceInfo object (Directory.addDevice), so it gets new places. Only `deviceState` is looked
   * up for every call (it is set on the kept object: a caller uses it before asking again).
   */
  places(type: SubjectType, subject: string, reading?: Reading): Places | undefined {
    const device = reading ? this.directory.devices.get(reading.deviceId) : type === 'device' ? this.directory.devices.get(subject) : undefined;
    if (!reading || !device) return this.build(type, subject, device);
    let kept = this.byDevice.get(device);
    if (!kept) this.byDevice.set(device, (kept = {}));
    let p: Places | null | undefined;
    // A device or plate rule's places for a reading depend on the reading's device only; a household's or a
    // lot's on the subject too.
    if (type === 'device' || type === 'plate') {
      p = kept[type];
      if (p === undefined) p = kept[type] = this.build(type, subject, device) ?? null;
    } else {
      const bySubject = (kept[type] ??= new Map());
      p = bySubject.get(subject);
      if (p === undefined) {
        p = this.build(type, subject, device) ?? null;
        if (bySubject.size < 16) bySubject.set(subject, p);
      }
    }
    if (!p) return undefined;
    p.deviceState = this.states.get(device.id);
    return p;
  }

  private build(type: SubjectType, subject: string, device: DeviceInfo | undefined): Places | undefined {
    const d = this.directory;
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

  /** Build every places object afresh from here on (the rule settings changed: the runner keeps config with them). */
  forget(): void {
    this.byDevice = new WeakMap();
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
