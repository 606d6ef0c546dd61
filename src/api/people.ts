// Who the caller is and who and what is in their grids, for the console: GET /api/me (the caller, their grids,
// the buildings and equipped households the console labels devices with) and GET /api/people (the people the
// console shows by name and dispatches to, 派单). Minimal personal data: no phone numbers, no tokens; scoped by
// src/api/scope.ts, so a volunteer hears only of the households paired with them (and their buildings), of no
// parking lot, and of the grid's staff but not its other volunteers.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { householdPlace, inGrids, inScope, seesPerson } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import type { PersonInfo } from '../config/inventory.js';

const personSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    displayName: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    /** The grids of the caller's that this person serves. */
    grids: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'displayName', 'roles', 'grids'],
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;

export default async function peopleApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const dir = deps.directory;
  /** Every grid in the caller's view, in inventory order. */
  const allGrids = () => [...dir.communities.values()].flatMap((c) => c.grids.map((g) => ({ id: g.id, name: g.name, communityId: c.id, communityName: c.name })));
  const serves = (p: PersonInfo, grid: { id: string; communityId: string }) => {
    const g = dir.gridsOf(p);
    return p.communityId === grid.communityId && (g === 'all' || g.has(grid.id));
  };

  app.get(
    '/api/me',
    {
      schema: {
        summary: "The caller, their grids, and the buildings and equipped households in them (the console's labels)",
        tags: ['people'],
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              displayName: { type: 'string' },
              roles: strings,
              admin: { type: 'boolean' },
              grids: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, communityId: { type: 'string' }, communityName: { type: 'string' } } },
              },
              buildings: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, gridId: { type: 'string' }, communityId: { type: 'string' } } },
              },
              households: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    room: { type: 'string' },
                    buildingId: { type: 'string' },
                    gridId: { type: 'string' },
                    loneElder: { type: 'boolean' },
                    displayName: { type: 'string' },
                  },
                },
              },
              lots: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, gridId: { type: 'string' } } },
              },
              utcOffsetMinutes: {
                type: 'integer',
                description: "the communities' local time as minutes east of UTC (settings notify.utcOffsetMinutes; 480 = China Standard Time): the console shows every time in it, whatever the browser's time zone",
              },
            },
            required: ['id', 'displayName', 'roles', 'admin', 'grids', 'buildings', 'households', 'lots', 'utcOffsetMinutes'],
          },
          '4xx': errorSchema,
        },
      },
    },
    async (req) => {
      const p = req.principal;
      const person = dir.people.get(p.id);
      const equipped = new Set<string>();
      for (const d of dir.devices.values()) if (d.householdId) equipped.add(d.householdId);
      const households = [...dir.households.values()].filter((h) => equipped.has(h.id) && inScope(p, householdPlace(h)));
      const buildingsOfMine = new Set(households.map((h) => h.buildingId));
      return {
        id: p.id,
        displayName: person?.displayName ?? (p.admin ? '管理员' : p.id),
        roles: p.roles,
        admin: p.admin,
        grids: allGrids().filter((g) => inGrids(p, g.communityId, g.id)),
        // A volunteer: the buildings their households are in; staff: every building of their grids.
        buildings: [...dir.buildings.values()].filter((b) => (p.households ? buildingsOfMine.has(b.id) : inScope(p, b))),
        households: households.map((h) => ({ id: h.id, room: h.room, buildingId: h.buildingId, gridId: h.gridId, loneElder: h.loneElder, displayName: h.loneElder ? h.displayName : undefined })),
        lots: [...dir.lots.values()].filter((l) => inScope(p, l)).map((l) => ({ id: l.id, name: l.name, gridId: l.gridId })),
        utcOffsetMinutes: deps.rules?.utcOffsetMinutes ?? 480,
      };
    },
  );

  app.withTypeProvider<SchemaTypes>().get(
    '/api/people',
    {
      schema: {
        summary: "People serving the caller's grids (or one of them): who to dispatch to, and names for the console",
        tags: ['people'],
        querystring: { type: 'object', additionalProperties: false, properties: { gridId: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: personSchema } } }, '4xx': errorSchema },
      },
    },
    async (req) => {
      const { gridId } = req.query;
      const visible = allGrids().filter((g) => inGrids(req.principal, g.communityId, g.id) && (!gridId || g.id === gridId));
      if (gridId && visible.length === 0) throw new AppError('SB_NOT_FOUND', `no grid '${gridId}'`);
      const items = [];
      for (const person of dir.people.values()) {
        if (!seesPerson(req.principal, dir, person)) continue;
        const grids = visible.filter((g) => serves(person, g)).map((g) => g.id);
        if (grids.length) items.push({ id: person.id, displayName: person.displayName ?? person.id, roles: person.roles, grids });
      }
      return { items };
    },
  );
}
