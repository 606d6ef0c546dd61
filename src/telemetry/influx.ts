// The InfluxDB 2 telemetry sink. Exactly once across a crash (issue 11): a reading's points are encoded to
// line protocol and written to the `telemetry_queue` table inside the very transaction that processes the
// reading (this sink is a ReadingHandler), so a reading that committed has its points committed too, and one
// that rolled back has none. A single pump sends the queue, oldest first, in batches (batchSize points, or
// whatever is queued every flushIntervalMs), one request at a time, and deletes what the server took. While
// the server is away (connection refused, timeout, 5xx, 429, 401/403/404 while an operator fixes the token or
// bucket) the points simply stay queued in the store, bounded by spoolMaxBytes, and are sent in order once it
// answers again — also after a restart. If the process dies between the server taking a batch and the delete,
// that batch is sent again, which InfluxDB takes as an overwrite of the same points (same measurement, tag
// set and time), not as new ones.
//
// Why not the client's WriteApi: it keeps its own retry buffer in memory, retries batches out of order with
// jitter and drops the oldest lines when that buffer is full, and a point is lost with the process. Order and
// "none lost" need one queue, so the writes are plain `POST /api/v2/write?org&bucket&precision=ms` with
// `Authorization: Token …` (https://docs.influxdata.com/influxdb/v2/api/#operation/PostWrite), one at a time,
// as the InfluxDB docs advise: "To ensure that InfluxDB handles writes in the order you request them, wait for
// the response before you send the next request" (docs.influxdata.com/influxdb/v2/write-data/troubleshoot/).
// The client library is used for what it does well: line protocol escaping and Flux queries.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InfluxDB, type QueryApi } from '@influxdata/influxdb-client';
import type { Reading } from '../ingest/reading.js';
import type { ReadingHandler } from '../ingest/pipeline.js';
import type { HistoryQuery, HistoryResult, TelemetryDeps, TelemetrySink } from './sink.js';
import { LineEncoder, alertLine, lotLine, measurementOf, type AlertPoint, type LotPoint } from './lineProtocol.js';
import { Spool } from './spool.js';
import { emptyBuckets, occupancy } from './history.js';
import { batteryQuery, occupancyBeforeQuery, occupancyReportsQuery, waterIntervalsQuery, waterRegisterQuery, type FluxTarget } from './flux.js';

type Outcome = 'written' | 'rejected' | 'retry';

export interface InfluxSettings {
  url: string;
  org: string;
  bucket: string;
  token: string;
  batchSize: number;
  flushIntervalMs: number;
  spoolMaxBytes: number;
  timeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/** Points and bytes (line protocol, one newline each) of some queue rows. */
interface Amount {
  points: number;
  bytes: number;
  dropped: number;
}
const zero = (): Amount => ({ points: 0, bytes: 0, dropped: 0 });

export class InfluxSink implements TelemetrySink {
  readonly name = 'influx' as const;
  private readonly s: InfluxSettings;
  private encoder!: LineEncoder;
  private queryApi!: QueryApi;
  private writeUrl!: string;
  /** Committed and not yet taken by the server. */
  private queued: Amount = zero();
  /** Written by the ingest transaction in progress (counted once it commits), and by its last reading. */
  private inTx: Amount = zero();
  private lastReading: Amount = zero();
  /** Alert and lot points, from bus events after their own commit, queued in one transaction per tick. */
  private extra: string[] = [];
  private extraQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;
  private flushDue = false;
  private stopping = false;
  /** Set while the server is away: when it went, the next retry, the current delay. */
  private outage: { since: number; retryAt: number; delay: number; dropped: number } | null = null;
  private fullLogged = false;
  private count!: Record<'written' | 'queued' | 'spooled' | 'dropped' | 'rejected', { inc(n?: number): void }>;

  /** In the ingest transaction, so a reading and its points commit together (the app adds this to ingest's handlers). */
  readonly handler: ReadingHandler = {
    name: 'telemetry.influx',
    handle: (r) => this.enqueueReading(r),
    rolledBack: () => {
      this.inTx = zero();
    },
    undo: () => {
      this.inTx.points -= this.lastReading.points;
      this.inTx.bytes -= this.lastReading.bytes;
      this.inTx.dropped -= this.lastReading.dropped;
      this.lastReading = zero();
    },
    committed: () => {
      const tx = this.inTx;
      this.inTx = zero();
      this.lastReading = zero();
      this.settle(tx);
    },
  };

