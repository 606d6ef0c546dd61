// One instance per data dir (src/store/lock.ts): a second process on the same data dir refuses to start with a
// clear message instead of running a second scheduler and outbox on the same SQLite file; a lock left by a
// SIGKILLed process does not block the restart; a clean stop hands the dir over at once.
import { describe, it, expect, afterEach } from 'vitest';
import { tempDir } from '../helpers.js';
import { startChild, killChildren } from '../child.js';
import { lockDataDir, DataDirLockedError } from '../../src/store/lock.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  killChildren();
  for (const d of dirs.splice(0)) d.remove();
});

describe('one instance per data dir', () => {
  it('refuses a second instance with a clear message, and a SIGKILLed holder leaves no stale lock', async () => {
    const dir = tempDir('shaobing-lock-');
    dirs.push(dir);
    const first = await startChild(dir.path);
    const refused = await startChild(dir.path).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(refused).toBeDefined();
    expect(refused).toMatch(/data dir .* is in use by another shaobing \(pid \d+ on .*\)/);
    expect(refused).toContain('SHAOBING_DATA_DIR');
    // The first one is untouched by the attempt.
    expect((await fetch(`${first.httpUrl}/healthz`)).status).toBe(200);

    first.proc.kill('SIGKILL');
    await first.exited;
    const restarted = await startChild(dir.path);
    expect((await fetch(`${restarted.httpUrl}/healthz`)).status).toBe(200);
    restarted.proc.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }, 90_000); // three child processes start (tsx compiles each): over 30 s when the machine is loaded

  it('within one process too, and a released lock is free again', () => {
    const dir = tempDir('shaobing-lock-');
    dirs.push(dir);
    const lock = lockDataDir(dir.path);
    expect(() => lockDataDir(dir.path)).toThrow(DataDirLockedError);
    lock.release();
    lockDataDir(dir.path).release();
  });
});
