// A real VictoriaMetrics (Debian's victoria-metrics) for telemetry tests and benchmarks: it takes InfluxDB
// line protocol on /api/v2/write (https://docs.victoriametrics.com/#how-to-send-data-from-influxdb-compatible-agents-such-as-telegraf)
// and stores each field as the series `<measurement>_<field>` with the tags as labels; /api/v1/export gives the
// raw samples back. It does not speak Flux, so the history queries are not run against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const VM_BIN = process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics';
export const haveVictoriaMetrics = () => existsSync(VM_BIN);

/**
 * Tests that need the binary: skipped with a loud message on a developer's machine without it, failed on CI
 * (CI=true), where .ci/run installs it.
 */
export function requireVictoriaMetrics(what: string): boolean {
  if (haveVictoriaMetrics()) return true;
  const msg = `${VM_BIN} not found: ${what} needs Debian's victoria-metrics (apt-get install victoria-metrics)`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${msg}\n${'!'.repeat(100)}\n`);
  return false;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics {
  private proc: ChildProcess | null = null;

  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(dataDir: string, port?: number): Promise<VictoriaMetrics> {
    const vm = new VictoriaMetrics(dataDir, port ?? (await freePort()));
    await vm.start();
    return vm;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      VM_BIN,
      [
        `-httpListenAddr=127.0.0.1:${this.port}`,
        `-storageDataPath=${this.dataDir}`,
        '-retentionPeriod=100y', // test points lie in the past; none may fall out
        '-search.latencyOffset=0s', // show the newest samples at once
        // One sample per series and millisecond, as InfluxDB keeps one point per series and time: a batch whose
        // answer was lost in an outage and is sent again overwrites instead of doubling.
        '-dedup.minScrapeInterval=1ms',
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    this.proc.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    const end = Date.now() + 20_000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`victoria-metrics exited with ${this.proc.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new Error(`victoria-metrics not ready on ${this.url}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM: it finishes what it took in and flushes to disk, like a server being restarted. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  /** Make just-written samples visible to export. */
  async flush(): Promise<void> {
    await fetch(`${this.url}/internal/force_flush`);
  }

  async export(match: string): Promise<ExportedSeries[]> {
    await this.flush();
    const res = await fetch(`${this.url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
    if (!res.ok) throw new Error(`export ${match}: ${res.status} ${await res.text()}`);
    const text = (await res.text()).trim();
    return text ? text.split('\n').map((l) => JSON.parse(l) as ExportedSeries) : [];
  }
}
