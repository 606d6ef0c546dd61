// Care (一天两见面): logging a visit to a lone elder (POST /api/care/visits), which the missed_check rule takes as
// a sign of life, and the round list a volunteer works from (GET /api/care/elders). Scoped to the caller's
// grids; a volunteer (a person whose only role is volunteer) sees and visits only the elders paired with
// them (the household's careContacts personId). Anything else is a 404, as outside one's grids.
//
// Absences (外出、住院、子女家): POST /api/care/absences marks a household away from/until; PATCH moves its end,
// POST …/end says the elder is back. no_water_use and missed_check do not judge the time an absence covers
// (docs/care.md "Absences"). Who may mark: whoever sees the household and looks after elders — a paired
// volunteer, the grid head and members, special-care staff, the residents' committee, admins.
import type { SchemaTypes } from './typeProvider.js';
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
import { ABSENCE_LABELS, ABSENCE_REASONS, absenceEnd, type AbsenceReason } from '../rules/lib/care.js';
import type { Absence } from '../alerts/absences.js';
import type { Role } from '../config/schema.js';

const MIN = 60_000;
/** A phone's clock may run a little ahead of ours. */
const FUTURE_SKEW_MS = 5 * MIN;
/** Visits are logged on the day, not reconstructed weeks later. */
const MAX_AGE_MS = 7 * 24 * 60 * MIN;

const DAY = 24 * 60 * MIN;
/** The longest absence one mark covers (a long hospital stay is extended when it runs out). */
export const MAX_ABSENCE_DAYS = 90;
/** Roles that may mark a household away (besides admins); always within the caller's scope. */
const ABSENCE_MARKERS: readonly Role[] = ['volunteer', 'grid_head', 'grid_member', 'special_care', 'residents_committee'];

const iso = (t: number | undefined | null) => (t === undefined || t === null ? null : new Date(t).toISOString());

/** May this caller see (and log visits to) this household? The scope function (src/api/scope.ts). */
export function mayCare(p: Principal, h: HouseholdInfo): boolean {
  return inScope(p, householdPlace(h));
}

function mayMarkAway(p: Principal): boolean {
  return p.admin || p.roles.some((r) => ABSENCE_MARKERS.includes(r));
}

/** A time given as RFC 3339 or epoch ms, inside 2000–2100 (src/api/time.ts), else SB_ABSENCE_RANGE naming the field. */
function timeOf(v: string | number, field: string): number {
  try {
    return apiTime(field, v);
  } catch (err) {
    throw new AppError('SB_ABSENCE_RANGE', err instanceof Error ? err.message : `${field} is not a time`);
  }
}

/**
 * planned (not begun), away, returned (ended early by a person or by water use), over (until passed, and a sign
 * of life since or none needed), overdue (until passed, the overdue notice went out, no sign of life since).
 */
export function absenceStatus(a: Absence, now: number, lastSignAt?: number): 'planned' | 'away' | 'returned' | 'over' | 'overdue' {
  if (a.endedAt !== undefined && a.endedAt < a.until) return 'returned';
  if (a.until <= now) return a.promptedAt !== undefined && (lastSignAt ?? -Infinity) <= a.until ? 'overdue' : 'over';
  return a.from > now ? 'planned' : 'away';
}

const absenceView = (a: Absence, now: number, lastSignAt?: number) => ({
  id: a.id,
  householdId: a.householdId,
  reason: a.reason,
  reasonLabel: ABSENCE_LABELS[a.reason],
  note: a.note ?? null,
  from: iso(a.from)!,
  until: iso(a.until)!,
  status: absenceStatus(a, now, lastSignAt),
  promptedAt: iso(a.promptedAt),
  endedAt: iso(a.endedAt),
  endedBy: a.endedBy ?? null,
  endNote: a.endNote ?? null,
  createdBy: a.createdBy,
  createdAt: iso(a.createdAt)!,
});

const absenceSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    householdId: { type: 'string' },
    reason: { type: 'string', enum: [...ABSENCE_REASONS] },
    reasonLabel: { type: 'string', description: '外出、住院、子女家、其他' },
    note: { type: ['string', 'null'] },
    from: { type: 'string' },
    until: { type: 'string' },
    status: { type: 'string', enum: ['planned', 'away', 'returned', 'over', 'overdue'] },
    promptedAt: { type: ['string', 'null'], description: 'when the gentle overdue-return notice went to the carers' },
    endedAt: { type: ['string', 'null'], description: 'when it ended before until: a person said the elder is back, or water use at home showed it' },
    endedBy: { type: ['string', 'null'], description: "a person id, or 'water'" },
    endNote: { type: ['string', 'null'] },
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
  },
  required: ['id', 'householdId', 'reason', 'reasonLabel', 'note', 'from', 'until', 'status', 'promptedAt', 'endedAt', 'endedBy', 'endNote', 'createdBy', 'createdAt'],
} as const;

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
    away: { anyOf: [{ type: 'null' }, absenceSchema], description: 'the absence covering now, if the household is marked away' },
    round: {
      type: 'object',
      properties: { lastAt: { type: ['string', 'null'] }, nextAt: { type: ['string', 'null'] }, missed: { type: 'boolean' } },
      required: ['lastAt', 'nextAt', 'missed'],
    },
  },
  required: ['householdId', 'room', 'buildingName', 'gridId', 'lastSignOfLifeAt', 'lastSign', 'volunteerId', 'openAlerts', 'away', 'round'],
} as const;

