// Alerts: list, one with its timeline, and the people's lifecycle moves (CONTRACT.md "HTTP API"). Scoped to
// the caller's grids: an alert outside them is a 404, exactly like one that does not exist.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { inScope } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import { ALERT_KINDS, SEVERITIES, STATUSES, type AlertStatus } from '../alerts/types.js';
import { move, TRANSITIONS, type Transition } from '../alerts/lifecycle.js';
import type { RuleEngine } from '../alerts/engine.js';
import { allowedSteps, assignable, mayTake, STEP_RULES, type StepFacts } from '../alerts/permissions.js';
import type { Principal } from './auth.js';
import type { AlertView } from '../alerts/types.js';
import type { Directory } from '../config/inventory.js';

export const alertSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ALERT_KINDS },
    severity: { type: 'string', enum: SEVERITIES },
    status: { type: 'string', enum: STATUSES },
    communityId: { type: 'string' },
    gridId: { type: 'string' },
    deviceId: { type: 'string' },
    householdId: { type: 'string' },
    spaceId: { type: 'string' },
    plate: { type: 'string' },
    title: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
    count: { type: 'integer' },
    openedAt: { type: 'string' },
    updatedAt: { type: 'string' },
    resolvedAt: { type: 'string' },
    assignee: { type: 'string' },
    resolution: { type: 'string' },
    resolvedBy: { type: 'string' },
    rating: {
      type: 'object',
      properties: { score: { type: 'integer' }, comment: { type: 'string' }, by: { type: 'string' }, at: { type: 'string' } },
    },
  },
  required: ['id', 'kind', 'severity', 'status', 'communityId', 'gridId', 'title', 'details', 'count', 'openedAt', 'updatedAt'],
} as const;

const timelineSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { at: { type: 'string' }, type: { type: 'string' }, actor: { type: 'string' }, data: { type: 'object', additionalProperties: true } },
  },
} as const;

const params = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

const BODIES: Record<Transition, Record<string, unknown>> = {
  ack: { type: 'object', additionalProperties: false, properties: {} },
  dispatch: {
    type: 'object',
    additionalProperties: false,
    required: ['assignee'],
    properties: { assignee: { type: 'string', minLength: 1, maxLength: 64 } },
  },
  accept: { type: 'object', additionalProperties: false, properties: {} },
  resolve: { type: 'object', additionalProperties: false, properties: { note: { type: 'string', maxLength: 500 } } },
  rate: {
    type: 'object',
    additionalProperties: false,
    required: ['score'],
    properties: { score: { type: 'integer', minimum: 1, maximum: 5 }, comment: { type: 'string', maxLength: 500 } },
  },
};

const SUMMARY: Record<Transition, string> = {
  ack: 'Acknowledge (确认)',
  dispatch: 'Dispatch to a person (派单)',
  accept: 'Accept the job (接单)',
  resolve: 'Resolve with a note (办结)',
  rate: 'Rate a resolved alert (评单)',
};

/** What the permission table (src/alerts/permissions.ts) needs to know about this alert and this caller. */
function stepFacts(engine: RuleEngine, directory: Directory, a: AlertView, p: Principal): StepFacts {
  const dispatched = engine.alerts.timeline(a.id).filter((e) => e.type === 'dispatched');
  return {
    alert: a,
    dispatchedBy: dispatched.at(-1)?.actor,
    caresForHousehold: careContactOf(directory, a, p.id),
  };
}

const careContactOf = (directory: Directory, a: Pick<AlertView, 'householdId'>, personId: string) =>
  !!a.householdId && (directory.households.get(a.householdId)?.careContacts.some((c) => c.personId === personId) ?? false);

/** People a job may be dispatched to: serving the alert's grid, in a role that does the work. */
function assignees(directory: Directory, a: AlertView): string[] {
  const out: string[] = [];
  for (const person of directory.people.values()) {
    if (person.communityId !== a.communityId) continue;
    const grids = directory.gridsOf(person);
    if (grids !== 'all' && !grids.has(a.gridId)) continue;
    if (assignable(person, a, careContactOf(directory, a, person.id))) out.push(person.id);
  }
  return out;
}

