// Care (一天两见面): logging a visit to a lone elder (POST /api/care/visits), which the missed_check rule takes as
// a sign of life, and the round list a volunteer works from (GET /api/care/elders). Scoped to the caller's
// grids; a volunteer (a person whose only role is volunteer) sees and visits only the elders paired with
// them (the household's careContacts personId). Anything else is a 404, as outside one's grids.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { householdPlace, inScope, type Principal } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import { apiTime, timeSchema } from './time.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { HouseholdInfo } from '../config/inventory.js';
import type { MissedCheckConfig, MissedCheckState } from '../rules/missedCheck.js';
import { nextRound, previousRound } from '../rules/lib/rounds.js';
import type { NoWaterUseConfig, NoWaterUseState } from '../rules/noWaterUse.js';
import { floorOf, historyDays, newModel, recentHours, usualDay } from '../rules/lib/waterModel.js';

const MIN = 60_000;
/** A phone's clock may run a little ahead of ours. */
const FUTURE_SKEW_MS = 5 * MIN;
/** Visits are logged on the day, not reconstructed weeks later. */
const MAX_AGE_MS = 7 * 24 * 60 * MIN;

const iso = (t: number | undefined | null) => (t === undefined || t === null ? null : new Date(t).toISOString());

/** May this caller see (and log visits to) this household? The scope function (src/api/scope.ts). */
export function mayCare(p: Principal, h: HouseholdInfo): boolean {
  return inScope(p, householdPlace(h));
}

const elderSchema = {
  type: 'object',
  properties: {
    householdId: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    room: { type: 'string' },
    buildingName: { type: 'string' },
    gridId: { type: 'string' },
    lastSignOfLifeAt: { type: ['string', 'null'] },
    lastSign: { type: ['string', 'null'], enum: ['water', 'visit', null] },
    volunteerId: { type: ['string', 'null'] },
    openAlerts: { type: 'integer' },
    round: {
      type: 'object',
      properties: { lastAt: { type: ['string', 'null'] }, nextAt: { type: ['string', 'null'] }, missed: { type: 'boolean' } },
      required: ['lastAt', 'nextAt', 'missed'],
    },
  },
  required: ['householdId', 'room', 'buildingName', 'gridId', 'lastSignOfLifeAt', 'lastSign', 'volunteerId', 'openAlerts', 'round'],
} as const;

