// The smoke alarms of bench/notify.ts, published from a process of their own: published from the benchmark's
// process, which is the service's, an alarm could never start during a stall of the service's event loop, so
// it never waited one out. argv: url detectors(json [id,secret][]). Sends {id, at} per alarm (at = Date.now()
// just before the PUBLISH is written), then exits.
import mqtt from 'mqtt';

const [url, detectorsJson] = process.argv.slice(2);
for (const [id, secret] of JSON.parse(detectorsJson) as Array<[string, string]>) {
  const c = await mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 });
  const at = Date.now();
  await c.publishAsync(`iot/bench/${id}/up`, JSON.stringify({ type: 'alarm', smokePct: 40 }), { qos: 1 });
  process.send?.({ id, at });
  await c.endAsync();
  await new Promise((r) => setTimeout(r, 20));
}
process.disconnect?.();
