// The telemetry sink: where accepted readings go for history, and where the history API reads them back.
// Two implementations: SQLite (the default; rows written inside the processing transaction, which is the
// cheapest batching there is) and InfluxDB 2 (production; points queued in the store inside the processing
// transaction and written to the server in the background). See docs/telemetry.md.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { DeviceInfo, Directory } from '../config/inventory.js';
import type { Clock } from '../clock/clock.js';
import type { EventBus } from '../bus.js';
import type { Metrics } from '../metrics.js';
import type { Reading } from '../ingest/reading.js';
import type { ReadingHandler } from '../ingest/pipeline.js';
import type { Settings } from '../config/schema.js';

export type SinkName = 'sqlite' | 'influx' | 'none';

/** What the history API can ask for: water use (litres), parking occupancy (fraction of time), battery (%). */
export type HistoryField = 'water' | 'occupancy' | 'battery';

export interface HistoryQuery {
  device: DeviceInfo;
  field: HistoryField;
  /** Epoch ms; buckets are [from + i·every, from + (i+1)·every), so `from` also sets their alignment. */
  from: number;
  to: number;
  every: number;
  /** Current time (from the clock): occupancy is not extrapolated past it. */
  now: number;
}

export interface HistoryBucket {
  start: number;
  /** null when nothing covers the bucket: no data is not the same as no use (DESIGN.md). */
  value: number | null;
}

export interface HistoryResult {
  buckets: HistoryBucket[];
  /** Water: litres from the meter's own intervals, from rises of its register, or neither. */
  source?: 'intervals' | 'register' | 'none';
  /** Occupancy: the state changes inside [from, to). */
  changes?: Array<{ at: number; occupied: boolean }>;
}

export interface TelemetrySink {
  readonly name: SinkName;
  /**
   * What ingest runs for every accepted reading, inside its transaction (the app adds it to ingest's handlers;
   * absent = the sink keeps no history from readings).
   */
  readonly handler?: ReadingHandler;
  /** Start timers and subscriptions, replay anything left from the last run. */
  start(): Promise<void>;
  /** Flush what is buffered (to the server or to disk) and detach. */
  stop(): Promise<void>;
  /** Take readings for history, inside the caller's transaction (ingest's sinks do this as its handlers). */
  write(readings: readonly Reading[]): void;
  query(q: HistoryQuery): Promise<HistoryResult>;
}

export type TelemetrySettings = Settings['telemetry'];

export interface TelemetryDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  dataDir: string;
  settings: TelemetrySettings;
  /** Failpoint telemetry.afterCommit: queue, but do not send (crash tests). */
  hold?: () => boolean;
}
