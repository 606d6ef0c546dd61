// The jobs as units: a failing run is logged and never throws; a bad cron expression stops start-up with its
// settings path; retention trims rejections, old outbox rows of resolved alerts and year-old care visits (real
// SQLite in a temp dir).
import { describe, it, expect, afterAll } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { CronJob } from '../../src/jobs/cronJob.js';
import { runRetention } from '../../src/jobs/retention.js';
import { ConfigError } from '../../src/config/load.js';
import { openDb } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

const DAY = 86_400_000;

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('CronJob', () => {
  it('logs a failing run and goes on', async () => {
    const { log, lines } = capture();
    let runs = 0;
    const job = new CronJob({
      name: 'boom',
      cron: '0 8 * * *',
      path: '/x',
      log,
      run: () => {
        runs++;
        throw new Error('disk on fire');
      },
    });
    job.start();
    await expect(job.runNow()).resolves.toBeUndefined();
    await job.runNow();
    job.stop();
    expect(runs).toBe(2);
    const failed = lines.filter((l) => l.msg === 'job failed; the service goes on');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ job: 'boom', level: 50, err: { message: 'disk on fire' } });
  });

  it('refuses a bad expression with its settings path', () => {
    const { log } = capture();
    const job = new CronJob({ name: 'digest', cron: '0 25 * * *', path: '/notify/digest/cron', log, run: () => 1 });
    expect(() => job.start()).toThrow(ConfigError);
    expect(() => job.start()).toThrow("settings: /notify/digest/cron: '0 25 * * *' is not a cron expression");
  });
});

describe('retention', () => {
  const dir = tempDir('shaobing-retention-');
  afterAll(() => dir.remove());

  it('trims rejections to the cap, old sent outbox rows of resolved alerts, and visits older than a year', async () => {
    const db = openDb({ dataDir: dir.path, synchronous: 'normal' });
    const now = Date.parse('2026-03-01T00:00:00Z');
    const rej = db.prepare(
      "INSERT INTO rejections (device_id, community_id, topic, code, message, payload, payload_bytes, received_at) VALUES ('d', 'c', 't', 'bad', 'm', x'00', 1, ?)",
    );
    for (let i = 0; i < 130; i++) rej.run(now);
    const alert = db.prepare(
      `INSERT INTO alerts (kind, subject, severity, status, community_id, grid_id, title, details, opened_at, updated_at)
       VALUES ('smoke', ?, 'critical', ?, 'c', 'g', 't', '{}', 0, 0)`,
    );
    const resolved = Number(alert.run('s1', 'resolved').lastInsertRowid);
    const open = Number(alert.run('s2', 'open').lastInsertRowid);
    const out = db.prepare(
      `INSERT INTO outbox (alert_id, destination, notice, due_at, status, created_at, sent_at) VALUES (?, 'r', '{}', 0, ?, 0, ?)`,
    );
    out.run(resolved, 'sent', now - 31 * DAY); // goes
    out.run(resolved, 'sent', now - 29 * DAY); // stays: recent
    out.run(open, 'sent', now - 40 * DAY); // stays: its alert is still open
    out.run(resolved, 'failed', null); // stays: evidence
    out.run(null, 'sent', now - 31 * DAY); // goes: an old digest
    const visit = db.prepare("INSERT INTO care_visits (household_id, community_id, grid_id, visited_by, at, logged_at) VALUES ('h', 'c', 'g', 'v', ?, ?)");
    visit.run(now - 366 * DAY, now - 366 * DAY);
    visit.run(now - 300 * DAY, now - 300 * DAY);

    expect(await runRetention({ store: sqliteStore(db), now, rejectionsMax: 100 })).toEqual({ rejections: 30, outbox: 2, careVisits: 1, careAbsences: 0 });
    expect(db.prepare('SELECT COUNT(*) FROM rejections').pluck().get()).toBe(100);
    expect(db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(3);
    expect(await runRetention({ store: sqliteStore(db), now, rejectionsMax: 100 })).toEqual({ rejections: 0, outbox: 0, careVisits: 0, careAbsences: 0 });
    db.close();
  });
});
