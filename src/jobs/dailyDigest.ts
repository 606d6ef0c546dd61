// The daily digest job: for each community, the residents' and owners' committee members (居委 / 业委会) get
// the digest of their own micro-grids over the last 24 h (src/jobs/digest.ts), queued as one notice through the
// notifier (quiet hours honoured). Without a notifier the digests are still built (and logged), which is what
// GET /api/reports/daily serves anyway.
import type { Store } from '../store/store.js';
import type { Directory, PersonInfo } from '../config/inventory.js';
import type { Role } from '../config/schema.js';
import type { Clock } from '../clock/clock.js';
import type { Notice } from '../notify/channels/types.js';
import type { Digest } from './digest.js';
import { digestNotice } from './digest.js';
import { loadDigest } from './digestData.js';
import type { DeviceStatusBoard } from '../state/deviceStatus.js';

/** What the digest needs of src/notify (Notifier.notifyPeople). */
export interface PeopleNotifier {
  /** Queue a notice to these people's destinations (quiet hours honoured); the rows queued. */
  notifyPeople(personIds: string[], notice: Notice, now: number): number;
}

export const COMMITTEE_ROLES: readonly Role[] = ['residents_committee', 'owners_committee'];
const DAY = 86_400_000;

export interface DailyDigestDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  utcOffsetMinutes: number;
  notifier?: PeopleNotifier;
  /** Devices by status (src/state/deviceStatus.ts); absent = the digest has no status line. */
  deviceStatus?: Pick<DeviceStatusBoard, 'counts'>;
}

export interface DigestRun {
  digests: Digest[];
  /** Outbox rows queued (0 without a notifier). */
  queued: number;
}

/** Group committee members by the grids they see, so each distinct scope is built once. */
function committees(directory: Directory, communityId: string): Map<string, { grids: Set<string> | 'all'; people: PersonInfo[] }> {
  const out = new Map<string, { grids: Set<string> | 'all'; people: PersonInfo[] }>();
  for (const p of directory.people.values()) {
    if (p.communityId !== communityId || !p.roles.some((r) => COMMITTEE_ROLES.includes(r))) continue;
    const grids = directory.gridsOf(p);
    const key = grids === 'all' || p.grids.length === 0 ? '*' : [...grids].sort().join(',');
    const entry = out.get(key) ?? { grids: key === '*' ? 'all' : grids, people: [] };
    entry.people.push(p);
    out.set(key, entry);
  }
  return out;
}

/** Build (and with a notifier, queue) every committee's digest of the 24 h up to the clock's now. */
export async function runDailyDigest(deps: DailyDigestDeps): Promise<DigestRun> {
  const now = deps.clock.now();
  const digests: Digest[] = [];
  let queued = 0;
  for (const community of deps.directory.communities.values()) {
    for (const { grids, people } of committees(deps.directory, community.id).values()) {
      const devices = deps.deviceStatus?.counts(community.id, grids, now);
      const digest = await loadDigest(deps.store, { community, grids, from: now - DAY, to: now, utcOffsetMinutes: deps.utcOffsetMinutes, devices });
      digests.push(digest);
      const notifier = deps.notifier;
      if (!notifier) continue;
      const notice = digestNotice(digest, deps.utcOffsetMinutes);
      queued += deps.store.transaction(() => notifier.notifyPeople(people.map((p) => p.id), notice, now));
      await deps.store.durable();
    }
  }
  return { digests, queued };
}
