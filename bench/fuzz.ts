// bench/fuzz: the long fuzz run of issue 11. For every kind and format, devices publish generated and mutated
// payloads (tests/fuzzPayloads.ts: the kind's own examples mutated structurally, as text and as bytes, plus
// random JSON and bytes) over real MQTT to the full service (sample communities, every rule, SQLite history),
// QoS 1 and 0 mixed. Each message must end as exactly one accepted reading or one rejection: the run counts
// them, every crash (an uncaught exception or rejection in the process) and every stall (a device whose
// messages are not all processed 30 s after its last publish).
//   npm run bench:fuzz -- [--messages 100000] [--devices-per-format 4] [--seed N] [--write]
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { arg, writeBenchmarkSection } from './lib.js';
import { startApp, ADMIN_TOKEN as ADMIN } from '../tests/helpers.js';
import { formats, payloadArb, withFuzzLot } from '../tests/fuzzPayloads.js';

const MESSAGES = arg('messages', 100_000);
const PER_FORMAT = arg('devices-per-format', 4);
const SEED = arg('seed', Date.now() % 2 ** 31);
const WINDOW = 200; // unacknowledged QoS1 messages per device
const CHUNK = 500; // payloads generated at a time per device (generation is lazy: memory stays flat)

let crashes = 0;
const crashNotes: string[] = [];
process.on('uncaughtException', (err) => {
  crashes++;
  crashNotes.push(String(err?.stack ?? err).slice(0, 500));
});
process.on('unhandledRejection', (err) => {
  crashes++;
  crashNotes.push(String((err as Error)?.stack ?? err).slice(0, 500));
});

