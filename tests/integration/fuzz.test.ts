// Property-based fuzzing of the whole ingest path over real MQTT (fast-check): for every kind and format, a
// device publishes generated and mutated payloads (tests/fuzzPayloads.ts) at QoS 0 and 1, and each one ends as
// exactly one accepted reading or one rejection — never a stall, never a crash, never twice. The long run
// (100,000 messages) is bench/fuzz.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { startApp, connectDevice, waitFor, auth, type TestApp } from '../helpers.js';
import { formats, payloadArb, withFuzzLot } from '../fuzzPayloads.js';
import { deviceKinds } from '../../devices/index.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261122);
let t: TestApp;
const ended = new Map<string, number>();
const clients: MqttClient[] = [];

const lot = withFuzzLot(4);

beforeAll(async () => {
  t = await startApp({ communities: lot.communities });
  const count = (id: string | null) => id && ended.set(id, (ended.get(id) ?? 0) + 1);
  t.app.bus.on('reading', 'fuzz', (r) => count(r.deviceId));
  t.app.bus.on('rejection', 'fuzz', (r) => count(r.deviceId));
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await t?.stop();
  lot.remove();
});

describe('fuzzing ingest over MQTT', () => {
  for (const [i, { kind, format, examples }] of formats().entries()) {
    it(`${kind}/${format}: every published payload ends as exactly one reading or one rejection`, async () => {
      // A device of this kind and format, provisioned like any other.
      const id = `fuzz-${i}`;
      const place = (list: Map<string, { communityId: string }>, communityId = 'guihuayuan') =>
        [...list].find(([s, v]) => v.communityId === communityId && ![...t.app.directory.devices.values()].some((d) => d.spaceId === s))![0];
      // Where the device goes comes from its kind's declared placement (devices/<kind>/index.ts), so a new kind
      // is fuzzed without a line here.
      const def = deviceKinds.find((k) => k.kind === kind)!;
      const communityId = def.placement.some((p) => p.field === 'spaceId') ? lot.communityId : 'guihuayuan';
      const places = { spaceId: t.app.directory.spaces, gateId: t.app.directory.gates, buildingId: t.app.directory.buildings, householdId: t.app.directory.households } as const;
      const where = Object.fromEntries(def.placement.map((p) => [p.field, place(places[p.field], communityId)]));
      const res = await fetch(`${t.httpUrl}/api/devices`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ id, kind, communityId, format, ...where }),
      });
      expect(res.status).toBe(201);
      const { secret, topic } = (await res.json()) as { secret: string; topic: string };
      const client = await connectDevice(t.mqttUrl, id, secret);
      clients.push(client);
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(payloadArb(examples), fc.constantFrom(0 as const, 1 as const)), { minLength: 1, maxLength: 20 }), async (messages) => {
          // Published without waiting, so a run's messages share batches.
          await Promise.all(messages.map(([payload, qos]) => client.publishAsync(topic, payload, { qos })));
          sent += messages.length;
          await waitFor(() => (ended.get(id) ?? 0) >= sent, `${sent} messages of ${id} processed`, 10_000);
          expect(ended.get(id)).toBe(sent);
        }),
        { numRuns: 15, seed },
      );
      // Nothing arrives late or twice, nothing waits.
      await new Promise((r) => setTimeout(r, 50));
      expect(ended.get(id)).toBe(sent);
      expect(t.app.ingest.backlog().depth).toBe(0);
      expect(t.app.db.prepare('SELECT COUNT(*) FROM inbox').pluck().get()).toBe(0);
      const health = await fetch(`${t.httpUrl}/healthz`);
      expect(health.status).toBe(200);
    });
  }
});
