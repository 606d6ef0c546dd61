// Load generator, run as its own process so it does not share the broker's event loop: N devices connect
// over loopback TCP and publish canonical water-meter readings as fast as the broker takes them. Packets
// are pre-encoded with mqtt-packet and written straight to the socket, so the generator outruns the broker
// (mqtt.js itself would be the bottleneck). QoS1 keeps a window of 100 unacknowledged messages per device.
// argv: url devices(json [id,secret,community?][]) messagesPerDevice qos communityId [rate] (a device's own
// community, when given, overrides communityId: bench/cluster.ts spreads devices over several communities)
// rate (messages per second, all devices together; 0 or absent = as fast as the broker takes them): paced QoS0
// load, sent in 10 ms steps, for a steady fraction of the broker's capacity (bench/notify.ts).
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

const [url, devicesJson, perDeviceArg, qosArg, community, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 0);
const devices = JSON.parse(devicesJson) as Array<[string, string, string?]>;
const perDevice = Number(perDeviceArg);
const qos = Number(qosArg) as 0 | 1;
const { hostname, port } = new URL(url);
const WINDOW = 100;

function publishPacket(topic: string, seq: number, messageId: number): Buffer {
  const payload = `{"type":"reading","totalM3":${(1000 + seq / 1000).toFixed(3)},"batteryPct":90,"rssi":-90}`;
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId: qos ? messageId : undefined, retain: false, dup: false });
}

function write(sock: Socket, buf: Buffer): Promise<void> {
  return new Promise((resolve) => (sock.write(buf) ? resolve() : sock.once('drain', resolve)));
}

async function open(id: string, secret: string): Promise<{ sock: Socket; acks(): number; waitAcks(n: number): Promise<void> }> {
  const sock = connect(Number(port), hostname);
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  let received = 0;
  let waiter: { n: number; resolve(): void } | null = null;
  const connack = new Promise<void>((resolve, reject) => {
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // CONNACK is 4 bytes, each PUBACK 4 bytes: nothing else is sent to a device that subscribed to nothing.
      if (received >= 4) resolve();
      if (waiter && (received - 4) / 4 >= waiter.n) {
        const w = waiter;
        waiter = null;
        w.resolve();
      }
    });
    sock.once('close', () => reject(new Error(`${id}: connection closed`)));
  });
  sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: id, keepalive: 60, username: id, password: Buffer.from(secret) }));
  await connack;
  return {
    sock,
    acks: () => (received - 4) / 4,
    waitAcks: (n) => new Promise<void>((resolve) => ((received - 4) / 4 >= n ? resolve() : (waiter = { n, resolve }))),
  };
}

async function run(conn: Awaited<ReturnType<typeof open>>, id: string, own?: string): Promise<void> {
  const topic = `iot/${own ?? community}/${id}/up`;
  if (rate > 0) {
    // Each device's share of the rate, in 10 ms steps, on the wall clock (no drift from slow steps).
    const perStep = (rate / devices.length) * 0.01;
    const t0 = Date.now();
    let sent = 0;
    for (let step = 1; sent < perDevice; step++) {
      const due = Math.min(perDevice, Math.floor(step * perStep));
      const batch: Buffer[] = [];
      for (; sent < due; sent++) batch.push(publishPacket(topic, sent, 0));
      if (batch.length) await write(conn.sock, Buffer.concat(batch));
      const wait = t0 + step * 10 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return;
  }
  if (qos === 0) {
    const batch: Buffer[] = [];
    for (let i = 0; i < perDevice; i++) batch.push(publishPacket(topic, i, 0));
    await write(conn.sock, Buffer.concat(batch));
  } else {
    for (let i = 0; i < perDevice; i += WINDOW) {
      const n = Math.min(WINDOW, perDevice - i);
      const batch: Buffer[] = [];
      for (let j = 0; j < n; j++) batch.push(publishPacket(topic, i + j, ((i + j) % 65535) + 1));
      await write(conn.sock, Buffer.concat(batch));
      await conn.waitAcks(i + n);
    }
  }
}

const conns = await Promise.all(devices.map(([id, secret]) => open(id, secret)));
process.send?.({ ready: true });
process.once('message', async () => {
  await Promise.all(conns.map((c, i) => run(c, devices[i][0], devices[i][2])));
  process.send?.({ done: true });
});
