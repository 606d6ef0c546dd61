// The default telemetry sink: one row per accepted reading in the `readings` table, written by a
// ReadingHandler inside the ingest processing transaction (so it rides that batch's commit and costs no
// commit of its own). Rows older than settings.telemetry.retentionDays are deleted by an hourly job, in
// chunks so a long backlog never holds the write lock for long.
import type { Reading } from '../ingest/reading.js';
import type { ReadingHandler } from '../ingest/pipeline.js';
import type { HistoryQuery, HistoryResult, TelemetryDeps, TelemetrySink } from './sink.js';
import { intervalsOf, lastPerBucket, occupancy, waterFromIntervals, waterFromRegister, emptyBuckets, type WaterInterval } from './history.js';

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;
const SWEEP_CHUNK = 5000;
/** NB meters upload their intervals in batches once or twice a day, so a reading carries intervals that
 * ended up to a day before it; two days of readings after `to` are searched for intervals ending inside. */
export const INTERVAL_LOOKAHEAD_MS = 2 * DAY_MS;

export class SqliteSink implements TelemetrySink {
  readonly name = 'sqlite' as const;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  /** One row per reading, inside the ingest transaction (the app adds this to ingest's handlers). */
  readonly handler: ReadingHandler = {
    name: 'telemetry.sqlite',
    handle: (r) => this.writeOne(r),
    // Counted once committed, once per batch (not an inc() per reading on the bus).
    committed: (readings) => {
      if (readings.length) this.written.inc(readings.length);
    },
  };
  private written!: ReturnType<TelemetryDeps['metrics']['telemetryPoints']['labels']>;

  constructor(private readonly deps: TelemetryDeps) {}

  async start(): Promise<void> {
    const { metrics, bus } = this.deps;
    this.written = metrics.telemetryPoints.labels('sqlite', 'written');
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
    setImmediate(() => void this.sweep());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deps.bus.removeOwner('telemetry.sqlite');
    await this.sweeping;
  }

  /** Call inside a transaction (the ingest pipeline does, through its handler). */
  write(readings: readonly Reading[]): void {
    for (const r of readings) this.writeOne(r);
  }

  private writeOne(r: Reading): void {
    this.deps.store.readings.add(r);
  }

  /** Delete rows past the retention window (event time); resolves to the number deleted. */
  sweep(): Promise<number> {
    if (this.sweeping) return this.sweeping;
    const run = async () => {
      const { store, clock, settings, log } = this.deps;
      const cutoff = clock.now() - settings.retentionDays * DAY_MS;
      let total = 0;
      for (;;) {
        if (!store.isOpen) break;
        const n = await store.readings.sweep(cutoff, SWEEP_CHUNK);
        total += n;
        if (n < SWEEP_CHUNK) break;
        await new Promise((r) => setImmediate(r)); // let ingest batches in between chunks
      }
      if (total) log.info({ deleted: total, before: new Date(cutoff).toISOString() }, 'telemetry retention: old readings deleted');
      return total;
    };
    this.sweeping = run()
      .catch((err) => {
        this.deps.log.error({ err }, 'telemetry retention sweep failed');
        return 0;
      })
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  async query(q: HistoryQuery): Promise<HistoryResult> {
    const { readings } = this.deps.store;
    const deviceId = q.device.id;
    if (q.field === 'water') {
      const rows = await readings.field<unknown>({ deviceId, field: 'intervals', from: q.from, to: q.to + INTERVAL_LOOKAHEAD_MS, type: 'reading' });
      const intervals: WaterInterval[] = [];
      for (const row of rows) intervals.push(...intervalsOf({ intervals: row.value }));
      const covered = intervals.some((iv) => iv.end > q.from && iv.end <= q.to);
      if (covered) return { source: 'intervals', buckets: waterFromIntervals(intervals, q.from, q.to, q.every) };
      const register = { deviceId, field: 'totalM3', type: 'reading' };
      const before = await readings.fieldBefore<number>({ ...register, before: q.from });
      const inside = await readings.field<number>({ ...register, from: q.from, to: q.to });
      const samples = (before ? [before, ...inside] : inside).map((r) => ({ ts: r.ts, totalM3: r.value }));
      if (samples.length < 2) return { source: 'none', buckets: emptyBuckets(q.from, q.to, q.every) };
      return { source: 'register', buckets: waterFromRegister(samples, q.from, q.to, q.every) };
    }
    if (q.field === 'occupancy') {
      const before = await readings.fieldBefore<unknown>({ deviceId, field: 'occupied', before: q.from });
      const inside = await readings.field<unknown>({ deviceId, field: 'occupied', from: q.from, to: q.to });
      const reports = inside.map((r) => ({ at: r.ts, occupied: r.value === true }));
      return occupancy(before ? before.value === true : null, reports, q.from, q.to, q.every, q.now);
    }
    const rows = await readings.field<number>({ deviceId, field: 'batteryPct', from: q.from, to: q.to });
    return { buckets: lastPerBucket(rows, q.from, q.to, q.every) };
  }
}
