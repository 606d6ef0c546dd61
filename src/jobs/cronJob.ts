// One scheduled job as a start/stop unit (STYLE.md 1): node-cron decides when, on the wall clock; what the
// job computes takes "now" from the injected clock (src/clock/clock.ts), so on the event clock a digest
// covers the replayed day. A failing run is logged and never stops the service or the next run.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';

export interface CronJobOptions {
  name: string;
  /** node-cron expression (5 or 6 fields). */
  cron: string;
  /** Where the expression came from in the settings, for the start-up error. */
  path: string;
  /** IANA time zone the expression is read in; absent = the process's. */
  timezone?: string;
  log: Logger;
  run(): unknown | Promise<unknown>;
}

/**
 * The IANA zone for a whole-hour UTC offset: Etc/GMT-8 is UTC+8 (POSIX signs are inverted). Half-hour offsets
 * have no Etc zone: the process's own zone is used then (the caller logs it).
 */
export function zoneForOffset(utcOffsetMinutes: number): string | undefined {
  if (utcOffsetMinutes % 60 !== 0) return undefined;
  const h = utcOffsetMinutes / 60;
  return h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}

export class CronJob {
  private task?: ScheduledTask;
  private running?: Promise<void>;

  constructor(readonly opts: CronJobOptions) {}

  /** Throws ConfigError on a bad expression (start-up stops with its settings path). */
  start(): void {
    const o = this.opts;
    if (!cron.validate(o.cron)) throw new ConfigError([`settings: ${o.path}: '${o.cron}' is not a cron expression`]);
    const log = o.log;
    this.task = cron.schedule(o.cron, () => this.runNow(), {
      name: o.name,
      timezone: o.timezone,
      noOverlap: true,
      unref: true,
      logger: {
        info: (m) => log.debug({ job: o.name }, m),
        warn: (m) => log.warn({ job: o.name }, m),
        error: (m, err) => log.error({ job: o.name, err: err ?? m }, 'cron error'),
        debug: (m) => log.trace({ job: o.name }, String(m)),
      },
    });
    log.debug({ job: o.name, cron: o.cron, timezone: o.timezone, next: this.task.getNextRun()?.toISOString() }, 'job scheduled');
  }

  stop(): void {
    void this.task?.destroy();
    this.task = undefined;
  }

  /** Run once now (the schedule calls this; tests may too). Never throws. */
  runNow(): Promise<void> {
    if (this.running) return this.running; // one run at a time (a slow digest and the next tick)
    const o = this.opts;
    const run = (async () => {
      const t0 = performance.now();
      try {
        const result = await o.run();
        o.log.info({ job: o.name, result, ms: Math.round(performance.now() - t0) }, 'job done');
      } catch (err) {
        o.log.error({ job: o.name, err }, 'job failed; the service goes on');
      }
    })();
    const guarded: Promise<void> = run.finally(() => {
      if (this.running === guarded) this.running = undefined;
    });
    this.running = guarded;
    return guarded;
  }
}
