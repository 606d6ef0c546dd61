// The API areas of the rule engine, registered together by buildApi when the engine is there.
import type { ApiPlugin } from './index.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { EventBus } from '../bus.js';
import { alertsApi } from './alerts.js';
import { parkingApi } from './parking.js';
import { streamApi } from './stream.js';
import { replayApi } from './replay.js';

export interface RulesApiDeps {
  engine: RuleEngine;
  bus: EventBus;
  /** SSE heartbeat period (tests shorten it). */
  streamHeartbeatMs?: number;
}

export function rulesPlugins(d: RulesApiDeps): ApiPlugin[] {
  return [alertsApi(d.engine), parkingApi(d.engine), streamApi(d.engine, d.bus, { heartbeatMs: d.streamHeartbeatMs }), replayApi(d.engine)];
}
