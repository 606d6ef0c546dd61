// Records what devices send: subscribes as the read-only operator (username `shaobing-operator`, password the
// admin token; it may subscribe to iot/#, src/broker/broker.ts) and writes one NDJSON line per message:
//   {"topic":"iot/guihuayuan/gh-sd-6-302/up","payload":{"base64":"…","text":"…"},"qos":1,"time":"2026-…Z"}
// `text` is there when the bytes are UTF-8 (JSON payloads); binary frames (GS524N) have base64 only. `time`
// is when the recorder received it — replay keeps the gaps between these.
//
//   npm run record -- --url mqtt://host:1883 --token <admin token> [--out traffic.ndjson] [--topic 'iot/#']
//       [--seconds N] [--count N]
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { runAsCli } from './lib/cli.js';

/** The operator login of src/broker/broker.ts. */
export const OPERATOR_USERNAME = 'shaobing-operator';

export interface RecordLine {
  topic: string;
  payload: { base64: string; text?: string };
  qos: 0 | 1 | 2;
  /** Receive time, ISO 8601. */
  time: string;
}

/** The bytes as UTF-8 text, or undefined when they are not (clean) UTF-8. */
export function utf8Text(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return undefined;
  // Control characters other than whitespace mean binary that happened to be valid UTF-8.
  return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

export function toLine(topic: string, payload: Buffer, qos: 0 | 1 | 2, time: number): RecordLine {
  const text = utf8Text(payload);
  return { topic, payload: text === undefined ? { base64: payload.toString('base64') } : { base64: payload.toString('base64'), text }, qos, time: new Date(time).toISOString() };
}

export interface Recorder {
  /** Messages written so far. */
  readonly count: number;
  /** Stop listening, flush and close the file. */
  stop(): Promise<number>;
}

export interface RecordOptions {
  url: string;
  token: string;
  /** A file path, or a stream (stdout). */
  out: string | NodeJS.WritableStream;
  topic?: string;
  onMessage?(line: RecordLine): void;
}

/** Connect as the operator, subscribe, and write every message until `stop()`. Resolves once subscribed. */
export async function startRecorder(opts: RecordOptions): Promise<Recorder> {
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: `shaobing-recorder-${randomBytes(4).toString('hex')}`,
    username: OPERATOR_USERNAME,
    password: opts.token,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(new Error(`recorder: cannot log in as ${OPERATOR_USERNAME}: ${err.message}`));
    });
  });
  const out: NodeJS.WritableStream = typeof opts.out === 'string' ? createWriteStream(opts.out, { flags: 'w' }) : opts.out;
  let count = 0;
  client.on('message', (topic, payload, packet) => {
    const line = toLine(topic, payload, packet.qos, Date.now());
    out.write(`${JSON.stringify(line)}\n`);
    count++;
    opts.onMessage?.(line);
  });
  await new Promise<void>((resolve, reject) =>
    client.subscribe(opts.topic ?? 'iot/#', { qos: 1 }, (err, granted) => {
      if (err) return reject(err);
      if (granted?.some((g) => g.qos === 128)) return reject(new Error(`recorder: subscription to ${opts.topic ?? 'iot/#'} refused`));
      resolve();
    }),
  );
  return {
    get count() {
      return count;
    },
    async stop() {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      if (typeof opts.out === 'string') {
        const ws = out as WriteStream;
        ws.end();
        await once(ws, 'close');
      }
      return count;
    },
  };
}

const USAGE = `usage: npm run record -- --url mqtt://host:1883 --token <admin token> [--out file.ndjson]
       [--topic 'iot/#'] [--seconds N] [--count N]
Writes NDJSON to --out (default stdout) until Ctrl-C, --seconds or --count.`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
      topic: { type: 'string', default: 'iot/#' },
      seconds: { type: 'string' },
      count: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.url || !values.token) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const max = values.count ? Number(values.count) : Infinity;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const rec = await startRecorder({
    url: values.url,
    token: values.token,
    out: values.out ?? process.stdout,
    topic: values.topic,
    onMessage: () => {
      if (rec && rec.count >= max) done();
    },
  });
  console.error(`recording ${values.topic} from ${values.url}${values.out ? ` to ${values.out}` : ''}; Ctrl-C to stop`);
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
  if (values.seconds) setTimeout(done, Number(values.seconds) * 1000).unref();
  const progress = setInterval(() => process.stderr.isTTY && process.stderr.write(`\r  ${rec.count} messages`), 1000);
  await finished;
  clearInterval(progress);
  const n = await rec.stop();
  console.error(`\nrecorded ${n} message${n === 1 ? '' : 's'}`);
  return 0;
}

runAsCli(import.meta.url, main);