  constructor(private readonly deps: TelemetryDeps) {
    this.s = deps.settings.influx as InfluxSettings;
  }

  async start(): Promise<void> {
    const { bus, metrics, directory, log, store } = this.deps;
    const base = this.s.url.replace(/\/+$/, '');
    const q = new URLSearchParams({ org: this.s.org, bucket: this.s.bucket, precision: 'ms' });
    this.writeUrl = `${base}/api/v2/write?${q}`;
    this.queryApi = new InfluxDB({ url: base, token: this.s.token, timeout: this.s.timeoutMs }).getQueryApi(this.s.org);
    this.encoder = new LineEncoder((id) => directory.devices.get(id));
    const c = (result: string) => metrics.telemetryPoints.labels('influx', result);
    this.count = { written: c('written'), queued: c('queued'), spooled: c('spooled'), dropped: c('dropped'), rejected: c('rejected') };
    await this.importLegacySpool();
    const left = store.telemetryQueue.totals();
    this.queued = { points: left.points, bytes: left.bytes, dropped: 0 };
    if (left.entries) log.info({ points: left.points, bytes: left.bytes }, 'telemetry queue holds points from the last run; sending those first');
    this.gauge();
    // Alerts and lot counts go to InfluxDB too, for the Grafana dashboard (deploy/grafana). Subscribed by name:
    // the rule engine owns those events and their full types.
    const on = bus.on.bind(bus) as unknown as (event: string, owner: string, fn: (p: unknown) => void) => void;
    on('alert', 'telemetry.influx', (a) => this.push(alertLine(a as AlertPoint)));
    on('parking', 'telemetry.influx', (l) => this.push(lotLine(l as LotPoint, this.deps.clock.now())));
    this.timer = setInterval(() => this.kick(true), this.s.flushIntervalMs);
    this.timer.unref();
    this.kick(true);
  }

  /** Inside the ingest transaction: the reading's points as one queue row (unless the queue is full). */
  private enqueueReading(r: Reading): void {
    this.lastReading = zero();
    let lines: string[];
    try {
      lines = this.encoder.encode(r, []);
    } catch (err) {
      // Never the reading's fault enough to refuse it (it may be a smoke alarm): logged, and history lacks it.
      this.deps.log.error({ err, deviceId: r.deviceId }, 'telemetry: reading not encodable as line protocol');
      return;
    }
    this.add(lines, this.inTx, this.lastReading);
  }

  /** Queue `lines` as one row if they fit under spoolMaxBytes; the amounts go to `into` (and `also`). */
  private add(lines: string[], into: Amount, also?: Amount): void {
    if (!lines.length) return;
    const text = lines.join('\n');
    const bytes = Buffer.byteLength(text) + 1;
    if (this.queued.bytes + this.inTx.bytes + bytes > this.s.spoolMaxBytes) {
      into.dropped += lines.length;
      if (also) also.dropped += lines.length;
      return;
    }
    this.deps.store.telemetryQueue.add(text, lines.length, bytes);
    into.points += lines.length;
    into.bytes += bytes;
    if (also) {
      also.points += lines.length;
      also.bytes += bytes;
    }
  }

  /** What a transaction queued is now committed: count it and send when a batch is full. */
  private settle(tx: Amount): void {
    this.queued.points += tx.points;
    this.queued.bytes += tx.bytes;
    // `queued`: taken from ingest (then kept in the queue, or dropped because it is full).
    if (tx.points + tx.dropped) this.count.queued.inc(tx.points + tx.dropped);
    if (tx.points && this.outage) this.count.spooled.inc(tx.points);
    if (tx.dropped) {
      this.count.dropped.inc(tx.dropped);
      if (this.outage) this.outage.dropped += tx.dropped;
      if (!this.fullLogged) {
        this.fullLogged = true;
        this.deps.log.error({ maxBytes: this.s.spoolMaxBytes }, 'telemetry queue is full; new points are dropped until the server takes some');
      }
    }
    this.gauge();
    if (this.queued.points >= this.s.batchSize) this.kick(false);
  }

