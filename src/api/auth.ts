// Bearer tokens (CONTRACT.md "HTTP API"): staff tokens are hashed in the inventory (people[].tokenHash); the
// admin token comes from settings or SHAOBING_ADMIN_TOKEN; console session tokens (src/api/session.ts) are
// accepted alike. Deny by default: every /api route needs one, unless it is marked `config: { public: true }`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Directory, PersonInfo } from '../config/inventory.js';
import type { Role } from '../config/schema.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';

export interface Principal {
  id: string;
  roles: Role[];
  /** Micro-grids the caller may see, or 'all'. */
  grids: Set<string> | 'all';
  /**
   * A volunteer (no other role) hears only of the households paired with them: those ids. Absent for
   * everybody else, whose view is their grids.
   */
  households?: Set<string>;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** An /api route that needs no token (signing in). */
    public?: boolean;
  }
}

/** Checks console session tokens: the person a valid one belongs to (src/api/session.ts Sessions). */
export interface SessionVerifier {
  verify(token: string): PersonInfo | undefined;
}

const principalOf = (directory: Directory, p: PersonInfo): Principal => {
  const principal: Principal = { id: p.id, roles: p.roles, grids: directory.gridsOf(p), admin: p.roles.includes('admin') };
  if (!principal.admin && p.roles.length > 0 && p.roles.every((r) => r === 'volunteer')) {
    principal.households = new Set(
      [...directory.households.values()].filter((h) => h.careContacts.some((c) => c.personId === p.id)).map((h) => h.id),
    );
  }
  return principal;
};

export class Authenticator {
  /** sha256(token) → principal, so a known token costs one hash, not one per person. */
  private readonly cache = new Map<string, Principal>();

  constructor(
    private readonly directory: Directory,
    private readonly adminToken: string | undefined,
    private readonly sessions?: SessionVerifier,
  ) {}

  resolve(token: string): Principal | undefined {
    // Not cached: a session expires, and verifying one is a single HMAC.
    if (this.sessions && token.startsWith('sbs1.')) {
      const p = this.sessions.verify(token);
      return p && principalOf(this.directory, p);
    }
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit) return hit;
    let found: Principal | undefined;
    if (this.adminToken && token.length === this.adminToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(this.adminToken))) {
      found = { id: 'admin', roles: ['admin'], grids: 'all', admin: true };
    } else {
      for (const p of this.directory.people.values()) {
        if (p.tokenHash && verifySecret(token, p.tokenHash)) {
          found = principalOf(this.directory, p);
          break;
        }
      }
    }
    if (found) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, found);
    }
    return found;
  }

  authenticate(req: FastifyRequest): Principal {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new AppError('SB_UNAUTHORIZED', 'missing bearer token', 401);
    const p = this.resolve(match[1]);
    if (!p) throw new AppError('SB_UNAUTHORIZED', 'invalid token', 401);
    return p;
  }
}

export function canSee(p: Principal, gridId: string): boolean {
  return p.grids === 'all' || p.grids.has(gridId);
}

/** An alert, a device or its history: in the caller's grids, and for a volunteer in a paired household. */
export function canSeePlace(p: Principal, place: { gridId: string; householdId?: string }): boolean {
  if (!canSee(p, place.gridId)) return false;
  return !p.households || (place.householdId !== undefined && p.households.has(place.householdId));
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw new AppError('SB_FORBIDDEN', 'admin token required', 403);
}