export function careApi(engine: RuleEngine) {
  return async function carePlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {

    app.withTypeProvider<SchemaTypes>().post(
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
        if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${req.body.householdId}'`);
        const now = deps.clock.now();
        let at = now;
        if (req.body.at !== undefined) {
          at = apiTime('at', req.body.at);
          if (at > now + FUTURE_SKEW_MS) throw new AppError('SB_VALIDATION', 'at lies in the future');
          if (at < now - MAX_AGE_MS) throw new AppError('SB_VALIDATION', 'a visit is logged within 7 days');
          at = Math.min(at, now);
        }
        const note = req.body.note?.trim() || undefined;
        const v = engine.care.logVisit(h.id, req.principal.id, at, note);
        req.log.info({ householdId: h.id, by: req.principal.id, visitId: v.id }, 'care visit logged');
        return reply.code(201).send({ id: v.id, householdId: v.householdId, at: new Date(v.at).toISOString() });
      },
    );

    const awayNow = (householdId: string, now: number) => {
      const a = engine.care.absences.list(householdId, now, 5).find((x) => x.from <= now && absenceEnd(x) > now);
      return a ? absenceView(a, now) : null;
    };

    const signOf = (householdId: string) => engine.ruleState<MissedCheckState>('missed_check', householdId)?.lastSignAt;

    /** The absence `id` if the caller sees its household; else 404, as absent. */
    const visibleAbsence = (p: Principal, id: number) => {
      const a = engine.care.absences.get(id);
      const h = a && deps.directory.households.get(a.householdId);
      if (!a || !h || !mayCare(p, h)) throw new AppError('SB_NOT_FOUND', `no absence ${id}`);
      return a;
    };

    const checkSpan = (from: number, until: number, now: number) => {
      if (until <= from) throw new AppError('SB_ABSENCE_RANGE', 'until must be after from');
      if (until <= now) throw new AppError('SB_ABSENCE_RANGE', 'until has already passed');
      if (until - from > MAX_ABSENCE_DAYS * DAY) throw new AppError('SB_ABSENCE_TOO_LONG', `an absence is at most ${MAX_ABSENCE_DAYS} days`);
    };

    app.withTypeProvider<SchemaTypes>().post(
      '/api/care/absences',
      {
        schema: {
          summary: 'Mark a household away (外出、住院、子女家): no_water_use and missed_check do not judge the time it covers',
          tags: ['care'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['householdId', 'reason', 'until'],
            properties: {
              householdId: { type: 'string', minLength: 1, maxLength: 64 },
              reason: { type: 'string', enum: [...ABSENCE_REASONS], description: 'outing 外出, hospital 住院, family 子女家, other 其他' },
              from: timeSchema('when the household left; default now; at most 7 days back'),
              until: timeSchema('when it is expected back: after from and now, at most 90 days after from'),
              note: { type: 'string', maxLength: 500 },
            },
          },
          response: { 201: absenceSchema, '4xx': errorSchema },
        },
      },
      async (req, reply) => {
        const h = deps.directory.households.get(req.body.householdId);
        if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${req.body.householdId}'`);
        if (!mayMarkAway(req.principal)) throw new AppError('SB_FORBIDDEN', 'your role may not mark a household away');
        const now = deps.clock.now();
        const from = req.body.from === undefined ? now : timeOf(req.body.from, 'from'); // ahead of now: a planned absence
        const until = timeOf(req.body.until, 'until');
        if (from < now - MAX_AGE_MS) throw new AppError('SB_ABSENCE_RANGE', 'from lies more than 7 days back');
        checkSpan(from, until, now);
        const clash = engine.care.absences.list(h.id, from).find((x) => x.from < until && absenceEnd(x) > from);
        if (clash) throw new AppError('SB_ABSENCE_OVERLAP', `the household is already marked away (absence ${clash.id}); change that one`);
        const a = engine.care.markAway({
          householdId: h.id,
          communityId: h.communityId,
          gridId: h.gridId,
          reason: req.body.reason,
          note: req.body.note?.trim() || undefined,
          from,
          until,
          createdBy: req.principal.id,
        });
        req.log.info({ householdId: h.id, by: req.principal.id, absenceId: a.id, reason: a.reason }, 'household marked away');
        return reply.code(201).send(absenceView(a, now));
      },
    );

    app.withTypeProvider<SchemaTypes>().get(
      '/api/care/absences',
      {
        schema: {
          summary: "Absences of the caller's households: planned, current, and those that ended in the last 7 days",
          tags: ['care'],
          querystring: { type: 'object', additionalProperties: false, properties: { householdId: { type: 'string', minLength: 1, maxLength: 64 } } },
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: absenceSchema } }, required: ['items'] }, '4xx': errorSchema },
        },
      },
      async (req) => {
        const now = deps.clock.now();
        const after = now - MAX_AGE_MS;
        const q = req.query.householdId;
        if (q !== undefined) {
          const h = deps.directory.households.get(q);
          if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${q}'`);
          return { items: engine.care.absences.list(h.id, after).map((a) => absenceView(a, now, signOf(a.householdId))) };
        }
        const items = (await engine.care.absences.since(after))
          .filter((a) => {
            const h = deps.directory.households.get(a.householdId);
            return h !== undefined && mayCare(req.principal, h);
          })
          .map((a) => absenceView(a, now, signOf(a.householdId)));
        return { items };
      },
    );

    app.withTypeProvider<SchemaTypes>().patch(
      '/api/care/absences/:id',
      {
        schema: {
          summary: 'Move the end of an absence (a hospital stay runs longer, a trip is cut short)',
          tags: ['care'],
          params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
          body: { type: 'object', additionalProperties: false, required: ['until'], properties: { until: timeSchema('the new expected return') } },
          response: { 200: absenceSchema, '4xx': errorSchema },
        },
      },
      async (req) => {
        const a = visibleAbsence(req.principal, req.params.id);
        if (!mayMarkAway(req.principal)) throw new AppError('SB_FORBIDDEN', 'your role may not change an absence');
        const now = deps.clock.now();
        if (a.endedAt !== undefined || a.until <= now) throw new AppError('SB_ABSENCE_ENDED', `absence ${a.id} has already ended`);
        const until = timeOf(req.body.until, 'until');
        checkSpan(a.from, until, now);
        const clash = engine.care.absences.list(a.householdId, a.from).find((x) => x.id !== a.id && x.from < until && absenceEnd(x) > a.from);
        if (clash) throw new AppError('SB_ABSENCE_OVERLAP', `the household is already marked away from then (absence ${clash.id})`);
        return absenceView(engine.care.changeAbsence(a.id, req.principal.id, { until }), now);
      },
    );

    app.withTypeProvider<SchemaTypes>().post(
      '/api/care/absences/:id/end',
      {
        schema: {
          summary: 'The elder is back (or the absence is called off): end it now',
          tags: ['care'],
          params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
          body: { type: ['object', 'null'], additionalProperties: false, properties: { note: { type: 'string', maxLength: 500 } } },
          response: { 200: absenceSchema, '4xx': errorSchema },
        },
      },
      async (req) => {
        const a = visibleAbsence(req.principal, req.params.id);
        if (!mayMarkAway(req.principal)) throw new AppError('SB_FORBIDDEN', 'your role may not end an absence');
        const now = deps.clock.now();
        if (a.endedAt !== undefined || a.until <= now) throw new AppError('SB_ABSENCE_ENDED', `absence ${a.id} has already ended`);
        // One not yet begun is called off: it then covers nothing.
        const ended = engine.care.changeAbsence(a.id, req.principal.id, { end: Math.max(now, a.from), note: req.body?.note?.trim() || undefined });
        return absenceView(ended, now);
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
        const open = await deps.store.alerts.openCountByHousehold();
        const items = [];
        for (const h of deps.directory.households.values()) {
          if (!h.loneElder || !mayCare(req.principal, h)) continue;
          const state = engine.ruleState<MissedCheckState>('missed_check', h.id);
          let lastAt = state?.lastSignAt;
          let lastSign = state?.lastSign;
          if (lastAt === undefined) {
            const v = engine.care.visits.last(h.id); // the rule is off here, or has not heard of the household yet
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
            away: awayNow(h.id, now),
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
    app.withTypeProvider<SchemaTypes>().get(
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
        if (!h || !mayCare(req.principal, h)) throw new AppError('SB_NOT_FOUND', `no household '${req.params.householdId}'`);
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
          learning: days < (c?.minHistoryDays ?? 1),
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
