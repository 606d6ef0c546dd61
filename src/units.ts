// Units: the parts of the service that run (telemetry, notify, rules, ingest, api, broker, …), started one after
// another in the order of one list and stopped in the reverse order. The list itself is in src/app.ts
// (`App.units`); this file only knows how to walk it.
import type { Logger } from 'pino';

export interface Unit {
  readonly name: string;
  /** Take what the unit needs (ports, timers, connections). May throw; the units started before it are stopped. */
  start(): void | Promise<void>;
  /** Let go of it. Also called on a unit whose start threw half-way, so it must cope with a partial start. */
  stop(): void | Promise<void>;
}

/** Start-up failed in one unit: the units before it were stopped again. `cause` is what the unit threw. */
export class UnitStartError extends Error {
  /** The cause's code (EADDRINUSE, …), if it had one. */
  readonly code?: string;
  constructor(
    readonly unit: string,
    override readonly cause: unknown,
  ) {
    const c = cause as { message?: string; code?: unknown } | undefined;
    super(`${unit} failed to start: ${c?.message ?? String(cause)}`);
    this.name = 'UnitStartError';
    if (typeof c?.code === 'string') this.code = c.code;
  }
}

export class Units {
  private readonly started: Unit[] = [];

  constructor(
    readonly list: readonly Unit[],
    private readonly log: Logger,
  ) {}

  get names(): string[] {
    return this.list.map((u) => u.name);
  }

  /** Start each unit in order. If one throws, it and every unit started before it are stopped (in reverse). */
  async start(): Promise<void> {
    for (const u of this.list) {
      try {
        await u.start();
      } catch (err) {
        this.log.error({ err, unit: u.name, started: this.started.map((s) => s.name) }, 'a unit failed to start; stopping the units already started');
        await this.stopOne(u);
        await this.stop();
        throw new UnitStartError(u.name, err);
      }
      this.started.push(u);
      this.log.debug({ unit: u.name }, 'unit started');
    }
  }

  /** Stop the started units, last started first. A unit whose stop throws is logged and the rest still stop. */
  async stop(): Promise<void> {
    for (let u = this.started.pop(); u; u = this.started.pop()) {
      await this.stopOne(u);
      this.log.debug({ unit: u.name }, 'unit stopped');
    }
  }

  private async stopOne(u: Unit): Promise<void> {
    try {
      await u.stop();
    } catch (err) {
      this.log.error({ err, unit: u.name }, 'stop failed');
    }
  }
}
