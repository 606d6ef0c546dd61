// Who the caller is and who and what is in their grids, for the console: GET /api/me (the caller, their grids,
// the buildings and equipped households the console labels devices with) and GET /api/people (the people the
// console shows by name and dispatches to, 派单). Minimal personal data: no phone numbers, no tokens, and a
// volunteer hears only of the households paired with them.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { canSee } from './auth.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import type { HouseholdInfo, PersonInfo } from '../config/inventory.js';

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
  const serves = (p: PersonInfo, gridId: string) => {
    const g = dir.gridsOf(p);
    return g === 'all' ? dir.communities.get(p.communityId)?.grids.some((x) => x.id === gridId) === true : g.has(gridId);
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
            },
            required: ['id', 'displayName', 'roles', 'admin', 'grids', 'buildings', 'households', 'lots'],
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
      // A volunteer is told about the elders paired with them only (as GET /api/care/elders does), not the grid's.
      const volunteerOnly = !p.admin && p.roles.every((r) => r === 'volunteer');
      const mine = (h: HouseholdInfo) => !volunteerOnly || h.careContacts.some((c) => c.personId === p.id);
      return {
        id: p.id,
        displayName: person?.displayName ?? (p.admin ? '管理员' : p.id),
        roles: p.roles,
        admin: p.admin,
        grids: allGrids().filter((g) => canSee(p, g.id)),
        buildings: [...dir.buildings.values()].filter((b) => canSee(p, b.gridId)),
        households: [...dir.households.values()]
          .filter((h) => equipped.has(h.id) && canSee(p, h.gridId) && mine(h))
          .map((h) => ({ id: h.id, room: h.room, buildingId: h.buildingId, gridId: h.gridId, loneElder: h.loneElder, displayName: h.loneElder ? h.displayName : undefined })),
        lots: [...dir.lots.values()].filter((l) => canSee(p, l.gridId)).map((l) => ({ id: l.id, name: l.name, gridId: l.gridId })),
      };
    },
  );

  app.get<{ Querystring: { gridId?: string } }>(
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
      const visible = allGrids().filter((g) => canSee(req.principal, g.id) && (!gridId || g.id === gridId));
      if (gridId && visible.length === 0) throw new AppError('SB_NOT_FOUND', `no grid '${gridId}'`, 404);
      const items = [];
      for (const person of dir.people.values()) {
        const grids = visible.filter((g) => serves(person, g.id)).map((g) => g.id);
        if (grids.length) items.push({ id: person.id, displayName: person.displayName ?? person.id, roles: person.roles, grids });
      }
      return { items };
    },
  );
}