export function careApi(engine: RuleEngine) {
  return async function carePlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    const openByHousehold = deps.db.prepare(
      "SELECT household_id AS householdId, COUNT(*) AS n FROM alerts WHERE status <> 'resolved' AND household_id IS NOT NULL GROUP BY household_id",
    );

    app.post<{ Body: { householdId: string; note?: string; at?: string | number } }>(
      '/api/care/visits',
      {
        schema: {
          summary: 'Log a visit to a household (a sign of life for the care rounds)',
          tags: ['care'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['householdId'],
            properties: {
              householdId: { type: 'string', minLength: 1, maxLength: 64 },
              note: { type: 'string', maxLength: 500 },
              at: timeSchema('when the visit happened; default now'),
            },
          },
          response: {
            201: { type: 'object', properties: { id: { type: 'integer' }, householdId: { type: 'string' }, at: { type: 'string' } }, required: ['id', 'householdId', 'at'] },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const h = deps.directory.households.get(req.body.householdId);
        if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${req.body.householdId}'`, 404);
        const now = deps.clock.now();
        let at = now;
        if (req.body.at !== undefined) {
          at = apiTime('at', req.body.at);
          if (at > now + FUTURE_SKEW_MS) throw new AppError('SB_VALIDATION', 'at lies in the future', 400);
          if (at < now - MAX_AGE_MS) throw new AppError('SB_VALIDATION', 'a visit is logged within 7 days', 400);
          at = Math.min(at, now);
        }
        const note = req.body.note?.trim() || undefined;
        const v = engine.logVisit(h.id, req.principal.id, at, note);
        req.log.info({ householdId: h.id, by: req.principal.id, visitId: v.id }, 'care visit logged');
        return reply.code(201).send({ id: v.id, householdId: v.householdId, at: new Date(v.at).toISOString() });
      },
    );

    app.get(
      '/api/care/elders',
      {
        schema: {
          summary: "Lone elders the caller looks after, with their last sign of life and the care round",
          tags: ['care'],
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: elderSchema } } }, '4xx': errorSchema },
        },
      },
      async (req) => {
        const now = deps.clock.now();
        const open = new Map((openByHousehold.all() as Array<{ householdId: string; n: number }>).map((r) => [r.householdId, r.n]));
        const items = [];
        for (const h of deps.directory.households.values()) {
          if (!h.loneElder || !mayCare(req.principal, h)) continue;
          const state = engine.ruleState<MissedCheckState>('missed_check', h.id);
          let lastAt = state?.lastSignAt;
          let lastSign = state?.lastSign;
          if (lastAt === undefined) {
            const v = engine.visits.last(h.id); // the rule is off here, or has not heard of the household yet
            if (v) {
              lastAt = v.at;
              lastSign = 'visit';
            }
          }
          const c = engine.ruleConfig<MissedCheckConfig>('missed_check', h.id);
          const on = c?.enabled === true;
          const volunteer = h.careContacts.find((x) => x.relation === 'volunteer' && x.personId) ?? h.careContacts.find((x) => x.personId);
          items.push({
            householdId: h.id,
            displayName: h.displayName ?? null,
            room: h.room,
            buildingName: h.buildingName,
            gridId: h.gridId,
            lastSignOfLifeAt: iso(lastAt),
            lastSign: lastSign ?? null,
            volunteerId: volunteer?.personId ?? null,
            openAlerts: open.get(h.id) ?? 0,
            round: {
              lastAt: on ? iso(previousRound(now + 1, c.rounds, c.utcOffsetMinutes)) : null,
              nextAt: on ? iso(engine.scheduler.get(`missed_check:${h.id}`) ?? nextRound(now, c.rounds, c.utcOffsetMinutes)) : null,
              missed: on && state?.missed !== undefined,
            },
          });
        }
        // Whoever was missed at the last round first; then as the inventory lists them.
        items.sort((a, b) => Number(b.round.missed) - Number(a.round.missed));
        return { items };
      },
    );

    // The elder's usual day beside today (issue #10): what no_water_use has learned from the household's
    // meter — per local hour the chance of any use and the usual litres — and the hours of the last two days
    // as the meter showed them (litres above the drip floor), so a volunteer can judge an alert at a glance.
    const hourSchema = { type: 'object', properties: { hour: { type: 'integer' }, p: { type: 'number' }, litres: { type: 'number' } }, required: ['hour', 'p', 'litres'] };
    const slotSchema = {
      type: 'object',
      properties: { at: { type: 'string' }, hour: { type: 'integer' }, litres: { type: 'number' }, coveredMinutes: { type: 'integer' }, used: { type: 'boolean' } },
      required: ['at', 'hour', 'litres', 'coveredMinutes', 'used'],
    };
    app.get<{ Params: { householdId: string } }>(
      '/api/care/elders/:householdId/water',
      {
        schema: {
          summary: "A household's usual day of water use (learned) beside the last 48 hours",
          tags: ['care'],
          params: { type: 'object', properties: { householdId: { type: 'string', maxLength: 64 } }, required: ['householdId'] },
          response: {
            200: {
              type: 'object',
              properties: {
                householdId: { type: 'string' },
                deviceId: { type: ['string', 'null'] },
                historyDays: { type: 'number' },
                learning: { type: 'boolean', description: 'fewer than minHistoryDays learned: the fixed rule still holds' },
                floorLph: { type: 'number', description: "the meter's steady floor (a drip), litres per hour" },
                usualDay: { type: 'array', items: hourSchema, description: '24 local hours: chance of any use, usual litres' },
                recent: { type: 'array', items: slotSchema, description: 'hour slots of the last 48 h of data, oldest first (local hour)' },
              },
              required: ['householdId', 'deviceId', 'historyDays', 'learning', 'floorLph', 'usualDay', 'recent'],
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req) => {
        const h = deps.directory.households.get(req.params.householdId);
        if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${req.params.householdId}'`, 404);
        const meter = [...deps.directory.devices.values()].find((d) => d.householdId === h.id && d.kind === 'water-meter');
        const c = engine.ruleConfig<NoWaterUseConfig>('no_water_use', h.id);
        const off = c?.utcOffsetMinutes ?? 480;
        const m = meter ? engine.ruleState<NoWaterUseState>('no_water_use', meter.id)?.m : undefined;
        const cfg = { utcOffsetMinutes: off, priorDays: c?.priorDays ?? 3 };
        const days = m ? Math.floor(historyDays(m) * 10) / 10 : 0;
        return {
          householdId: h.id,
          deviceId: meter?.id ?? null,
          historyDays: days,
          learning: days < (c?.minHistoryDays ?? 7),
          floorLph: m ? floorOf(m) : 0,
          usualDay: usualDay(m ?? newModel(), cfg),
          recent: m
            ? recentHours(m).map((x) => ({ at: new Date(x.at).toISOString(), hour: Math.floor(((x.at + off * MIN) % 86_400_000) / 3_600_000), litres: x.litres, coveredMinutes: x.coveredMinutes, used: x.used }))
            : [],
        };
      },
    );
  };
}
