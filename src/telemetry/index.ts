// Picks the sink settings.telemetry.sink names. `none` keeps no history (the history API says so).
import { AppError } from '../errors.js';
import type { TelemetryDeps, TelemetrySink } from './sink.js';
import { SqliteSink } from './sqlite.js';
import { InfluxSink } from './influx.js';

export class NoTelemetry implements TelemetrySink {
  readonly name = 'none' as const;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  write(): void {}
  async query(): Promise<never> {
    throw new AppError('SB_TELEMETRY_DISABLED', 'no telemetry history is kept (settings telemetry.sink is none)');
  }
}

/** The sink `current()` returns at each call: the app's, which becomes NoTelemetry if the configured one could not start. */
export function currentSink(current: () => TelemetrySink): Pick<TelemetrySink, 'name' | 'query'> {
  return {
    get name() {
      return current().name;
    },
    query: (q) => current().query(q),
  };
}

export function createTelemetrySink(deps: TelemetryDeps): TelemetrySink {
  switch (deps.settings.sink) {
    case 'influx':
      return new InfluxSink(deps);
    case 'none':
      return new NoTelemetry();
    default:
      return new SqliteSink(deps);
  }
}

export type { TelemetrySink, HistoryQuery, HistoryResult, HistoryField } from './sink.js';
