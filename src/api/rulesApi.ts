// The API areas of the rule engine, registered together by buildApi when the engine is there.
import type { ApiPlugin } from './index.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { EventBus } from '../bus.js';
import { alertsApi } from './alerts.js';
import { parkingApi } from './parking.js';
import { streamApi } from './stream.js';
import { replayApi } from './replay.js';
import { careApi } from './care.js';
import { reportsApi } from './reports.js';
import { residentsApi } from './residents.js';

export interface RulesApiDeps {
  engine: RuleEngine;
  bus: EventBus;
  /** SSE heartbeat period (tests shorten it). */
  streamHeartbeatMs?: number;
  /** settings.notify.utcOffsetMinutes: local days of GET /api/reports/daily (default 480, UTC+8). */
  utcOffsetMinutes?: number;
  /** settings.http.publicUrl: the full invite links printed for households (src/api/residents.ts). */
  publicUrl?: string;
}

export function rulesPlugins(d: RulesApiDeps): ApiPlugin[] {
  return [
    alertsApi(d.engine),
    parkingApi(d.engine),
    streamApi(d.engine, d.bus, { heartbeatMs: d.streamHeartbeatMs }),
    replayApi(d.engine),
    careApi(d.engine),
    reportsApi({ utcOffsetMinutes: d.utcOffsetMinutes }),
    residentsApi({ engine: d.engine, utcOffsetMinutes: d.utcOffsetMinutes, publicUrl: d.publicUrl }),
  ];
}
