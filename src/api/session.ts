// Console sign-in with a username and password (people[].username / passwordHash): POST /api/session answers
// a signed, expiring session token that the Authenticator accepts wherever a staff token is accepted.
//
// The token is `sbs1.<payload>.<mac>`: payload = base64url(JSON { sub, exp, pwd }), mac = HMAC-SHA256 over
// `sbs1.<payload>` with a 256-bit key kept in `<dataDir>/session.key` (made on first use, mode 0600), so
// sessions survive a restart and deleting the file signs everybody out. `pwd` is a fingerprint of the
// person's password hash: changing a password (or removing the person) ends their sessions. Nothing is stored
// per session. Sign-ins are throttled per account, per address and per both (LoginThrottle), and capped per
// address by @fastify/rate-limit.
import type { SchemaTypes } from './typeProvider.js';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import type { Directory, PersonInfo } from '../config/inventory.js';
import { errorSchema } from './schemas.js';
import { verifyPassword } from './passwords.js';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../errors.js';
import { Throttle } from '../throttle.js';

/** Sign-in requests of any outcome from one address in a minute (a residents' committee office shares one). */
export const SIGN_IN_REQUESTS_PER_MINUTE = 30;

export const SESSION_PREFIX = 'sbs1.';
/** One duty shift, with room to spare. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const fingerprint = (passwordHash: string) => createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);

export class Sessions {
  private key: Buffer | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      directory: Directory;
      /** Where session.key lives; absent = a key for this process only (sessions end with it). */
      dataDir?: string;
      ttlMs?: number;
      /** Sessions expire in wall time whatever the service clock: a replayed day must not sign people out. */
      now?: () => number;
    },
  ) {
    this.ttlMs = deps.ttlMs ?? SESSION_TTL_MS;
    this.now = deps.now ?? Date.now;
  }

  /** The signing key: read from the data dir, or created there on first use. */
  private signingKey(): Buffer {
    if (this.key) return this.key;
    if (!this.deps.dataDir) return (this.key = randomBytes(32));
    const file = join(this.deps.dataDir, 'session.key');
    try {
      this.key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(this.deps.dataDir, { recursive: true });
      const fresh = randomBytes(32);
      try {
        // wx: if another process made it first, use theirs.
        writeFileSync(file, fresh.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
        this.key = fresh;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        this.key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      }
    }
    if (this.key.length < 32) throw new Error(`${file}: a session key needs at least 32 bytes`);
    return this.key;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.signingKey()).update(body).digest();
  }

  issue(person: PersonInfo): { token: string; expiresAt: string } {
    if (!person.passwordHash) throw new Error(`${person.id} has no password`);
    const exp = this.now() + this.ttlMs;
    const body = SESSION_PREFIX + b64url(JSON.stringify({ sub: person.id, exp, pwd: fingerprint(person.passwordHash) }));
    return { token: `${body}.${b64url(this.mac(body))}`, expiresAt: new Date(exp).toISOString() };
  }

  /** Was this token signed by us (whether or not it is still valid)? A stale session is not a guess. */
  signed(token: string): boolean {
    return this.signedBody(token) !== undefined;
  }

  private signedBody(token: string): string | undefined {
    if (!token.startsWith(SESSION_PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= SESSION_PREFIX.length) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    return given.length === expected.length && timingSafeEqual(given, expected) ? body : undefined;
  }

  /** The person a valid, unexpired session token belongs to, or undefined. */
  verify(token: string): PersonInfo | undefined {
    const body = this.signedBody(token);
    if (body === undefined) return undefined;
    let claims: { sub?: unknown; exp?: unknown; pwd?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body.slice(SESSION_PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp <= this.now()) return undefined;
    const person = this.deps.directory.people.get(claims.sub);
    if (!person?.passwordHash || claims.pwd !== fingerprint(person.passwordHash)) return undefined;
    return person;
  }
}

/**
 * Sign-in throttles (issue 12). Every attempt is counted *before* its password is checked, under three keys:
 *  - the account from this address: 5 tries, then waits of 1 s, 2 s, 4 s … up to 15 min (a guesser);
 *  - the account from anywhere: 20 tries, then up to 1 min (guessing spread over many addresses);
 *  - the address for any account: 30 tries, then up to 1 min (spraying many accounts from one place).
 * A success resets the first two and takes back its own count from the third, so a residents' committee
 * office behind one NAT address is never locked out by one member's typos: their failures slow only their
 * own account from there, and the address only after 30 failures in a quarter of an hour.
 */
export class LoginThrottle {
  readonly pair: Throttle;
  readonly account: Throttle;
  readonly address: Throttle;

  constructor(now?: () => number) {
    const forgetMs = 15 * 60_000;
    this.pair = new Throttle({ free: 5, baseMs: 1000, capMs: 15 * 60_000, forgetMs }, { now });
    this.account = new Throttle({ free: 20, baseMs: 1000, capMs: 60_000, forgetMs }, { now });
    this.address = new Throttle({ free: 30, baseMs: 1000, capMs: 60_000, forgetMs }, { now });
  }

  /** Milliseconds to wait before this sign-in may be tried; 0 = try now (and it is counted). */
  begin(username: string, ip: string): number {
    const pairKey = `${username}\n${ip}`;
    const wait = Math.max(this.pair.wait(pairKey), this.account.wait(username), this.address.wait(ip));
    if (wait > 0) return wait;
    this.pair.attempt(pairKey);
    this.account.attempt(username);
    this.address.attempt(ip);
    return 0;
  }

  succeed(username: string, ip: string): void {
    this.pair.succeed(`${username}\n${ip}`, 'reset');
    this.account.succeed(username, 'reset');
    this.address.succeed(ip, 'undo');
  }

  /** Keys waiting right now (accounts, addresses, account-address pairs), for /metrics. */
  blocked(): number {
    return this.pair.blocked() + this.account.blocked() + this.address.blocked();
  }
}

export function sessionApi(sessions: Sessions, throttle = new LoginThrottle()) {
  return async function sessionPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    deps.metrics.blockedSources.set('login', () => throttle.blocked());
    // Requests of any outcome from one address, counted by @fastify/rate-limit as they arrive (before the
    // body is read): a flood of sign-ins, right or wrong, cannot keep the scrypt thread pool busy.
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (req, ctx) => {
        deps.metrics.authThrottled.inc({ surface: 'login' });
        req.log.warn({ ip: req.ip, reason: 'rate_limited' }, 'console sign-in refused: too many requests from this address');
        return Object.assign(new AppError('SB_TOO_MANY_REQUESTS', `too many sign-in requests from this address; try again in ${ctx.after}`), { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) });
      },
    });
    app.withTypeProvider<SchemaTypes>().post(
      '/api/session',
      {
        config: { public: true, rateLimit: { max: SIGN_IN_REQUESTS_PER_MINUTE, timeWindow: 60_000 } },
        schema: {
          summary: 'Sign in with a username and password (console); answers a session token to use as a Bearer token',
          tags: ['session'],
          security: [],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['username', 'password'],
            properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 256 } },
          },
          response: {
            201: {
              type: 'object',
              properties: {
                token: { type: 'string' },
                expiresAt: { type: 'string' },
                person: { type: 'object', properties: { id: { type: 'string' }, displayName: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } } },
              },
              required: ['token', 'expiresAt', 'person'],
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { username, password } = req.body;
        // Counted before the password is checked: a burst of concurrent tries cannot all reach the check.
        const wait = throttle.begin(username, req.ip);
        if (wait > 0) {
          deps.metrics.authThrottled.inc({ surface: 'login' });
          const seconds = Math.ceil(wait / 1000);
          req.log.warn({ ip: req.ip, reason: 'throttled', waitSeconds: seconds }, 'console sign-in refused: too many failed sign-ins');
          throw Object.assign(new AppError('SB_TOO_MANY_ATTEMPTS', `too many failed sign-ins; try again in ${seconds} s`), { retryAfterSeconds: seconds });
        }
        let person: PersonInfo | undefined;
        for (const p of deps.directory.people.values()) if (p.username === username) person = p;
        if (!(await verifyPassword(password, person?.passwordHash)) || !person) {
          deps.metrics.authFailures.inc({ reason: 'bad_password' });
          // Never the username (it may be a person's name) nor the password: the address and the reason.
          req.log.warn({ ip: req.ip, reason: 'bad_credentials' }, 'console sign-in refused: wrong username or password');
          throw new AppError('SB_BAD_CREDENTIALS', 'wrong username or password');
        }
        throttle.succeed(username, req.ip);
        const { token, expiresAt } = sessions.issue(person);
        req.log.info({ personId: person.id }, 'console sign-in');
        return reply.code(201).send({ token, expiresAt, person: { id: person.id, displayName: person.displayName ?? person.id, roles: person.roles } });
      },
    );
  };
}
