// Telemetry exactly once across a crash (issue 11): a reading's InfluxDB points are queued in the transaction
// that commits the reading, so a SIGKILL right after the commit loses none of them — after a restart, every
// committed reading's point is in the server (Debian's victoria-metrics, speaking InfluxDB line protocol),
// once. A real child process, real SQLite, a real line-protocol server.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connectDevice, tempDir, waitFor, ADMIN_TOKEN, sampleSecrets, sampleDevices } from '../helpers.js';
import { startChild, killChildren } from '../child.js';
import { VictoriaMetrics, requireVictoriaMetrics } from '../victoria-metrics.js';

// One device per test, so each test's points are a series of their own in the shared server.
const DEVICES = sampleDevices('smoke-detector', 'canonical', 'guihuayuan');
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
const heartbeat = (seq: number) => JSON.stringify({ type: 'heartbeat', ts: base + seq * 1000, batteryPct: 80, seq });

const run = requireVictoriaMetrics('tests/integration/telemetry-crash.test.ts');

describe.skipIf(!run)('InfluxDB telemetry across a SIGKILL', () => {
  const dir = tempDir('shaobing-telemetry-crash-');
  let vm: VictoriaMetrics;
  let n = 0;
  beforeAll(async () => {
    vm = await VictoriaMetrics.start(join(dir.path, 'vm'));
  });
  afterAll(async () => {
    await vm?.stop();
    dir.remove();
  });
  afterEach(() => killChildren());

  /** A fresh data dir and a settings file pointing the influx sink at the server; one device per run. */
  function setup(): { data: string; env: Record<string, string>; device: string; topic: string } {
    const device = DEVICES[n];
    const data = join(dir.path, `data-${++n}`);
    const settings = join(dir.path, `settings-${n}.yaml`);
    writeFileSync(
      settings,
      [
        'communities:',
        `  - ${resolve('config/communities/guihuayuan.yaml')}`,
        'telemetry:',
        '  sink: influx',
        // Many points wait for a full batch or the next flush: the window in which a kill used to lose them.
        `  influx: { url: "${vm.url}", org: shaobing, bucket: telemetry, token: t, batchSize: 400, flushIntervalMs: 2000, retryMinMs: 100, retryMaxMs: 500 }`,
      ].join('\n') + '\n',
    );
    return { data, env: { SHAOBING_CONFIG: settings }, device, topic: `iot/guihuayuan/${device}/up` };
  }

  async function storedSeqs(device: string): Promise<number[]> {
    const series = await vm.export(`smoke_detector_seq{device="${device}"}`);
    return series.flatMap((s) => s.values).sort((a, b) => a - b);
  }

  async function accepted(httpUrl: string, device: string): Promise<number> {
    const res = await fetch(`${httpUrl}/api/devices/${device}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return ((await res.json()) as { state: { accepted: number } }).state.accepted;
  }

  it('sends, after a SIGKILL between the commit and the write, every committed reading\'s point once', async () => {
    const s = setup();
    // The failpoint holds the sink's writes: the kill lands with every point committed and none sent.
    const first = await startChild(s.data, 'telemetry.afterCommit', s.env);
    const client = await connectDevice(first.mqttUrl, s.device, sampleSecrets.devices[s.device]);
    for (let seq = 1; seq <= 200; seq++) await client.publishAsync(s.topic, heartbeat(seq), { qos: 1 });
    await waitFor(async () => (await accepted(first.httpUrl, s.device)) === 200, 'all 200 readings committed', 15_000);
    client.end(true);
    first.proc.kill('SIGKILL');
    await first.exited;
    const queued = new Database(join(s.data, 'shaobing.db'), { readonly: true });
    expect(queued.prepare('SELECT TOTAL(points) FROM telemetry_queue').pluck().get()).toBe(200);
    queued.close();
    expect(await storedSeqs(s.device)).toEqual([]);

    const second = await startChild(s.data, '', s.env);
    await waitFor(async () => (await storedSeqs(s.device)).length >= 200, 'every point in victoria-metrics', 15_000);
    expect(await storedSeqs(s.device)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('loses no committed reading\'s point when killed at a random moment under load', async () => {
    const s = setup();
    const first = await startChild(s.data, '', s.env);
    const client = await connectDevice(first.mqttUrl, s.device, sampleSecrets.devices[s.device]);
    const acked = new Set<number>();
    let killed = false;
    const sends: Promise<unknown>[] = [];
    for (let seq = 1; seq <= 3000; seq++)
      sends.push(client.publishAsync(s.topic, heartbeat(seq), { qos: 1 }).then(() => void (killed || acked.add(seq)), () => undefined));
    await waitFor(() => acked.size >= 600, 'some acknowledgements', 20_000);
    killed = true;
    first.proc.kill('SIGKILL');
    await first.exited;
    client.end(true);
    await Promise.race([Promise.allSettled(sends), new Promise((r) => setTimeout(r, 500))]);

    // The restart processes what the inbox still held and sends what the queue still held.
    const second = await startChild(s.data, '', s.env);
    const committed = await accepted(second.httpUrl, s.device);
    expect(committed).toBeGreaterThanOrEqual(acked.size);
    await waitFor(async () => (await storedSeqs(s.device)).length >= committed, `${committed} points in victoria-metrics`, 20_000);
    const stored = await storedSeqs(s.device);
    expect(stored.length).toBe(committed); // one point per committed reading, none twice
    expect(new Set(stored).size).toBe(stored.length);
    expect([...acked].filter((seq) => !stored.includes(seq))).toEqual([]);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
