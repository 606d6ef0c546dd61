// Prometheus metrics of CONTRACT.md on a registry of the app's own (so two apps in one test do not collide).
import { Registry, Counter, Gauge, collectDefaultMetrics, type Metric } from 'prom-client';

/** Resolution of the event-loop delay histogram, ms. */
export const EVENT_LOOP_RESOLUTION_MS = 50;

export function createMetrics() {
  const registry = new Registry();
  /** Throttles (src/throttle.ts) by surface → how many keys each refuses right now; read at scrape time. */
  const blockedSources = new Map<string, () => number>();
  // The event-loop delay histogram (nodejs_eventloop_lag_*) samples with a timer: prom-client's default of
  // 10 ms woke an idle service 100 times a second, about half of its idle CPU (issue 18, BENCHMARKS.md "Idle").
  // 50 ms still catches every stall that matters here (the alarm path's target is 100 ms under load).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  /** Read when /metrics is scraped; the units that know the figures put their own function here. */
  const probes = {
    inbox: (): { depth: number; oldestSeconds: number } => ({ depth: 0, oldestSeconds: 0 }),
  };
  return {
    registry,
    probes,
    messages: new Counter({
      name: 'shaobing_messages_total',
      help: 'Device messages processed, by device kind and result (accepted or rejected)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    inboxDepth: new Gauge({
      name: 'shaobing_inbox_depth',
      help: 'Messages received and not yet processed (QoS1 inbox rows plus QoS0 messages queued in memory), when scraped',
      registers: [registry],
      collect() {
        this.set(probes.inbox().depth);
      },
    }),
    inboxOldest: new Gauge({
      name: 'shaobing_inbox_oldest_seconds',
      help: 'How long the oldest message received and not yet processed has waited (0 when none), when scraped',
      registers: [registry],
      collect() {
        this.set(probes.inbox().oldestSeconds);
      },
    }),
    // Observed for every message: plain-number buckets (PlainHistogram), not prom-client's Histogram.
    processing: new PlainHistogram(
      'shaobing_processing_seconds',
      'Time from receipt by the broker to the commit of the processing transaction',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registry,
    ),
    alertsOpened: new Counter({
      name: 'shaobing_alerts_opened_total',
      help: 'Alerts opened, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'shaobing_notifications_total',
      help: 'Notification attempts, by channel and result',
      labelNames: ['channel', 'result'] as const,
      registers: [registry],
    }),
    connectedDevices: new Gauge({
      name: 'shaobing_connected_devices',
      help: 'Devices connected to the embedded broker',
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'shaobing_auth_failures_total',
      help: 'Authentication failures and refusals, by reason: MQTT (bad_credentials, client_id, publish_denied, subscribe_denied), HTTP (bad_token, bad_password), EMQX hooks (hook_secret)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authThrottled: new Counter({
      name: 'shaobing_auth_throttled_total',
      help: 'Authentication attempts refused by a throttle before any secret was checked, by surface: login, token, ingest, mqtt, mqtt_flap, broker_hook',
      labelNames: ['surface'] as const,
      registers: [registry],
    }),
    authBlocked: new Gauge({
      name: 'shaobing_auth_blocked',
      help: 'Keys (addresses, accounts, devices) a throttle refuses right now, by surface',
      labelNames: ['surface'] as const,
      registers: [registry],
      collect() {
        for (const [surface, count] of blockedSources) this.set({ surface }, count());
      },
    }),
    blockedSources,
    telemetryPoints: new Counter({
      name: 'shaobing_telemetry_points_total',
      help: 'Telemetry points by sink and result: written, queued (buffered), spooled (to disk while the server is away), dropped (spool full), rejected (refused by the server as invalid)',
      labelNames: ['sink', 'result'] as const,
      registers: [registry],
    }),
    telemetrySpoolBytes: new Gauge({
      name: 'shaobing_telemetry_spool_bytes',
      help: 'Bytes of line protocol waiting in the telemetry spool on disk',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A histogram without labels for a figure observed on the hot path (once per message): an observation is a
 * bucket found among a dozen bounds and three numbers added — no label hashing, no closure, no validation per
 * call, as prom-client's Histogram does (issue 18). It is put in Prometheus' histogram form (cumulative
 * `_bucket{le}`, `_sum`, `_count`) when /metrics is scraped.
 */
export class PlainHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last, above every bound (+Inf). */
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** What the registry formats (prom-client's metric object shape). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> }> {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i];
      values.push({ metricName: `${this.name}_bucket`, labels: { le: i < this.bounds.length ? this.bounds[i] : '+Inf' }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum }, { metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
