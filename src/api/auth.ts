// Bearer tokens (CONTRACT.md "HTTP API"): staff tokens are hashed in the inventory (people[].tokenHash); the
// admin token comes from settings or SHAOBING_ADMIN_TOKEN. Deny by default: every /api route needs one.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Directory } from '../config/inventory.js';
import type { Role } from '../config/schema.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';

export interface Principal {
  id: string;
  roles: Role[];
  /** Micro-grids the caller may see, or 'all'. */
  grids: Set<string> | 'all';
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export class Authenticator {
  /** sha256(token) → principal, so a known token costs one hash, not one per person. */
  private readonly cache = new Map<string, Principal>();

  constructor(
    private readonly directory: Directory,
    private readonly adminToken: string | undefined,
  ) {}

  resolve(token: string): Principal | undefined {
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit) return hit;
    let found: Principal | undefined;
    if (this.adminToken && token.length === this.adminToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(this.adminToken))) {
      found = { id: 'admin', roles: ['admin'], grids: 'all', admin: true };
    } else {
      for (const p of this.directory.people.values()) {
        if (p.tokenHash && verifySecret(token, p.tokenHash)) {
          found = { id: p.id, roles: p.roles, grids: this.directory.gridsOf(p), admin: p.roles.includes('admin') };
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

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw new AppError('SB_FORBIDDEN', 'admin token required', 403);
}
