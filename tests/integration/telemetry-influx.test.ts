// The InfluxDB sink against a real line-protocol server (Debian's victoria-metrics; see tests/victoria-metrics.ts):
// points and tags as written, an outage of the server mid-stream (nothing lost, nothing twice, in order), and
// the spool's bound and its survival across a restart of shaobing. The history queries are Flux, which
// victoria-metrics does not speak: they are checked by shape in tests/unit/telemetry-flux.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { App } from '../../src/app.js';
import { startApp, connectDevice, tempDir, waitFor, auth } from '../helpers.js';
import { VictoriaMetrics, freePort, requireVictoriaMetrics } from '../victoria-metrics.js';

const H = 3_600_000;
const METER = 'gh-wm-5-302';
const SPACE = 'gh-ps-01';
const SMOKE = 'gh-sd-5-303';
const base = Math.floor(Date.now() / H) * H - 24 * H;

const influx = (url: string, extra: Record<string, unknown> = {}) => ({
  telemetry: {
    sink: 'influx',
    influx: { url, org: 'shaobing', bucket: 'telemetry', token: 'test-token', batchSize: 20, flushIntervalMs: 50, retryMinMs: 50, retryMaxMs: 400, timeoutMs: 3000, ...extra },
  },
});

async function points(app: App, result: string): Promise<number> {
  const m = await app.metrics.telemetryPoints.get();
  return m.values.find((v) => v.labels.sink === 'influx' && v.labels.result === result)?.value ?? 0;
}

const topic = (id: string) => `iot/guihuayuan/${id}/up`;

/** Every queued point written (alerts and lot counts, if the rules raise any, are points too). */
async function settled(app: App, atLeast: number, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    async () => {
      const queued = await points(app, 'queued');
      return queued >= atLeast && (await points(app, 'written')) === queued && queued;
    },
    `${atLeast} or more points written`,
    timeoutMs,
  );
}

/** Between shaobing and the server: passes every write through and keeps the bodies the server acknowledged. */
class RecordingProxy {
  readonly acknowledged: string[] = [];
  failures = 0;
  private server: Server | null = null;