  private push(line: string | null): void {
    if (line === null || this.stopping) return;
    this.extra.push(line);
    if (this.extraQueued) return;
    this.extraQueued = true;
    setImmediate(() => {
      this.extraQueued = false;
      const lines = this.extra.splice(0);
      if (!lines.length || !this.deps.store.isOpen) return;
      const tx = zero();
      try {
        this.deps.store.transaction(() => {
          for (const l of lines) this.add([l], tx);
        });
      } catch (err) {
        this.deps.log.error({ err, points: lines.length }, 'telemetry: alert and lot points could not be queued');
        return;
      }
      this.settle(tx);
    });
  }

  /** TelemetrySink.write, for a caller that runs its own transaction: queue these readings' points. */
  write(readings: readonly Reading[]): void {
    const tx = zero();
    this.deps.store.transaction(() => {
      for (const r of readings) {
        try {
          this.add(this.encoder.encode(r, []), tx);
        } catch (err) {
          this.deps.log.error({ err, deviceId: r.deviceId }, 'telemetry: reading not encodable as line protocol');
        }
      }
    });
    this.settle(tx);
  }

  /** Run the pump now (or once more after the current run). */
  private kick(flushDue: boolean): void {
    if (flushDue) this.flushDue = true;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => (this.pumping = null));
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        const progressed = await this.step();
        if (!progressed && !this.again) return;
      }
    } catch (err) {
      // Reading or deleting queue rows failed (a busy store): the points stay queued and the next tick tries again.
      this.deps.log.error({ err }, 'telemetry queue failed');
    }
  }

  /** One write of the oldest queued points; false when there is nothing to do until the next tick. */
  private async step(): Promise<boolean> {
    if (!this.queued.points || !this.deps.store.isOpen) {
      this.flushDue = false;
      return false;
    }
    if (this.deps.hold?.()) return false;
    if (this.outage && Date.now() < this.outage.retryAt) return false;
    if (!this.outage && this.queued.points < this.s.batchSize && !this.flushDue) return false;
    const rows = this.deps.store.telemetryQueue.next(this.s.batchSize);
    if (!rows.length) {
      this.queued = zero(); // the counts drifted (a failed delete re-counted): the table is the truth
      return false;
    }
    // Whole rows (a reading's points stay together), up to batchSize points unless one row alone is more.
    let points = 0;
    let bytes = 0;
    let n = 0;
    while (n < rows.length && (n === 0 || points + rows[n].points <= this.s.batchSize)) {
      points += rows[n].points;
      bytes += rows[n].bytes;
      n++;
    }
    const body = rows
      .slice(0, n)
      .map((r) => r.lines)
      .join('\n');
    const outcome = await this.post(body, points);
    if (outcome === 'retry') return this.failed();
    this.deps.store.telemetryQueue.doneUpTo(rows[n - 1].id);
    this.queued.points -= points;
    this.queued.bytes -= bytes;
    if (this.queued.points <= 0) this.flushDue = false;
    this.gauge();
    this.settled(outcome, points);
    return true;
  }

  private settled(outcome: 'written' | 'rejected', n: number): void {
    this.count[outcome].inc(n);
    if (this.queued.bytes < this.s.spoolMaxBytes / 2) this.fullLogged = false;
    if (this.outage && outcome === 'written') {
      if (this.queued.points <= 0) {
        this.deps.log.info(
          { downMs: Date.now() - this.outage.since, dropped: this.outage.dropped },
          'telemetry server is back; every queued point has been written',
        );
        this.outage = null;
      } else this.outage.delay = this.s.retryMinMs; // answering again: keep draining without waiting
    }
  }

  private failed(): false {
    const now = Date.now();
    if (!this.outage) {
      this.outage = { since: now, retryAt: 0, delay: this.s.retryMinMs, dropped: 0 };
      // Everything queued now waits for the server: "spooled", as the points queued while it stays away.
      this.count.spooled.inc(this.queued.points);
      this.deps.log.warn({ url: this.s.url, points: this.queued.points }, 'telemetry server unreachable; points stay queued in the store until it returns');
    } else this.outage.delay = Math.min(this.outage.delay * 2, this.s.retryMaxMs);
    this.outage.retryAt = now + this.outage.delay;
    return false;
  }

  private gauge(): void {
    this.deps.metrics.telemetrySpoolBytes.set(Math.max(0, this.queued.bytes));
  }

  private async post(body: string, points: number): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(this.writeUrl, {
        method: 'POST',
        headers: { authorization: `Token ${this.s.token}`, 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'telemetry write failed');
      return 'retry';
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return 'written';
    // 400: malformed (InfluxDB rejects the whole batch); 422: some points refused (the rest were written);
    // 413: too large. Sending the same bytes again cannot succeed, so they are counted and logged, not retried.
    if (res.status === 400 || res.status === 413 || res.status === 422) {
      this.deps.log.error({ status: res.status, body: text.slice(0, 500), points }, 'telemetry server refused points');
      return 'rejected';
    }
    this.deps.log.debug({ status: res.status, body: text.slice(0, 200) }, 'telemetry write failed');
    return 'retry';
  }

  /**
   * Points spooled to files by an earlier version (<dataDir>/telemetry-spool/, src/telemetry/spool.ts) move
   * into the queue, ahead of anything new, and the files go.
   */
  private async importLegacySpool(): Promise<void> {
    const dir = join(this.deps.dataDir, 'telemetry-spool');
    if (!existsSync(dir)) return;
    const spool = new Spool({ dir, maxBytes: Number.MAX_SAFE_INTEGER });
    await spool.open();
    let moved = 0;
    for (;;) {
      const batch = await spool.peek(this.s.batchSize);
      if (!batch || !batch.lines.length) break;
      this.deps.store.transaction(() => {
        for (const l of batch.lines) if (l) this.deps.store.telemetryQueue.add(l, 1, Buffer.byteLength(l) + 1);
      });
      moved += batch.lines.length;
      await spool.commit(batch.next);
    }
    await spool.close();
    await rm(dir, { recursive: true, force: true });
    if (moved) this.deps.log.info({ points: moved }, 'telemetry: points of the old file spool moved into the queue');
  }

  /** Stop taking points; try to send what is queued for up to timeoutMs; the rest waits in the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.deps.bus.removeOwner('telemetry.influx');
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.pumping) await this.pumping;
    const until = Date.now() + this.s.timeoutMs;
    try {
      this.flushDue = true;
      while (!this.outage && this.queued.points > 0 && Date.now() < until && (await this.step()));
    } catch (err) {
      this.deps.log.warn({ err }, 'telemetry: queued points left for the next start');
    }
  }

  async query(q: HistoryQuery): Promise<HistoryResult> {
    const t: FluxTarget = { bucket: this.s.bucket, measurement: measurementOf(q.device.kind), device: q.device.id, from: q.from, to: q.to, every: q.every };
    const rows = (query: ReturnType<typeof batteryQuery>) => this.queryApi.collectRows<{ _time: string; _value: unknown }>(query);
    const toBuckets = (list: Array<{ _time: string; _value: unknown }>, combine: 'sum' | 'last') => {
      const buckets = emptyBuckets(q.from, q.to, q.every);
      for (const row of list) {
        const i = Math.round((Date.parse(row._time) - q.from) / q.every);
        if (i < 0 || i >= buckets.length || typeof row._value !== 'number') continue;
        // More than one table per window when a device's tags changed (moved to another household).
        buckets[i].value = combine === 'sum' ? (buckets[i].value ?? 0) + row._value : row._value;
      }
      return buckets;
    };
    if (q.field === 'water') {
      const fromIntervals = await rows(waterIntervalsQuery(t));
      if (fromIntervals.some((r) => typeof r._value === 'number')) return { source: 'intervals', buckets: toBuckets(fromIntervals, 'sum') };
      const fromRegister = await rows(waterRegisterQuery(t));
      const any = fromRegister.some((r) => typeof r._value === 'number');
      return { source: any ? 'register' : 'none', buckets: toBuckets(fromRegister, 'sum') };
    }
    if (q.field === 'occupancy') {
      const [before, inside] = await Promise.all([rows(occupancyBeforeQuery(t)), rows(occupancyReportsQuery(t))]);
      const bool = (v: unknown) => v === true || v === 1 || v === 'true';
      const initial = before.length ? bool(before[before.length - 1]._value) : null;
      const reports = inside.map((r) => ({ at: Date.parse(r._time), occupied: bool(r._value) }));
      return occupancy(initial, reports, q.from, q.to, q.every, q.now);
    }
    return { buckets: toBuckets(await rows(batteryQuery(t)), 'last') };
  }

  /** Points and bytes waiting in the queue (tests, benchmarks). */
  get backlog(): { points: number; bytes: number; pumping: boolean } {
    return { points: this.queued.points, bytes: this.queued.bytes, pumping: this.pumping !== null };
  }
}
