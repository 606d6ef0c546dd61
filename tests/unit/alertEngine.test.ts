// The rule engine against real SQLite: alerts commit with the batch that caused them, and nothing is
// published — and nothing stays in memory — for a batch that rolled back.
import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { Directory } from '../../src/config/inventory.js';
import { openDb, type Db } from '../../src/store/db.js';
import { sqliteStore } from '../../src/store/sqlite/index.js';
import { EventClock } from '../../src/clock/clock.js';
import { EventBus } from '../../src/bus.js';
import { createMetrics } from '../../src/metrics.js';
import { DeviceStates } from '../../src/state/deviceState.js';
import { RuleEngine } from '../../src/alerts/engine.js';
import { rules } from '../../src/rules/index.js';
import type { Rule } from '../../src/rules/lib/types.js';
import type { Reading } from '../../src/ingest/reading.js';
import type { AlertView } from '../../src/alerts/types.js';
import { deviceKinds } from '../../devices/index.js';
import { tempDir } from '../helpers.js';

const T0 = Date.parse('2025-03-01T08:00:00+08:00');
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

function setup(ruleList = rules) {
  const config = loadConfig({ settingsPath: 'config/settings.yaml', env: {} });
  const dir = tempDir('shaobing-engine-');
  const db: Db = openDb({ dataDir: dir.path, synchronous: 'normal' });
  cleanups.push(() => dir.remove(), () => db.close());
  const log = pino({ level: 'silent' });
  const bus = new EventBus(log);
  const clock = new EventClock(T0);
  const store = sqliteStore(db);
  const states = new DeviceStates(store.deviceState);
  const directory = new Directory(config.communities);
  const engine = new RuleEngine({ store, directory, kinds: deviceKinds, clock, bus, metrics: createMetrics(), states, log, settings: {}, communities: config.communities, rules: ruleList });
  engine.start();
  cleanups.push(() => engine.stop());
  const emitted: AlertView[] = [];
  bus.on('alert', 'test', (a) => emitted.push(a));
  /** One ingest batch as the pipeline runs it: state and handlers in a transaction, then the handler is told
   *  which way it went (ReadingHandler.committed / rolledBack). */
  const batch = (readings: Reading[], fail = false) => {
    try {
      db.transaction(() => {
        for (const r of readings) engine.handler.handle(r, states.applyReading(r));
        engine.handler.flush?.();
        states.flush(clock.now());
        if (fail) throw new Error('disk full');
      })();
    } catch {
      engine.handler.rolledBack?.();
      return;
    }
    for (const r of readings) bus.emit('reading', r);
    engine.handler.committed?.(readings);
  };
  return { db, engine, emitted, batch, clock };
}

const alarm = (ts: number): Reading => ({
  deviceId: 'gh-sd-6-302',
  kind: 'smoke-detector',
  communityId: 'guihuayuan',
  gridId: 'gh-g2',
  type: 'alarm',
  ts,
  receivedAt: ts,
  payload: { type: 'alarm' },
});
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('rule engine', () => {
  it('publishes an alert once its batch has committed', async () => {
    const { engine, emitted, batch } = setup();
    batch([alarm(T0)]);
    await tick();
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({ kind: 'smoke', title: '6号楼302 烟感报警', status: 'open' });
    expect(engine.alerts.openFor('smoke', 'gh-sd-6-302')).toBeDefined();
  });

  it('publishes nothing and forgets what it held when the batch rolls back', async () => {
    const { db, engine, emitted, batch } = setup();
    batch([alarm(T0)], true);
    await tick();
    expect(emitted).toEqual([]);
    expect(engine.alerts.openFor('smoke', 'gh-sd-6-302')).toBeUndefined();
    expect(engine.scheduler.get('device_offline:gh-sd-6-302')).toBeUndefined();
    expect(db.prepare('SELECT COUNT(*) FROM alerts').pluck().get()).toBe(0);
    batch([alarm(T0 + 1000)]); // and the next batch starts from the truth
    await tick();
    expect(emitted.map((a) => a.count)).toEqual([1]);
  });

  it('is told the outcome: a bus event alone publishes nothing, committed() does', async () => {
    const { db, engine, emitted } = setup();
    const states = new DeviceStates(sqliteStore(db).deviceState);
    const r = alarm(T0);
    db.transaction(() => {
      engine.handler.handle(r, states.applyReading(r));
      engine.handler.flush?.();
    })();
    await tick();
    expect(emitted).toEqual([]); // no inference from timing
    engine.handler.committed?.([r]);
    expect(emitted.map((a) => a.kind)).toEqual(['smoke']);
  });

  it('keeps other rules working when one rule throws', async () => {
    const broken: Rule<undefined> = {
      ...rules.find((r) => r.name === 'low_battery')!,
      subjects: (r) => [r.deviceId],
      evaluate: () => {
        throw new Error('bug');
      },
    };
    const { emitted, batch } = setup([broken, ...rules.filter((r) => r.name !== 'low_battery')]);
    batch([alarm(T0)]);
    await tick();
    expect(emitted.map((a) => a.kind)).toEqual(['smoke']);
  });

  it('fires deadlines after the batch on the event clock, in their own transaction', async () => {
    const { engine, emitted, batch, clock } = setup();
    batch([alarm(T0)]);
    await tick();
    expect(engine.scheduler.get('device_offline:gh-sd-6-302')).toBe(T0 + 48 * 3_600_000);
    clock.observe(T0 + 49 * 3_600_000);
    engine.advanceClock(T0 + 49 * 3_600_000);
    expect(emitted.map((a) => [a.kind, a.severity])).toEqual([
      ['smoke', 'critical'],
      ['device_offline', 'major'], // a lone elder's smoke detector
    ]);
  });
});