async function main(): Promise<void> {
  // The real service on the sample communities, as the tests start it (tests/helpers.ts).
  // One sensor per space: the fuzzed parking sensors get a lot of their own.
  const lot = withFuzzLot(2 * PER_FORMAT);
  const t = await startApp({ communities: lot.communities });
  const app = t.app;
  const http = t.httpUrl;
  const url = t.mqttUrl;

  const ended = new Map<string, number>();
  const byCode = new Map<string, number>();
  let accepted = 0;
  let rejected = 0;
  app.bus.on('reading', 'fuzz', (r) => {
    accepted++;
    ended.set(r.deviceId, (ended.get(r.deviceId) ?? 0) + 1);
  });
  app.bus.on('rejection', 'fuzz', (r) => {
    rejected++;
    byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    if (r.deviceId) ended.set(r.deviceId, (ended.get(r.deviceId) ?? 0) + 1);
  });

  const all = formats();
  const perDevice = Math.ceil(MESSAGES / (all.length * PER_FORMAT));
  const place = (list: Map<string, { communityId: string }>, communityId = 'guihuayuan') =>
    [...list].find(([s, v]) => v.communityId === communityId && ![...app.directory.devices.values()].some((d) => d.spaceId === s))![0];
  const devices: Array<{ id: string; secret: string; topic: string; examples: Buffer[]; label: string; n: number }> = [];
  let left = MESSAGES;
  for (const [f, { kind, format, examples }] of all.entries())
    for (let k = 0; k < PER_FORMAT; k++) {
      const id = `fuzz-${f}-${k}`;
      const communityId = kind === 'parking-sensor' ? lot.communityId : 'guihuayuan';
      const where = kind === 'parking-sensor' ? { spaceId: place(app.directory.spaces, communityId) } : kind === 'smart-gate' ? { gateId: place(app.directory.gates) } : {};
      const res = await fetch(`${http}/api/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, kind, communityId, format, ...where }),
      });
      if (res.status !== 201) throw new Error(`provisioning ${id}: ${res.status} ${await res.text()}`);
      const { secret, topic } = (await res.json()) as { secret: string; topic: string };
      const n = Math.min(perDevice, left);
      left -= n;
      devices.push({ id, secret, topic, examples, label: `${kind}/${format}`, n });
    }

  const stalls: string[] = [];
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    devices.map(async (d, di) => {
      const client = await mqtt.connectAsync(url, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 });
      const arb = fc.tuple(payloadArb(d.examples), fc.constantFrom(0 as const, 1 as const, 1 as const));
      const inFlight = new Set<Promise<unknown>>();
      for (let from = 0; from < d.n; from += CHUNK) {
        const batch = fc.sample(arb, { numRuns: Math.min(CHUNK, d.n - from), seed: SEED + di * 100_003 + from });
        for (const [payload, qos] of batch) {
          bytes += payload.length;
          const p = client.publishAsync(d.topic, payload, { qos }).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        }
      }
      await Promise.all(inFlight);
      const deadline = Date.now() + 30_000;
      while ((ended.get(d.id) ?? 0) < d.n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if ((ended.get(d.id) ?? 0) !== d.n) stalls.push(`${d.id} (${d.label}): ${ended.get(d.id) ?? 0} of ${d.n} ended`);
      await client.endAsync();
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200)); // anything late or twice would show now
  const sent = devices.reduce((n, d) => n + d.n, 0);
  const backlog = app.ingest.backlog();
  const health = (await fetch(`${http}/healthz`)).status;
  await t.stop();
  lot.remove();

  const fmt = (n: number) => n.toLocaleString('en-US');
  const codes = [...byCode].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${fmt(n)}`).join(', ');
  const ok = accepted + rejected === sent && crashes === 0 && stalls.length === 0;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  const wrap = (text: string) => text.replace(/(.{1,112})(\s+|$)/g, '$1\n').trimEnd();
  const lines = [
    '## Fuzzing ingest',
    '',
    wrap('`npm run bench:fuzz` (`bench/fuzz.ts`): for every kind and format (' +
      `${all.length} pairs, ${PER_FORMAT} devices each), devices publish generated and mutated payloads over real MQTT to the ` +
      'full service (sample communities, every rule, SQLite history), QoS 1 and QoS 0 mixed 2:1. The payloads ' +
      '(`tests/fuzzPayloads.ts`, fast-check) are each format\'s own examples mutated structurally (a field set to ' +
      'a hostile value — 1e300, 8.64e15, year 0001, 5,000-character strings, deep arrays — removed or added), as ' +
      'text (a number token replaced by `1e309`, `-1e999` or `1e300`; the body buried under up to 8,000 ' +
      'brackets; cut short; invalid UTF-8 inserted) and as bytes (bits flipped, slices repeated, frames cut), ' +
      'plus random JSON and random bytes. A stall is a device whose messages are not all processed 30 s after ' +
      'its last publish; a crash is an uncaught exception or rejection in the process. Before issue 11 a run ' +
      'like this stalled for good at the first payload with a time of 1e300 (the issue\'s own 100,000-message run: ' +
      'five such payloads silently swallowed 21,528 acknowledged messages).'),
    '',
    `Run of ${new Date().toISOString().slice(0, 10)}, seed ${SEED}, on ${machine}:`,
    '',
    '| messages sent | accepted | rejected | accepted + rejected = sent | crashes | stalls | left waiting | time | msg/s |',
    '| ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${fmt(sent)} | ${fmt(accepted)} | ${fmt(rejected)} | ${accepted + rejected === sent ? 'yes' : `**no** (${fmt(accepted + rejected - sent)})`} | ${crashes} | ${stalls.length} | ${backlog.depth} | ${secs.toFixed(1)} s | ${fmt(Math.round(sent / secs))} |`,
    '',
    wrap(`Rejections by code: ${codes}. Payload bytes sent: ${fmt(bytes)}; /healthz at the end: ${health}.`),
  ];
  console.log(lines.join('\n'));
  if (stalls.length) console.log('\nstalls:\n' + stalls.join('\n'));
  if (crashNotes.length) console.log('\ncrashes:\n' + crashNotes.slice(0, 5).join('\n---\n'));
  if (process.argv.includes('--write')) writeBenchmarkSection('Fuzzing ingest', lines.join('\n'));
  process.exitCode = ok ? 0 : 1;
}

await main();
process.exit(process.exitCode ?? 0);
