// Bounded before authentication (issue 11): a connection that has not completed CONNECT cannot make the
// broker hold more than a few KB, and an oversize packet is refused at the parser. The flood from the issue —
// `30 80 80 80 60` (a PUBLISH claiming 201 MB) and then 64 MiB, never a CONNECT — runs against the service in
// a child process, whose resident memory is read from /proc.
import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { startApp, tempDir, sampleDevices, sampleSecrets, auth, waitFor, type TestApp } from '../helpers.js';
import { startChild, killChildren } from '../child.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  killChildren();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return Number(kb) * 1024;
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Write `header`, then `total` bytes in 64 KiB chunks as fast as the socket takes them, until it closes. */
async function flood(sock: Socket, header: Buffer, total: number): Promise<{ closedAfterMs: number; written: number }> {
  const t0 = Date.now();
  let closed = false;
  const gone = new Promise<void>((r) => sock.once('close', () => ((closed = true), r())));
  sock.on('error', () => undefined);
  sock.write(header);
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let written = 0;
  while (written < total && !closed) {
    const more = sock.write(chunk);
    written += chunk.length;
    if (!more) await Promise.race([new Promise((r) => sock.once('drain', r)), gone]);
  }
  await Promise.race([gone, new Promise((r) => setTimeout(r, 35_000))]);
  return { closedAfterMs: closed ? Date.now() - t0 : Infinity, written };
}

describe('before authentication', () => {
  it('closes at once a connection that floods without CONNECT, and its memory stays flat', async () => {
    const dir = tempDir('shaobing-preauth-');
    cleanups.push(() => dir.remove());
    const child = await startChild(dir.path);
    const pid = child.proc.pid!;
    await new Promise((r) => setTimeout(r, 500)); // let start-up settle
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    try {
      const results = await Promise.all(
        [0, 1, 2].map(async () => flood(await open(child.mqttUrl), Buffer.from([0x30, 0x80, 0x80, 0x80, 0x60]), 64 * 1024 * 1024)),
      );
      for (const r of results) expect(r.closedAfterMs).toBeLessThan(2000);
    } finally {
      clearInterval(sampler);
    }
    // Three floods of up to 64 MiB each: the broker held next to nothing of them.
    expect(peak - before).toBeLessThan(24 * 1024 * 1024);
    // And it still serves devices.
    const [meter] = sampleDevices('water-meter', 'canonical', 'chunjiang');
    const sock = await open(child.mqttUrl);
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: meter, keepalive: 60, username: meter, password: Buffer.from(sampleSecrets.devices[meter]) }));
    const connack = await new Promise<Buffer>((r) => sock.once('data', r));
    expect([...connack.subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    sock.destroy();
  }, 60_000);

  it('closes at once a CONNECT that claims to be larger than the budget', async () => {
    const t = await startApp();
    cleanups.push(() => t.stop());
    const { closedAfterMs } = await flood(await open(t.mqttUrl), Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), 4 * 1024 * 1024);
    expect(closedAfterMs).toBeLessThan(2000);
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/shaobing_auth_failures_total\{reason="connect_too_large"\} 1/);
  });

  it('holds what a device pipelines before its CONNACK and processes all of it once connected', async () => {
    const t = await startApp();
    cleanups.push(() => t.stop());
    const [meter] = sampleDevices('water-meter', 'canonical', 'chunjiang');
    const topic = `iot/chunjiang/${meter}/up`;
    // CONNECT and 40 QoS 1 readings of ~600 bytes in one write, before any CONNACK (allowed, MQTT 3.1.1
    // §3.1.4): more than the pre-authentication budget, so part of it waits for the CONNACK.
    const packets = [
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: meter, keepalive: 60, username: meter, password: Buffer.from(sampleSecrets.devices[meter]) }),
      ...Array.from({ length: 40 }, (_, i) =>
        mqttPacket.generate({ cmd: 'publish', topic, qos: 1, messageId: i + 1, retain: false, dup: false, payload: JSON.stringify({ type: 'reading', totalM3: 50 + i / 100, note: 'x'.repeat(550) }) }),
      ),
    ];
    const sock = await open(t.mqttUrl);
    cleanups.push(() => sock.destroy());
    sock.write(Buffer.concat(packets));
    await waitFor(async () => {
      const res = await t.app.api.inject({ url: `/api/devices/${meter}`, headers: auth() });
      return res.json().state.accepted === 40;
    }, 'all 40 pipelined readings processed', 10_000);
  });
});

describe('oversize packets from an authenticated device', () => {
  it('are refused at the parser: the connection closes as soon as the fixed header claims too much', async () => {
    const t = await startApp();
    cleanups.push(() => t.stop());
    const [meter] = sampleDevices('water-meter', 'canonical', 'chunjiang');
    const sock = await open(t.mqttUrl);
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: meter, keepalive: 60, username: meter, password: Buffer.from(sampleSecrets.devices[meter]) }));
    await new Promise((r) => sock.once('data', r));
    const { closedAfterMs } = await flood(sock, Buffer.from([0x30, 0x80, 0x80, 0x80, 0x60]), 16 * 1024 * 1024);
    expect(closedAfterMs).toBeLessThan(2000);
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/shaobing_auth_failures_total\{reason="packet_too_large"\} 1/);
  });
});
