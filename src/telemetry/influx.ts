// The InfluxDB 2 telemetry sink. Readings arrive from the bus after their transaction commits and are
// encoded to line protocol into a memory buffer; a single pump writes them in batches (batchSize lines, or
// whatever is buffered every flushIntervalMs), one request at a time. When a write fails for a reason that
// may pass (connection refused, timeout, 5xx, 429, 401/403/404 while an operator fixes the token or bucket),
// the batch and everything after it go to a spool on disk (src/telemetry/spool.ts) and are sent from there,
// oldest first, once the server answers again; new points queue behind them, so the server sees every point
// once and in order. Ingest never waits for any of this.
//
// Why not the client's WriteApi: it keeps its own retry buffer in memory, retries batches out of order with
// jitter and drops the oldest lines when that buffer is full, and a point is lost with the process. Order and
// "none lost" need one queue, so the writes are plain `POST /api/v2/write?org&bucket&precision=ms` with
// `Authorization: Token …` (https://docs.influxdata.com/influxdb/v2/api/#operation/PostWrite), one at a time,
// as the InfluxDB docs advise: "To ensure that InfluxDB handles writes in the order you request them, wait for
// the response before you send the next request" (docs.influxdata.com/influxdb/v2/write-data/troubleshoot/).
// The client library is used for what it does well: line protocol escaping and Flux queries.
import { join } from 'node:path';
import { InfluxDB, type QueryApi } from '@influxdata/influxdb-client';
import type { Reading } from '../ingest/reading.js';
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

export class InfluxSink implements TelemetrySink {
  readonly name = 'influx' as const;
  private readonly s: InfluxSettings;
  private buffer: string[] = [];
  private spool!: Spool;
  private encoder!: LineEncoder;
  private queryApi!: QueryApi;
  private writeUrl!: string;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;
  private flushDue = false;
  private stopping = false;
  /** Set while the server is away: when it went, the next retry, the current delay. */
  private outage: { since: number; retryAt: number; delay: number; dropped: number } | null = null;
  private count!: Record<'written' | 'queued' | 'spooled' | 'dropped' | 'rejected', { inc(n?: number): void }>;

  constructor(private readonly deps: TelemetryDeps) {
    this.s = deps.settings.influx as InfluxSettings;
  }

  async start(): Promise<void> {
    const { bus, metrics, directory, log } = this.deps;
    const base = this.s.url.replace(/\/+$/, '');
    const q = new URLSearchParams({ org: this.s.org, bucket: this.s.bucket, precision: 'ms' });
    this.writeUrl = `${base}/api/v2/write?${q}`;
    this.queryApi = new InfluxDB({ url: base, token: this.s.token, timeout: this.s.timeoutMs }).getQueryApi(this.s.org);
    this.encoder = new LineEncoder((id) => directory.devices.get(id));
    const c = (result: string) => metrics.telemetryPoints.labels('influx', result);
    this.count = { written: c('written'), queued: c('queued'), spooled: c('spooled'), dropped: c('dropped'), rejected: c('rejected') };
    this.spool = new Spool({ dir: join(this.deps.dataDir, 'telemetry-spool'), maxBytes: this.s.spoolMaxBytes });
    await this.spool.open();
    if (!this.spool.empty) log.info({ bytes: this.spool.pendingBytes }, 'telemetry spool holds points from the last run; sending those first');
    this.gauge();
    bus.on('reading', 'telemetry.influx', (r) => this.write([r]));
    // Alerts and lot counts go to InfluxDB too, for the Grafana dashboard (deploy/grafana). Subscribed by name:
    // the rule engine owns those events and their full types.
    const on = bus.on.bind(bus) as unknown as (event: string, owner: string, fn: (p: unknown) => void) => void;
    on('alert', 'telemetry.influx', (a) => this.push(alertLine(a as AlertPoint)));
    on('parking', 'telemetry.influx', (l) => this.push(lotLine(l as LotPoint, this.deps.clock.now())));
    this.timer = setInterval(() => this.kick(true), this.s.flushIntervalMs);
    this.timer.unref();
    this.kick(true);
  }

  private push(line: string | null): void {
    if (line === null) return;
    this.buffer.push(line);
    this.count.queued.inc();
    if (this.buffer.length >= this.s.batchSize) this.kick(false);
  }

