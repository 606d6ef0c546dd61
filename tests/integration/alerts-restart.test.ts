// A deadline survives a restart: neither lost nor doubled. The no-water deadline is pending (the quiet window
// is complete, the settle time not yet over) when the service stops; a new process on the same data dir
// fires it once when the clock passes it, and never again.
import { describe, it, expect, afterEach } from 'vitest';
import { startAlertsApp, T0, MIN, HOUR, at, type AlertsEnv } from './alertsHarness.js';
import { tempDir } from '../helpers.js';
import { openDb } from '../../src/store/db.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('deadlines across a restart', () => {
  it('fires a pending no-water deadline exactly once after a restart', async () => {
    const dir = tempDir('shaobing-restart-');
    cleanups.push(() => dir.remove());
    const due = T0 + 12 * HOUR + 10 * MIN;

    let env: AlertsEnv = await startAlertsApp(dir.path);
    const wm = await env.device('gh-wm-6-302');
    for (let h = 0; h <= 12; h++) await wm.send({ type: 'reading', ts: at(T0 + h * HOUR), totalM3: 31.402 });
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBe(due);
    expect(await env.alerts({ kind: 'no_water_use' })).toEqual([]);
    await env.close({ keepData: true });

    const db = openDb({ dataDir: dir.path, synchronous: 'normal' });
    expect(db.prepare("SELECT due FROM deadlines WHERE key = 'no_water_use:gh-wm-6-302'").pluck().get()).toBe(due);
    db.close();

    env = await startAlertsApp(dir.path);
    cleanups.push(() => env.close());
    expect(env.t.app.clock.now()).toBe(T0 + 12 * HOUR); // the event clock resumes where it was, not at 1970
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBe(due);
    expect(await env.alerts({ kind: 'no_water_use' })).toEqual([]);

    expect((await env.advance(due + MIN)).fired).toBeGreaterThanOrEqual(1);
    const a = await env.waitAlert({ kind: 'no_water_use', deviceId: 'gh-wm-6-302' });
    expect(a).toMatchObject({ title: '王婆婆家(6-302) 12小时无用水', count: 1, openedAt: at(due) });

    await env.advance(due + 2 * HOUR);
    const after = await env.alerts({ kind: 'no_water_use' });
    expect(after).toHaveLength(1);
    expect(after[0].count).toBe(1);
    // Opened once (the notifier may add its own entries, such as an escalation, after it).
    expect((await env.alert(a.id)).timeline.filter((e) => !['escalated', 'notification'].includes(e.type)).map((e) => e.type)).toEqual(['opened']);
    expect(env.t.app.rules.scheduler.get('no_water_use:gh-wm-6-302')).toBeUndefined();
  });

  it('fires a deadline that passed while the service was down once, at start, on the wall clock', async () => {
    const dir = tempDir('shaobing-restart-wall-');
    cleanups.push(() => dir.remove());
    // A gate heard an hour ago whose offline deadline (2 × 150 s) passed while the service was down.
    const env1 = await startAlertsApp(dir.path, { clock: 'wall' });
    const gate = await env1.device('gh-gt-out');
    await gate.send({ type: 'heartbeat' });
    const due = env1.t.app.rules.scheduler.get('device_offline:gh-gt-out')!;
    expect(due).toBeGreaterThan(Date.now());
    await env1.close({ keepData: true });
    const db = openDb({ dataDir: dir.path, synchronous: 'normal' });
    const past = Date.now() - HOUR;
    db.prepare("UPDATE deadlines SET due = ? WHERE key = 'device_offline:gh-gt-out'").run(past);
    const st = JSON.parse(db.prepare("SELECT state FROM device_state WHERE device_id = 'gh-gt-out'").pluck().get() as string);
    db.prepare("UPDATE device_state SET state = ? WHERE device_id = 'gh-gt-out'").run(JSON.stringify({ ...st, lastSeenAt: past - 5 * MIN, lastEventAt: past - 5 * MIN }));
    db.close();

    const env2 = await startAlertsApp(dir.path, { clock: 'wall' });
    cleanups.push(() => env2.close());
    const a = await env2.waitAlert({ kind: 'device_offline', deviceId: 'gh-gt-out' });
    expect(a.count).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await env2.alerts({ kind: 'device_offline' })).toHaveLength(1);
    expect(env2.t.app.rules.scheduler.get('device_offline:gh-gt-out')).toBeUndefined();
  });
});
