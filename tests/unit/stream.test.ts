// The SSE route on its own: heartbeat comments keep an idle stream open, and closing cleans up.
import { describe, it, expect } from 'vitest';
import http from 'node:http';
import Fastify from 'fastify';
import pino from 'pino';
import { EventBus } from '../../src/bus.js';
import { streamApi } from '../../src/api/stream.js';
import type { RuleEngine } from '../../src/alerts/engine.js';
import type { ApiDeps } from '../../src/api/index.js';
import { PLATFORM } from '../../src/api/scope.js';

describe('GET /api/stream', () => {
  it('sends a heartbeat comment on an idle stream and removes its listeners when the client goes', async () => {
    const bus = new EventBus(pino({ level: 'silent' }));
    const app = Fastify();
    app.decorateRequest('principal', null as never);
    app.addHook('onRequest', async (req) => {
      req.principal = PLATFORM;
    });
    const engine = { lots: () => [] } as unknown as RuleEngine;
    await app.register(async (scope) => streamApi(engine, bus, { heartbeatMs: 30 })(scope, {} as ApiDeps));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const req = http.get(`http://127.0.0.1:${port}/api/stream`);
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    let text = '';
    res.on('data', (c) => (text += c));
    // Polled, not a fixed sleep: on a loaded machine the first 30 ms heartbeat may come late.
    await expect.poll(() => text, { timeout: 5000 }).toMatch(/: heartbeat\n\n/);
    expect(bus.hasListeners('alert')).toBe(true);
    req.destroy();
    await expect.poll(() => bus.hasListeners('alert'), { timeout: 5000 }).toBe(false);
    await app.close();
  });

  it('ends open streams when the server closes', async () => {
    const bus = new EventBus(pino({ level: 'silent' }));
    const app = Fastify();
    app.decorateRequest('principal', null as never);
    app.addHook('onRequest', async (req) => {
      req.principal = PLATFORM;
    });
    await app.register(async (scope) => streamApi({ lots: () => [] } as unknown as RuleEngine, bus)(scope, {} as ApiDeps));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const req = http.get(`http://127.0.0.1:${port}/api/stream`);
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    const ended = new Promise((r) => res.on('end', r));
    res.resume();
    const t = Date.now();
    await app.close();
    await ended;
    expect(Date.now() - t).toBeLessThan(1000);
    expect(bus.hasListeners('parking')).toBe(false);
  });
});
