// Console passwords (people[].passwordHash): scrypt (RFC 7914), stored as `scrypt$N$salt$hash` with r = 8,
// p = 1 and a 32-byte key. Unlike device secrets and staff tokens (random, so a salted SHA-256 is enough: see
// src/broker/secrets.ts), a password is chosen by a person and guessable, so it gets a slow, memory-hard hash.
// N = 2^14 is the interactive-login cost of RFC 7914 §2 and the Node.js default: about 50 ms and 16 MiB.
import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** Accepted cost range when verifying: a stored N outside it is treated as a bad hash, not a DoS lever. */
const N_MIN = 1024;
const N_MAX = 1 << 20;

export const PASSWORD_MIN_LENGTH = 8;

const options = (n: number): ScryptOptions => ({ N: n, r: R, p: P, maxmem: 256 * n * R });

/** Synchronous: for the CLI and the sample generator. `salt` is fixed only by the sample generator. */
export function hashPassword(password: string, salt: Buffer = randomBytes(16), n = SCRYPT_N): string {
  const key = scryptSync(password.normalize('NFC'), salt, KEY_LENGTH, options(n));
  return `scrypt$${n}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parse(stored: string): { n: number; salt: Buffer; key: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== 'scrypt') return undefined;
  const n = Number(parts[1]);
  // scrypt needs N a power of two greater than 1.
  if (!Number.isInteger(n) || n < N_MIN || n > N_MAX || (n & (n - 1)) !== 0) return undefined;
  const key = Buffer.from(parts[3], 'base64');
  if (key.length === 0) return undefined;
  return { n, salt: Buffer.from(parts[2], 'base64'), key };
}

/** Asynchronous (the thread pool does the work): a login never blocks the event loop for 50 ms. */
export function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const p = stored ? parse(stored) : undefined;
  // An unknown user or a malformed hash still costs one scrypt, so timing does not tell which it was.
  const { n, salt, key } = p ?? { n: SCRYPT_N, salt: DUMMY_SALT, key: DUMMY_KEY };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, key.length, options(n), (err, derived) => {
      if (err) return reject(err);
      resolve(p !== undefined && timingSafeEqual(derived, key));
    }),
  );
}

/** Synchronous check, for the sample generator's self-test; the API uses verifyPassword. */
export function verifyPasswordSync(password: string, stored: string | undefined): boolean {
  const p = stored ? parse(stored) : undefined;
  return p !== undefined && timingSafeEqual(scryptSync(password.normalize('NFC'), p.salt, p.key.length, options(p.n)), p.key);
}

const DUMMY_SALT = randomBytes(16);
const DUMMY_KEY = randomBytes(KEY_LENGTH);
