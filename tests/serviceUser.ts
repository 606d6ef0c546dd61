// Real servers from Debian (PostgreSQL, mosquitto) refuse to run as root, or drop to their own user and then
// cannot read a root-owned temp dir. When the tests run as root (CI here does), such a server is spawned as its
// Debian system user (`postgres`, `mosquitto`) and its temp dir handed to that user; otherwise as ourselves.
import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceUser {
  uid: number;
  gid: number;
}

/** The uid/gid to spawn a server as: undefined when we are not root (spawn as ourselves). */
export function serviceUser(preferred: string): ServiceUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of [preferred, 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error(`running as root and neither ${preferred} nor nobody exists to run the server as`);
}

/** Hand a directory tree to the service user (no-op when not root). */
export function handOver(dir: string, user: ServiceUser | undefined): void {
  if (!user) return;
  chownSync(dir, user.uid, user.gid);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) handOver(p, user);
    else chownSync(p, user.uid, user.gid);
  }
}

/** Tests that need a Debian server: skipped with a loud message locally, failed with CI=true. */
export function requireServer(found: boolean, msg: string): boolean {
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${msg}\n${'!'.repeat(100)}\n`);
  return false;
}
