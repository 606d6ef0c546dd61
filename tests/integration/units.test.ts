// The app starts its units from one ordered list and stops them in reverse (src/app.ts unitList, src/units.ts);
// a unit that fails to start stops the ones started before it, and start-up fails naming the unit. The real app
// on a temp data dir, a real port taken by another server for the failure.
import { describe, it, expect } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import pino from 'pino';
import { startApp, tempDir } from '../helpers.js';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/app.js';
import { UnitStartError } from '../../src/units.js';

function recorder() {
  const lines: Array<{ msg: string; unit?: string; level: number }> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const of = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.unit);
  return { log, lines, of };
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** Whether something accepts TCP connections on the port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('units', () => {
  it('start in the order of the one list and stop in reverse', async () => {
    const rec = recorder();
    const t = await startApp({}, undefined, { log: rec.log });
    const order = ['telemetry', 'notify', 'rules', 'ingest', 'api', 'broker', 'jobs'];
    try {
      expect(t.app.units!.names).toEqual(order);
      expect(rec.of('unit started')).toEqual(order);
      expect(rec.lines.find((l) => l.msg.startsWith('shaobing listening'))).toMatchObject({ units: order });
    } finally {
      await t.stop();
    }
    expect(rec.of('unit stopped')).toEqual([...order].reverse());
    expect(rec.lines.filter((l) => l.msg === 'stop failed')).toEqual([]);
  });

  it('a unit failing to start stops the units started before it, and start-up fails naming the unit', async () => {
    // The MQTT port is taken: the broker unit fails after telemetry … api have started.
    const taken = createServer();
    const mqttPort = await listen(taken);
    const probe = createServer();
    const httpPort = await listen(probe);
    await new Promise((r) => probe.close(r));
    const dir = tempDir('shaobing-units-');
    const rec = recorder();
    const config = loadConfig({
      settingsPath: 'config/settings.yaml',
      env: {},
      overrides: { dataDir: dir.path, mqtt: { port: mqttPort, host: '127.0.0.1' }, http: { port: httpPort, host: '127.0.0.1' } },
    });
    const app = buildApp(config, { log: rec.log });
    try {
      const err = await app.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UnitStartError);
      expect(err).toMatchObject({ unit: 'broker', code: 'EADDRINUSE' });
      expect((err as Error).message).toMatch(/^broker failed to start: .*EADDRINUSE/);
      expect(rec.of('unit started')).toEqual(['telemetry', 'notify', 'rules', 'ingest', 'api']);
      expect(rec.of('a unit failed to start; stopping the units already started')).toEqual(['broker']);
      expect(rec.of('unit stopped')).toEqual(['api', 'ingest', 'rules', 'notify', 'telemetry']);
      // Really stopped: the HTTP port is free again, the engine is down, no unit is left to stop.
      expect(await accepting(httpPort)).toBe(false);
      expect(app.rules.up).toBe(false);
      await app.stop();
      expect(rec.of('unit stopped')).toHaveLength(5);
    } finally {
      await app.stop();
      await new Promise((r) => taken.close(r));
    }
    // The data dir was let go: the next start on it succeeds.
    const again = await startApp({}, dir.path);
    try {
      expect(again.app.rules.up).toBe(true);
    } finally {
      await again.stop();
      dir.remove();
    }
  });
});