  constructor(
    private readonly upstream: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          const up = await fetch(`${this.upstream}${req.url}`, {
            method: req.method,
            headers: { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? 'text/plain' },
            body,
          });
          const text = await up.text();
          if (up.ok) this.acknowledged.push(body);
          else this.failures++;
          res.writeHead(up.status).end(text);
        } catch {
          // The server is away: so is the answer, as if shaobing had talked to it directly.
          this.failures++;
          req.socket.destroy();
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

const run = requireVictoriaMetrics('tests/integration/telemetry-influx.test.ts');

describe.skipIf(!run)('InfluxDB telemetry sink against a real line-protocol server', () => {
  const dir = tempDir('shaobing-vm-');
  let vm: VictoriaMetrics;

  beforeAll(async () => {
    vm = await VictoriaMetrics.start(join(dir.path, 'vm'));
  });
  afterAll(async () => {
    await vm?.stop();
    dir.remove();
  });

  it('writes a point per reading under its kind with the device location as tags, and water intervals as litres at their end', async () => {
    const t = await startApp(influx(vm.url));
    try {
      const d = t.app.directory.devices.get(METER)!;
      const meter = await connectDevice(t.mqttUrl, METER);
      const iv = (startMin: number, litres: number) => ({ start: base + startMin * 60_000, end: base + (startMin + 15) * 60_000, litres });
      await meter.publishAsync(
        topic(METER),
        JSON.stringify({ type: 'reading', ts: base + 380 * 60_000, totalM3: 12.3, batteryPct: 90, valve: 'open', intervals: [iv(330, 3), iv(345, 7), iv(360, 2)] }),
        { qos: 1 },
      );
      const space = await connectDevice(t.mqttUrl, SPACE);
      await space.publishAsync(topic(SPACE), JSON.stringify({ type: 'state', ts: base + 30 * 60_000, occupied: true }), { qos: 1 });
      await space.publishAsync(topic(SPACE), JSON.stringify({ type: 'state', ts: base + 75 * 60_000, occupied: false }), { qos: 1 });
      await Promise.all([meter.endAsync(), space.endAsync()]);
      await settled(t.app, 6);

      const tags = { community: 'guihuayuan', grid: 'gh-g1', building: 'gh-b5', household: 'gh-5-302', device: METER, kind: 'water-meter' };
      expect({ building: d.buildingId, household: d.householdId }).toEqual({ building: tags.building, household: tags.household });
      const [litres] = await vm.export(`water_meter_litres{device="${METER}"}`);
      expect(litres).toEqual({ metric: { __name__: 'water_meter_litres', ...tags }, values: [3, 7, 2], timestamps: [iv(330, 0).end, iv(345, 0).end, iv(360, 0).end] });
      const [total] = await vm.export(`water_meter_totalM3{device="${METER}"}`);
      expect(total).toMatchObject({ values: [12.3], timestamps: [base + 380 * 60_000] });
      const [occupied] = await vm.export(`parking_sensor_occupied{device="${SPACE}"}`);
      expect(occupied).toEqual({
        metric: { __name__: 'parking_sensor_occupied', community: 'guihuayuan', grid: 'gh-g1', lot: 'gh-lot-1', space: 'gh-sp-01', device: SPACE, kind: 'parking-sensor' },
        values: [1, 0],
        timestamps: [base + 30 * 60_000, base + 75 * 60_000],
      });
      expect(await points(t.app, 'spooled')).toBe(0);
      // History is read with Flux, which this server does not speak: the API says the store did not answer.
      const res = await fetch(`${t.httpUrl}/api/devices/${METER}/telemetry`, { headers: auth() });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { code: string }).code).toBe('SB_TELEMETRY_UNAVAILABLE');
    } finally {
      await t.stop();
    }
  });

  it('loses nothing while the server restarts mid-stream: every point arrives once and in order', async () => {
    const proxy = new RecordingProxy(vm.url, await freePort());
    await proxy.start();
    const t = await startApp(influx(`http://127.0.0.1:${proxy.port}`));
    const N = 300;
    let smoke: MqttClient | null = null;
    try {
      smoke = await connectDevice(t.mqttUrl, SMOKE);
      for (let i = 0; i < N; i++) {
        if (i === 100) await vm.stop(); // SIGTERM while shaobing keeps writing
        if (i === 200) await vm.start(); // same port, same data
        await smoke.publishAsync(topic(SMOKE), JSON.stringify({ type: 'heartbeat', ts: base + 2 * H + i * 1000, batteryPct: 80, seq: i }), { qos: 1 });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20)); // devices keep reporting through the outage
      }
      await settled(t.app, N);

      expect(proxy.failures).toBeGreaterThan(0);
      expect(await points(t.app, 'spooled')).toBeGreaterThan(0);
      expect(await points(t.app, 'dropped')).toBe(0);
      expect(await points(t.app, 'rejected')).toBe(0);
      const seq = (body: string) =>
        body
          .split('\n')
          .filter((l) => l.startsWith('smoke_detector,'))
          .map((l) => Number(/seq=([0-9.]+)/.exec(l)![1]));
      const all = Array.from({ length: N }, (_, i) => i);
      // What the server acknowledged, in the order it acknowledged it: each point once, in order.
      expect(proxy.acknowledged.flatMap(seq)).toEqual(all);
      // What it stores: each point once.
      const [stored] = await vm.export(`smoke_detector_seq{device="${SMOKE}"}`);
      expect(stored.values).toEqual(all);
      expect(stored.timestamps).toEqual(all.map((i) => base + 2 * H + i * 1000));
      const spoolGauge = (await t.app.metrics.telemetrySpoolBytes.get()).values[0].value;
      expect(spoolGauge).toBe(0);
    } finally {
      await smoke?.endAsync();
      await t.stop();
      await proxy.stop();
    }
  });

  it('spools up to spoolMaxBytes, counts what is dropped beyond it, and sends the spool after shaobing restarts', async () => {
    const port = await freePort(); // nothing listens there yet: connection refused
    const settings = influx(`http://127.0.0.1:${port}`, { spoolMaxBytes: 65536 });
    const data = tempDir('shaobing-spool-app-');
    const N = 600;
    const note = 'x'.repeat(150); // ~320-byte lines: 600 of them overflow 64 KiB
    let spooled = 0;
    let dropped = 0;
    let later: VictoriaMetrics | null = null;
    try {
      const t1 = await startApp(settings, data.path);
      try {
        const smoke = await connectDevice(t1.mqttUrl, SMOKE);
        await Promise.all(
          Array.from({ length: N }, (_, i) =>
            smoke.publishAsync(topic(SMOKE), JSON.stringify({ type: 'heartbeat', ts: base + 3 * H + i * 1000, note, seq: i }), { qos: 1 }),
          ),
        );
        await smoke.endAsync();
        await waitFor(
          async () => {
            const queued = await points(t1.app, 'queued');
            return queued >= N && (await points(t1.app, 'spooled')) + (await points(t1.app, 'dropped')) === queued;
          },
          'every point spooled or dropped',
          20_000,
        );
        spooled = await points(t1.app, 'spooled');
        dropped = await points(t1.app, 'dropped');
        expect(await points(t1.app, 'written')).toBe(0);
        expect(dropped).toBeGreaterThan(0);
        expect(spooled).toBeGreaterThan(100);
        const bytes = (await t1.app.metrics.telemetrySpoolBytes.get()).values[0].value;
        expect(bytes).toBeGreaterThan(65536 - 2000);
        expect(bytes).toBeLessThanOrEqual(65536);
      } finally {
        await t1.stop({ keepData: true });
      }

      later = await VictoriaMetrics.start(join(data.path, 'vm'), port);
      const t2 = await startApp(settings, data.path);
      try {
        await waitFor(async () => (await points(t2.app, 'written')) === spooled, `${spooled} spooled points written after restart`, 20_000);
        // This server is new: every sample it holds came from the spool, and each spooled point is there once.
        // One field of each kind of point (victoria-metrics keeps a series per field).
        const everything = await later.export('{__name__=~".+_seq|alert_count|parking_lot_capacity"}');
        expect(everything.reduce((n, series) => n + series.values.length, 0)).toBe(spooled);
        const [stored] = await later.export(`smoke_detector_seq{device="${SMOKE}"}`);
        expect(stored.values[0]).toBe(0);
        // In order and none twice (strictly increasing); the dropped ones are the newest.
        expect(stored.values.every((v, i) => i === 0 || v > stored.values[i - 1])).toBe(true);
      } finally {
        await t2.stop();
      }
    } finally {
      await later?.stop();
      data.remove();
    }
  });
});