  write(readings: readonly Reading[]): void {
    const before = this.buffer.length;
    for (const r of readings) {
      try {
        this.encoder.encode(r, this.buffer);
      } catch (err) {
        this.deps.log.error({ err, deviceId: r.deviceId }, 'telemetry: reading not encodable as line protocol');
      }
    }
    this.count.queued.inc(this.buffer.length - before);
    if (this.buffer.length >= this.s.batchSize) this.kick(false);
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
      // Reading the spool or moving its cursor failed: the points stay in it and the next tick tries again.
      this.deps.log.error({ err }, 'telemetry spool failed');
    }
  }

  /** One write, or one move to the spool; false when there is nothing to do until the next tick. */
  private async step(): Promise<boolean> {
    if (!this.spool.empty) {
      // Behind the spool: new points queue on disk after it, so the server receives everything in order.
      if (this.buffer.length) await this.toSpool(this.buffer.splice(0));
      if (this.outage && Date.now() < this.outage.retryAt) return false;
      const batch = await this.spool.peek(this.s.batchSize);
      if (!batch || !batch.lines.length) return this.buffer.length > 0;
      const outcome = await this.post(batch.lines);
      if (outcome === 'retry') return this.failed();
      await this.spool.commit(batch.next);
      this.gauge();
      this.settled(outcome, batch.lines.length);
      return true;
    }
    if (!this.buffer.length || (this.buffer.length < this.s.batchSize && !this.flushDue)) {
      this.flushDue = false;
      return false;
    }
    const lines = this.buffer.splice(0, this.s.batchSize);
    if (!this.buffer.length) this.flushDue = false;
    const outcome = await this.post(lines);
    if (outcome !== 'retry') {
      this.settled(outcome, lines.length);
      return true;
    }
    this.failed();
    await this.toSpool(lines);
    return true; // the next step moves what was buffered meanwhile behind it
  }

  private settled(outcome: 'written' | 'rejected', n: number): void {
    this.count[outcome].inc(n);
    if (this.outage && outcome === 'written') {
      if (this.spool.empty) {
        this.deps.log.info(
          { downMs: Date.now() - this.outage.since, dropped: this.outage.dropped },
          'telemetry server is back; every spooled point has been written',
        );
        this.outage = null;
      } else this.outage.delay = this.s.retryMinMs; // answering again: keep draining without waiting
    }
  }

  private failed(): false {
    const now = Date.now();
    if (!this.outage) {
      this.outage = { since: now, retryAt: 0, delay: this.s.retryMinMs, dropped: 0 };
      this.deps.log.warn({ url: this.s.url }, 'telemetry server unreachable; spooling points to disk until it returns');
    } else this.outage.delay = Math.min(this.outage.delay * 2, this.s.retryMaxMs);
    this.outage.retryAt = now + this.outage.delay;
    return false;
  }

  private async toSpool(lines: string[]): Promise<void> {
    let taken = 0;
    try {
      taken = await this.spool.append(lines);
    } catch (err) {
      this.deps.log.error({ err, points: lines.length }, 'telemetry spool write failed; points dropped');
    }
    if (taken) this.count.spooled.inc(taken);
    const lost = lines.length - taken;
    if (lost) {
      this.count.dropped.inc(lost);
      if (!this.outage?.dropped)
        this.deps.log.error({ maxBytes: this.s.spoolMaxBytes }, 'telemetry spool is full; new points are dropped until the server returns');
      if (this.outage) this.outage.dropped += lost;
    }
    this.gauge();
  }

  private gauge(): void {
    this.deps.metrics.telemetrySpoolBytes.set(this.spool.pendingBytes);
  }

  private async post(lines: string[]): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(this.writeUrl, {
        method: 'POST',
        headers: { authorization: `Token ${this.s.token}`, 'content-type': 'text/plain; charset=utf-8' },
        body: lines.join('\n'),
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
      this.deps.log.error({ status: res.status, body: text.slice(0, 500), points: lines.length }, 'telemetry server refused points');
      return 'rejected';
    }
    this.deps.log.debug({ status: res.status, body: text.slice(0, 200) }, 'telemetry write failed');
    return 'retry';
  }

  /** Stop taking points; write what is buffered if the server answers, otherwise spool it for the next start. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.deps.bus.removeOwner('telemetry.influx');
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.pumping) await this.pumping;
    try {
      while (this.buffer.length) {
        if (this.outage || !this.spool.empty) {
          await this.toSpool(this.buffer.splice(0));
          break;
        }
        const lines = this.buffer.splice(0, this.s.batchSize);
        const outcome = await this.post(lines);
        if (outcome === 'retry') {
          this.failed();
          await this.toSpool(lines);
        } else this.settled(outcome, lines.length);
      }
    } finally {
      await this.spool.close();
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

  /** Lines waiting in memory and bytes waiting on disk (tests, benchmarks). */
  get backlog(): { buffered: number; spooledBytes: number; pumping: boolean } {
    return { buffered: this.buffer.length, spooledBytes: this.spool.pendingBytes, pumping: this.pumping !== null };
  }
}
