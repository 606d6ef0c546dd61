// Console sign-in with a username and password (people[].username / passwordHash): POST /api/session answers
// a signed, expiring session token that the Authenticator accepts wherever a staff token is accepted.
//
// The token is `sbs1.<payload>.<mac>`: payload = base64url(JSON { sub, exp, pwd }), mac = HMAC-SHA256 over
// `sbs1.<payload>` with a 256-bit key kept in `<dataDir>/session.key` (made on first use, mode 0600), so
// sessions survive a restart and deleting the file signs everybody out. `pwd` is a fingerprint of the
// person's password hash: changing a password (or removing the person) ends their sessions. Nothing is stored
// per session. Failed logins are limited per client address.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import type { Directory, PersonInfo } from '../config/inventory.js';
import { errorSchema } from './schemas.js';
import { verifyPassword } from './passwords.js';
import { AppError } from '../errors.js';

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

  /** The person a valid, unexpired session token belongs to, or undefined. */
  verify(token: string): PersonInfo | undefined {
    if (!token.startsWith(SESSION_PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= SESSION_PREFIX.length) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
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

/** Failed sign-ins per client address: `max` failures in `windowMs`, then refused until the window ends. */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly opts: { max?: number; windowMs?: number; now?: () => number } = {},
  ) {}

  private get max() {
    return this.opts.max ?? 5;
  }
  private get windowMs() {
    return this.opts.windowMs ?? 15 * 60_000;
  }
  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** Seconds to wait before trying again, or 0. */
  retryAfter(ip: string): number {
    const f = this.failures.get(ip);
    if (!f) return 0;
    const left = f.since + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(ip);
      return 0;
    }
    return f.count >= this.max ? Math.ceil(left / 1000) : 0;
  }

  fail(ip: string): void {
    const f = this.failures.get(ip);
    if (f && f.since + this.windowMs > this.now()) f.count++;
    else {
      // A flood of addresses must not grow this without bound; forgetting them all only relaxes the limit.
      if (this.failures.size >= 10_000) this.failures.clear();
      this.failures.set(ip, { count: 1, since: this.now() });
    }
  }

  succeed(ip: string): void {
    this.failures.delete(ip);
  }
}

export function sessionApi(sessions: Sessions, limiter = new LoginLimiter()) {
  return async function sessionPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    app.post<{ Body: { username: string; password: string } }>(
      '/api/session',
      {
        config: { public: true },
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
        const wait = limiter.retryAfter(req.ip);
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          throw new AppError('SB_TOO_MANY_ATTEMPTS', `too many failed sign-ins from this address; try again in ${wait} s`, 429);
        }
        const { username, password } = req.body;
        let person: PersonInfo | undefined;
        for (const p of deps.directory.people.values()) if (p.username === username) person = p;
        if (!(await verifyPassword(password, person?.passwordHash)) || !person) {
          limiter.fail(req.ip);
          req.log.warn({ ip: req.ip }, 'console sign-in failed');
          throw new AppError('SB_BAD_CREDENTIALS', 'wrong username or password', 401);
        }
        limiter.succeed(req.ip);
        const { token, expiresAt } = sessions.issue(person);
        req.log.info({ personId: person.id }, 'console sign-in');
        return reply.code(201).send({ token, expiresAt, person: { id: person.id, displayName: person.displayName ?? person.id, roles: person.roles } });
      },
    );
  };
}
