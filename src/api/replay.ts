// POST /api/replay/clock {now}: move the event clock (replays, simulations, tests) and fire the deadlines it
// passes. Only with `clock: event` (CONTRACT.md); on the wall clock it is a 409. Time never goes back. The
// clock is everybody's, so only an admin moves it.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { errorSchema } from './schemas.js';
import { requirePlatform } from './scope.js';
import { AppError } from '../errors.js';
import { apiTime, timeSchema } from './time.js';
import type { RuleEngine } from '../alerts/engine.js';

export function replayApi(engine: RuleEngine) {
  return async function replayPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    app.withTypeProvider<SchemaTypes>().post(
      '/api/replay/clock',
      {
        schema: {
          summary: 'Advance the event clock (clock: event only)',
          tags: ['replay'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['now'],
            properties: { now: timeSchema('the event time to move the clock to') },
          },
          response: {
            200: { type: 'object', properties: { now: { type: 'string' }, fired: { type: 'integer' } }, required: ['now', 'fired'] },
            '4xx': errorSchema,
          },
        },
      },
      async (req) => {
        requirePlatform(req.principal); // one clock for every community: the platform operator's tool
        if (deps.clock.mode !== 'event') throw new AppError('SB_CLOCK_NOT_EVENT', 'the clock is wall time; replay needs clock: event');
        const now = apiTime('now', req.body.now);
        if (now < deps.clock.now())
          throw new AppError('SB_CLOCK_BACKWARDS', `the event clock is at ${new Date(deps.clock.now()).toISOString()} and never goes back`);
        const res = engine.advanceClock(now);
        return { now: new Date(res.now).toISOString(), fired: res.fired };
      },
    );
  };
}
