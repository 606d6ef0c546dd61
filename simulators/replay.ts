// Plays a recording (record.ts NDJSON) back: each device's uplink is published again by that device, logged in
// with its own credentials (clientId = username = device id, password from --secrets), with the recorded gaps
// between messages divided by --speed ('max': as fast as the service acknowledges, order kept). Only device
// uplinks (iot/{community}/{device}/up) are replayed; anything else recorded (errors topics) is skipped.
//
//   npm run replay -- traffic.ndjson --url mqtt://host:1883 [--speed 10|max] [--secrets config/sample-secrets.json]
//
// On the event clock the payloads' own `ts` drive the service's time again; formats that carry no time
// (GS524N) are stamped with the service's clock when they arrive.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DeviceClient } from './devices/device.js';
import { loadCommunities, loadSecrets } from './lib/inventory.js';
import { connectAll, disconnectAll, play, type PlayStats, type SimEvent } from './lib/play.js';
import type { RecordLine } from './record.js';
import { runAsCli } from './lib/cli.js';

const UPLINK = /^iot\/([^/]+)\/([^/]+)\/up$/;

export interface ReplayOptions {
  url: string;
  /** Device id → secret. */
  secrets: Record<string, string>;
  /** Recorded time ÷ speed; Infinity = as fast as acknowledged. */
  speed: number;
  onProgress?(messages: number): void;
  signal?: AbortSignal;
}

export interface ReplayStats extends PlayStats {
  skipped: number;
  devices: number;
}

/** The uplinks of a recording, in file order, with their times (epoch ms). */
export async function readRecording(file: string): Promise<{ events: Array<SimEvent & { type: 'mqtt' }>; skipped: number }> {
  const events: Array<SimEvent & { type: 'mqtt' }> = [];
  let skipped = 0;
  let n = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    n++;
    if (!text.trim()) continue;
    let line: RecordLine;
    try {
      line = JSON.parse(text) as RecordLine;
    } catch {
      throw new Error(`${file}:${n}: not JSON`);
    }
    const m = UPLINK.exec(line.topic ?? '');
    const t = Date.parse(line.time);
    if (!m || typeof line.payload?.base64 !== 'string' || !Number.isFinite(t)) {
      skipped++;
      continue;
    }
    events.push({
      type: 'mqtt',
      t,
      deviceId: m[2],
      topic: line.topic,
      canonical: { type: 'recorded' },
      payload: Buffer.from(line.payload.base64, 'base64'),
      carriesTime: true,
      qos: line.qos === 0 ? 0 : 1,
    });
  }
  return { events, skipped };
}

export async function replayFile(file: string, opts: ReplayOptions): Promise<ReplayStats> {
  const { events, skipped } = await readRecording(file);
  // One client per device; its community comes from the topic, its kind (for the counts) from the inventory.
  const kinds = new Map(loadCommunities().flatMap((c) => c.devices.map((d) => [d.id, d.kind] as const)));
  const devices = new Map<string, DeviceClient>();
  for (const e of events) {
    if (devices.has(e.deviceId)) continue;
    const communityId = UPLINK.exec(e.topic)![1];
    devices.set(e.deviceId, new DeviceClient({ id: e.deviceId, communityId, kind: kinds.get(e.deviceId) ?? 'unknown' }));
  }
  await connectAll(devices.values(), opts.url, opts.secrets);
  try {
    const stats = await play(events, devices, {
      mqttUrl: opts.url,
      secrets: opts.secrets,
      speed: opts.speed,
      signal: opts.signal,
      // Recorded order is the order the service saw; keep it exactly (one message in flight).
      maxInFlight: 1,
      onProgress: (p) => opts.onProgress?.(p.messages),
    });
    return { ...stats, skipped, devices: devices.size };
  } finally {
    await disconnectAll(devices.values());
  }
}

const USAGE = `usage: npm run replay -- <file.ndjson> --url mqtt://host:1883 [--speed N|max] [--secrets file]
  --speed N     N times as fast as recorded (default 1); max: as fast as the service acknowledges
  --secrets     device secrets, {"devices": {id: secret}} (default config/sample-secrets.json)`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      speed: { type: 'string', default: '1' },
      secrets: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1 || !values.url) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const speed = values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) {
    console.error(`--speed must be a positive number or 'max', not '${values.speed}'`);
    return 64;
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const stats = await replayFile(positionals[0], {
    url: values.url,
    secrets: loadSecrets(values.secrets).devices,
    speed,
    signal: stop.signal,
    onProgress: (n) => process.stderr.isTTY && process.stderr.write(`\r  ${n} messages`),
  });
  console.error(
    `\nreplayed ${stats.messages} message${stats.messages === 1 ? '' : 's'} from ${stats.devices} device${stats.devices === 1 ? '' : 's'} in ${(stats.wallMs / 1000).toFixed(1)} s` +
      (stats.skipped ? ` (${stats.skipped} line${stats.skipped === 1 ? '' : 's'} not device uplinks, skipped)` : ''),
  );
  return 0;
}

runAsCli(import.meta.url, main);
