// The idle devices of bench/idle.ts, in a process of their own: N devices connect over loopback TCP with
// pre-encoded packets (CONNECT with keepalive K seconds), then only keep their sessions alive — a PINGREQ each
// keepalive period, spread over the period like real devices that were switched on at different times.
// argv: url devices(json file of [id,secret][]) keepaliveSeconds. Sends {connected} once all are connected.
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import mqttPacket from 'mqtt-packet';

const [url, devicesFile, keepaliveArg] = process.argv.slice(2);
const devices = JSON.parse(readFileSync(devicesFile, 'utf8')) as Array<[string, string]>;
const keepalive = Number(keepaliveArg ?? 60);
const { hostname, port } = new URL(url);
const PINGREQ = mqttPacket.generate({ cmd: 'pingreq' });
const sockets: Socket[] = [];

function open(id: string, secret: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    sock.once('error', reject);
    sock.once('connect', () =>
      sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: id, keepalive, username: id, password: Buffer.from(secret) })),
    );
    // CONNACK: 20 02 00 00 (accepted).
    sock.once('data', (b: Buffer) => (b[0] === 0x20 && b[3] === 0 ? resolve(sock) : reject(new Error(`${id}: refused (${b.toString('hex')})`))));
    sock.on('data', () => undefined); // PINGRESPs
  });
}

// Connect in waves of 100 (a whole estate's devices do not all come up in the same millisecond).
for (let i = 0; i < devices.length; i += 100) {
  sockets.push(...(await Promise.all(devices.slice(i, i + 100).map(([id, secret]) => open(id, secret)))));
}
sockets.forEach((sock, i) => {
  const first = ((i / sockets.length) * keepalive * 1000) | 0;
  setTimeout(() => {
    sock.write(PINGREQ);
    setInterval(() => sock.write(PINGREQ), keepalive * 1000);
  }, first);
});
process.send?.({ connected: sockets.length });
process.on('disconnect', () => process.exit(0));
