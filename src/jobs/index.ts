// The scheduled jobs (DESIGN.md "jobs (node-cron): care rounds, digests, retention"). Care rounds are not
// here: they are deadlines of the missed_check rule in the engine's scheduler, so they follow the event clock
// and survive restarts. These run on the wall clock's schedule and compute with the injected clock's now.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Directory } from '../config/inventory.js';
import type { Clock } from '../clock/clock.js';
import { CronJob, zoneForOffset } from './cronJob.js';
import { runDailyDigest, type PeopleNotifier, type DailyDigestDeps } from './dailyDigest.js';
import { runRetention } from './retention.js';

export interface JobsDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  log: Logger;
  settings: {
    utcOffsetMinutes: number;
    digest: { enabled?: boolean; cron?: string };
    rejectionsMax: number;
  };
  /** Queues the digest; absent = digests are built and logged only. */
  notifier?: PeopleNotifier;
  /** Devices by status for the digest's 设备 line. */
  deviceStatus?: DailyDigestDeps['deviceStatus'];
}

/** Retention runs at 03:30 local, away from the morning digest and the evening round. */
export const RETENTION_CRON = '30 3 * * *';

export class Jobs {
  readonly digest?: CronJob;
  readonly retention: CronJob;

  constructor(private readonly deps: JobsDeps) {
    const s = deps.settings;
    const timezone = zoneForOffset(s.utcOffsetMinutes);
    if (s.digest.enabled !== false)
      this.digest = new CronJob({
        name: 'daily-digest',
        cron: s.digest.cron ?? '0 8 * * *',
        path: '/notify/digest/cron',
        timezone,
        log: deps.log,
        run: async () => {
          const r = await runDailyDigest({ store: deps.store, directory: deps.directory, clock: deps.clock, utcOffsetMinutes: s.utcOffsetMinutes, notifier: deps.notifier, deviceStatus: deps.deviceStatus });
          return { digests: r.digests.length, queued: r.queued, notifier: !!deps.notifier };
        },
      });
    this.retention = new CronJob({
      name: 'retention',
      cron: RETENTION_CRON,
      path: '(retention)',
      timezone,
      log: deps.log,
      run: () => runRetention({ store: deps.store, now: deps.clock.now(), rejectionsMax: s.rejectionsMax }),
    });
  }

  get all(): CronJob[] {
    return [this.digest, this.retention].filter((j): j is CronJob => !!j);
  }

  start(): void {
    if (zoneForOffset(this.deps.settings.utcOffsetMinutes) === undefined)
      this.deps.log.warn({ utcOffsetMinutes: this.deps.settings.utcOffsetMinutes }, 'no whole-hour time zone for the offset; jobs follow the process time zone');
    for (const j of this.all) j.start();
  }

  stop(): void {
    for (const j of this.all) j.stop();
  }
}