export function alertsApi(engine: RuleEngine) {
  return async function alertsPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    app.withTypeProvider<SchemaTypes>().get(
      '/api/alerts',
      {
        schema: {
          summary: "Alerts in the caller's grids, newest first",
          tags: ['alerts'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', pattern: `^$|^(${STATUSES.join('|')})(,(${STATUSES.join('|')}))*$`, description: 'one or more, comma-separated' },
              kind: { type: 'string' },
              deviceId: { type: 'string' },
              gridId: { type: 'string' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            },
          },
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: alertSchema } } }, '4xx': errorSchema },
        },
      },
      async (req) => {
        const q = req.query;
        const items = await engine.alerts.list({
          status: q.status ? (q.status.split(',') as AlertStatus[]) : undefined,
          kind: q.kind,
          deviceId: q.deviceId,
          gridId: q.gridId,
          grids: req.principal.grids,
          households: req.principal.households,
          limit: q.limit ?? 200,
        });
        return { items: items.filter((a) => inScope(req.principal, a)) };
      },
    );

    app.withTypeProvider<SchemaTypes>().get(
      '/api/alerts/:id',
      {
        schema: {
          summary: 'One alert with its timeline (every transition and repeat)',
          tags: ['alerts'],
          params,
          response: {
            200: {
              type: 'object',
              properties: {
                ...alertSchema.properties,
                timeline: timelineSchema,
                actions: { type: 'array', items: { type: 'string', enum: TRANSITIONS }, description: 'the steps the caller may take now (the console shows only these)' },
                assignees: { type: 'array', items: { type: 'string' }, description: 'people this alert may be dispatched to (when the caller may dispatch)' },
              },
              required: [...alertSchema.required, 'timeline', 'actions'],
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req) => {
        const a = engine.alerts.get(req.params.id);
        if (!a || !inScope(req.principal, a)) throw new AppError('SB_NOT_FOUND', `no alert ${req.params.id}`);
        const actions = allowedSteps(req.principal, stepFacts(engine, deps.directory, a, req.principal));
        return { ...a, timeline: engine.alerts.timeline(a.id), actions, ...(actions.includes('dispatch') ? { assignees: assignees(deps.directory, a) } : {}) };
      },
    );

    for (const t of Object.keys(BODIES) as Transition[]) {
      app.withTypeProvider<SchemaTypes>().post(
        `/api/alerts/:id/${t}`,
        {
          schema: {
            summary: SUMMARY[t],
            description: `${STEP_RULES[t].zh} may be taken by ${STEP_RULES[t].who} (README "Who may do what"); anyone else gets 403 SB_STEP_NOT_ALLOWED (SB_NOT_ASSIGNEE for 接单). The body is optional where no field is required.`,
            tags: ['alerts'],
            params,
            body: BODIES[t],
            response: { 200: alertSchema, '4xx': errorSchema },
          },
        },
        async (req) => {
          const a = engine.alerts.get(req.params.id);
          if (!a || !inScope(req.principal, a)) throw new AppError('SB_NOT_FOUND', `no alert ${req.params.id}`);
          // BODIES[t] differs per step: the union of their fields, each optional.
          const body: { assignee?: string; note?: string; score?: number; comment?: string } = req.body ?? {};
          // First whether the alert's state allows the step at all (409), then whether this caller may take it (403).
          move(t, a.status);
          if (!mayTake(t, req.principal, stepFacts(engine, deps.directory, a, req.principal)))
            throw new AppError(t === 'accept' ? 'SB_NOT_ASSIGNEE' : 'SB_STEP_NOT_ALLOWED', `${STEP_RULES[t].zh} (${t}) is for ${STEP_RULES[t].who}`);
          if (t === 'dispatch' && !assignees(deps.directory, a).includes(body.assignee!))
            throw new AppError('SB_UNKNOWN_ASSIGNEE', `'${body.assignee}' is not a person who can take jobs in grid ${a.gridId}`);
          const view = engine.transition(a.id, t, req.principal.id, body);
          req.log.info({ alertId: a.id, kind: a.kind, transition: t, actor: req.principal.id }, 'alert transition');
          return view;
        },
      );
    }
  };
}
