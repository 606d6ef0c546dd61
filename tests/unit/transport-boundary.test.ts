// The device transport seam (src/transport/transport.ts): ingest knows DeviceInbound only — nothing under
// src/ingest imports the broker, aedes, MQTT or WebSocket code — and the embedded and external brokers are
// DeviceTransports handing messages to the one DeviceInbound.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceTransport, DeviceInbound } from '../../src/transport/transport.js';
import type { Broker } from '../../src/broker/broker.js';
import type { Ingest } from '../../src/ingest/pipeline.js';
import type { ExternalBroker } from '../../src/transport/externalBroker.js';

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (name.endsWith('.ts')) yield p;
  }
}

describe('device transport seam', () => {
  it('ingest imports no transport: not the broker, aedes, mqtt, mqtt-packet or ws', () => {
    const offending: string[] = [];
    for (const f of files('src/ingest')) {
      for (const m of readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)) {
        if (/(^|\/)broker\/|^aedes|^mqtt|^ws$/.test(m[1]!)) offending.push(`${f}: ${m[1]}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('both brokers are DeviceTransports and ingest a DeviceInbound (checked by the compiler)', () => {
    const asTransport = (b: Broker): DeviceTransport => b;
    const externalAsTransport = (x: ExternalBroker): DeviceTransport => x;
    expect(typeof externalAsTransport).toBe('function');
    expect(readFileSync('src/transport/externalBroker.ts', 'utf8')).toMatch(/class ExternalBroker implements DeviceTransport/);
    expect(readFileSync('src/transport/externalBroker.ts', 'utf8')).not.toMatch(/interface Inbound\b/);
    const asInbound = (i: Ingest): DeviceInbound => i;
    expect(typeof asTransport).toBe('function');
    expect(typeof asInbound).toBe('function');
    expect(readFileSync('src/broker/broker.ts', 'utf8')).toMatch(/class Broker implements DeviceTransport/);
  });
});
