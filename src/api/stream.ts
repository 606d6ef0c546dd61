// GET /api/stream: Server-Sent Events (WHATWG HTML "Server-sent events") for the console and the big screen.
// `event: alert` carries the Alert JSON on open and on every change, `event: parking` a lot's counts; each
// caller gets only their grids. A comment line every 15 s keeps proxies from closing an idle stream. A stream
// ends with its connection (listeners removed) or when the server closes.
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { ApiDeps } from './index.js';
import { inScope } from './scope.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { EventBus } from '../bus.js';

export const HEARTBEAT_MS = 15_000;

export function streamApi(engine: RuleEngine, bus: EventBus, opts: { heartbeatMs?: number } = {}) {
  return async function streamPlugin(app: FastifyInstance, _deps: ApiDeps): Promise<void> {
    const open = new Set<() => void>();
    let n = 0;
    // preClose, not onClose: the server waits for open connections before onClose runs, and a stream never
    // ends by itself.
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
    });

    app.get('/api/stream', { schema: { summary: 'Live alerts and parking counts (text/event-stream)', tags: ['alerts'] } }, (req, reply) => {
      const principal = req.principal;
      // HEAD (Fastify answers it with this handler): the headers of a stream, and no stream to hold open.
      if (req.method === 'HEAD') return reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').send();
      const res: ServerResponse = reply.raw;
      const owner = `sse:${++n}`;
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      res.write(': shaobing stream\nretry: 5000\n\n');
      for (const lot of engine.lots()) if (inScope(principal, lot)) send('parking', lot);
      bus.on('alert', owner, (a) => inScope(principal, a) && send('alert', a));
      bus.on('parking', owner, (l) => inScope(principal, l) && send('parking', l));
      const beat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs ?? HEARTBEAT_MS);
      beat.unref();
      const end = () => {
        if (!open.delete(end)) return;
        clearInterval(beat);
        bus.removeOwner(owner);
        res.end();
      };
      open.add(end);
      req.raw.on('close', end);
      res.on('close', end);
      res.on('error', end);
    });
  };
}
