// One test run at a time on a developer's machine. Several checkouts of this repository (git worktrees) on one
// two-core machine running their suites at once starve each other until timing-bound tests (child processes
// started by the crash tests, real brokers) time out; taking turns is as fast in total and keeps results honest.
// In CI there is one run, so the lock is never contended. The lock is a directory (mkdir is atomic) holding the
// owner's pid; a lock whose owner is gone is taken over, and after `maxWaitMs` the run goes ahead anyway.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'shaobing-test-run.lock');
const maxWaitMs = 20 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(): boolean {
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch {
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    } catch {
      /* being written or removed: look again shortly */
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

export default async function setup(): Promise<() => void> {
  if (process.env.SHAOBING_NO_TEST_LOCK) return () => {};
  const start = Date.now();
  let told = false;
  while (!tryTake()) {
    if (Date.now() - start > maxWaitMs) {
      console.warn('[test lock] waited 20 min for another test run on this machine; going ahead');
      return () => {};
    }
    if (!told) {
      console.warn(`[test lock] another test run holds ${LOCK}; waiting for it (SHAOBING_NO_TEST_LOCK=1 skips)`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return () => rmSync(LOCK, { recursive: true, force: true });
}
