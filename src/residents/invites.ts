// A household's invite: a link (and its QR code, printed per household and put through the door) that opens
// the resident's phone page — no app, no password. The link carries a token `sbi1.<household>.<generation>.<mac>`
// (HMAC-SHA256, 128 bits, with a key kept in <dataDir>/resident.key, made on first use, mode 0600), after the
// `#` so it never reaches a server's or a proxy's access log. Revoking a household's invite moves its
// generation on: every link printed before stops working, and a new one is printed.
//
// The token is the household's credential on /api/resident/*: each request is checked (one HMAC and a map
// lookup). Wrong tokens are throttled per client address like staff tokens; a valid one is limited per
// household (RESIDENT_RATE), so a leaked link cannot be used to hammer the service.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResidentInvitesRepo } from '../store/store.js';

const PREFIX = 'sbi1';

/** The signing key: read from the data dir, or created there on first use (another process's wins). */
export function loadKey(dataDir: string | undefined, name: string): Buffer {
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, name);
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const fresh = randomBytes(32);
  try {
    writeFileSync(file, fresh.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
}

export class ResidentInvites {
  private readonly repo: ResidentInvitesRepo;
  private readonly key: Buffer;
  private generations: Map<string, number>;

  constructor(repo: ResidentInvitesRepo, dataDir: string | undefined) {
    this.repo = repo;
    this.key = loadKey(dataDir, 'resident.key');
    if (this.key.length < 32) throw new Error(`${dataDir}/resident.key: the key needs at least 32 bytes`);
    this.generations = this.repo.generations();
  }

  generation(householdId: string): number {
    return this.generations.get(householdId) ?? 1;
  }

  private mac(householdId: string, generation: number): string {
    return createHmac('sha256', this.key).update(`${PREFIX}|${householdId}|${generation}`).digest().subarray(0, 16).toString('base64url');
  }

  /** The household's current token. */
  token(householdId: string): string {
    const g = this.generation(householdId);
    return `${PREFIX}.${Buffer.from(householdId).toString('base64url')}.${g}.${this.mac(householdId, g)}`;
  }

  /** The household and generation a token names, if we signed it (the canonical text only: no re-encodings). */
  private signed(token: string): { householdId: string; generation: number } | undefined {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== PREFIX || !/^[1-9][0-9]{0,8}$/.test(parts[2]) || !/^[A-Za-z0-9_-]{1,100}$/.test(parts[1])) return undefined;
    const householdId = Buffer.from(parts[1], 'base64url').toString('utf8');
    const generation = Number(parts[2]);
    if (Buffer.from(householdId).toString('base64url') !== parts[1]) return undefined;
    const given = Buffer.from(parts[3]);
    const expected = Buffer.from(this.mac(householdId, generation));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return { householdId, generation };
  }

  /** The household a token belongs to, if it is ours and current; undefined for anything else. */
  verify(token: string): string | undefined {
    const s = this.signed(token);
    return s && s.generation === this.generation(s.householdId) ? s.householdId : undefined;
  }

  /** Signed by us but revoked (an old printed link): worth a clear message, not a guess. */
  revoked(token: string): boolean {
    const s = this.signed(token);
    return s !== undefined && s.generation < this.generation(s.householdId);
  }

  revoke(householdId: string, at: number, by: string): string {
    this.generations.set(householdId, this.repo.revoke(householdId, at, by));
    return this.token(householdId);
  }
}

/** The page a token opens: `<base>/r/#<token>`. */
export const invitePath = (token: string) => `/r/#${token}`;
