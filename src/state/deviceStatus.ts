// Every device's status (正常 / 迟报 / 离线, src/state/cadence.ts) as GET /api/devices, the console, the big
// screen and the daily digest show it: one object built once in the app, so they cannot disagree.
import type { Directory, DeviceInfo } from '../config/inventory.js';
import type { DeviceKindDef } from '../ingest/types.js';
import type { DeviceStates } from './deviceState.js';
import { cadenceRefOf, heardAtOf, statusAt, DEFAULT_CADENCE_SETTINGS, type CadenceSettings, type DeviceStatus, type StatusView } from './cadence.js';

export type StatusCounts = Record<DeviceStatus, number>;

export class DeviceStatusBoard {
  private readonly kinds: Map<string, DeviceKindDef>;

  constructor(
    private readonly directory: Directory,
    private readonly states: DeviceStates,
    kinds: readonly DeviceKindDef[],
    /** device_offline's settings at the device's place (RuleEngine.deviceRuleConfig); default the rule's defaults. */
    private readonly settingsFor: (d: DeviceInfo) => CadenceSettings | undefined = () => undefined,
  ) {
    this.kinds = new Map(kinds.map((k) => [k.kind as string, k]));
  }

  /** One device's status at `now`, what it is judged on, and when it was last heard. */
  of(d: DeviceInfo, now: number): StatusView & { heardAt: number | null } {
    const s = this.states.get(d.id);
    const ref = cadenceRefOf(d, this.kinds.get(d.kind)) ?? { heartbeatSeconds: 86_400, periodic: false };
    const heardAt = heardAtOf(s);
    return { ...statusAt(heardAt, s?.cadence, ref, now, this.settingsFor(d) ?? DEFAULT_CADENCE_SETTINGS), heardAt };
  }

  /** How many devices of a community (and some of its grids) are ok, late and offline at `now`. */
  counts(communityId: string, grids: Set<string> | 'all', now: number): StatusCounts {
    const out: StatusCounts = { ok: 0, late: 0, offline: 0 };
    for (const d of this.directory.devices.values())
      if (d.communityId === communityId && (grids === 'all' || grids.has(d.gridId))) out[this.of(d, now).status]++;
    return out;
  }
}
