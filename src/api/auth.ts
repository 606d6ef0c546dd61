// Bearer tokens (CONTRACT.md "HTTP API"): staff tokens are hashed in the inventory (people[].tokenHash); the
// admin token comes from settings or SHAOBING_ADMIN_TOKEN and is the platform operator's; console session
// tokens (src/api/session.ts) are accepted alike. Deny by default: every /api route needs one, unless it is
// marked `config: { public: true }`. What a caller then sees is src/api/scope.ts.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Directory, PersonInfo } from '../config/inventory.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';
import { PLATFORM, inGrids, inScope, principalOf, type Principal } from './scope.js';

export { requireAdmin, requirePlatform, type Principal } from './scope.js';

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
      found = PLATFORM;
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

/** An alert, a device or its history: the scope function (src/api/scope.ts inScope). */
export function canSeePlace(p: Principal, place: { communityId: string; gridId: string; householdId?: string }): boolean {
  return inScope(p, place);
}

export { inGrids, inScope };
