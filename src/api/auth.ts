// Bearer tokens (CONTRACT.md "HTTP API"): staff tokens are hashed in the inventory (people[].tokenHash); the
// admin token comes from settings or SHAOBING_ADMIN_TOKEN and is the platform operator's; console session
// tokens (src/api/session.ts) are accepted alike. Deny by default: every /api route needs one, unless it is
// marked `config: { public: true }`. What a caller then sees is src/api/scope.ts.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Directory, PersonInfo } from '../config/inventory.js';
import { verifySecret } from '../broker/secrets.js';
import { AppError } from '../errors.js';
import { Throttle, type ThrottlePolicy } from '../throttle.js';
import type { Metrics } from '../metrics.js';
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
  /** Signed by us, valid or not (expired, password changed): a stale session, not a guess. */
  signed(token: string): boolean;
}

/**
 * Wrong bearer tokens per client address (issue 12): 20, then waits from 1 s doubling to 1 min, and from 100
 * on the address is refused for 15 min. Only guesses count — a session token we signed that has expired does
 * not — and a refused address is refused *before* any token is searched for, except that tokens already known
 * good (cached) and valid sessions still work, so colleagues behind the same NAT address carry on.
 */
export const TOKEN_THROTTLE: ThrottlePolicy = { free: 20, baseMs: 1000, capMs: 60_000, banAfter: 100, banMs: 15 * 60_000, forgetMs: 15 * 60_000 };

export class Authenticator {
  /** sha256(token) → principal, so a known token costs one hash, not one per person. */
  private readonly cache = new Map<string, Principal>();
  readonly throttle: Throttle;

  constructor(
    private readonly directory: Directory,
    private readonly adminToken: string | undefined,
    private readonly sessions?: SessionVerifier,
    private readonly metrics?: Pick<Metrics, 'authFailures' | 'authThrottled' | 'blockedSources'>,
    opts: { now?: () => number } = {},
  ) {
    this.throttle = new Throttle(TOKEN_THROTTLE, opts);
    metrics?.blockedSources.set('token', () => this.throttle.blocked());
  }

  /** A token that costs nothing to recognise: a cached one, or a session (one HMAC). */
  private resolveCheap(token: string): Principal | 'stale' | undefined {
    // Not cached: a session expires, and verifying one is a single HMAC.
    if (this.sessions && token.startsWith('sbs1.')) {
      const p = this.sessions.verify(token);
      if (p) return principalOf(this.directory, p);
      return this.sessions.signed(token) ? 'stale' : undefined;
    }
    return this.cache.get(createHash('sha256').update(token).digest('base64'));
  }

  resolve(token: string): Principal | undefined {
    const cheap = this.resolveCheap(token);
    if (cheap !== undefined) return cheap === 'stale' ? undefined : cheap;
    if (token.startsWith('sbs1.') && this.sessions) return undefined;
    const key = createHash('sha256').update(token).digest('base64');
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
    if (!match) throw new AppError('SB_UNAUTHORIZED', 'missing bearer token');
    const token = match[1];
    const cheap = this.resolveCheap(token);
    if (cheap === 'stale') throw new AppError('SB_UNAUTHORIZED', 'the session has ended; sign in again');
    if (cheap) return cheap;
    // An unknown token: counted before it is searched for, so concurrent guesses cannot outrun the count.
    const wait = this.throttle.wait(req.ip);
    if (wait > 0) {
      this.metrics?.authThrottled.inc({ surface: 'token' });
      const seconds = Math.ceil(wait / 1000);
      throw Object.assign(new AppError('SB_TOO_MANY_ATTEMPTS', `too many invalid tokens from this address; try again in ${seconds} s`), { retryAfterSeconds: seconds });
    }
    this.throttle.attempt(req.ip);
    const p = this.resolve(token);
    if (p) {
      this.throttle.succeed(req.ip, 'undo');
      return p;
    }
    this.metrics?.authFailures.inc({ reason: 'bad_token' });
    throw new AppError('SB_UNAUTHORIZED', 'invalid token');
  }
}

/** An alert, a device or its history: the scope function (src/api/scope.ts inScope). */
export function canSeePlace(p: Principal, place: { communityId: string; gridId: string; householdId?: string }): boolean {
  return inScope(p, place);
}

export { inGrids, inScope };
