// The store contract (issue 16 item 2): what every adapter of src/store/store.ts must do, exercised through the
// interface only — no SQL, no driver. tests/integration/store-contract.test.ts runs it against SQLite and
// PostgreSQL. Writes happen inside `transaction`; anything read back by a query (async) or by a fresh instance
// over the same data (`reopen`) is read after `await store.durable()`, as the app does before acknowledging.
// Working-set reads (sync) must see the unit's writes at once, inside the unit and after it.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { AlertRecord, Store } from '../../src/store/store.js';

export interface StoreHarness {
  /** A store over fresh, empty data. */
  open(): Promise<Store>;
  /** Close the current store and open a new instance over the same data (what a restart or another instance sees). */
  reopen(): Promise<Store>;
  /** A second instance over the same data, open beside the current one (another process; closed by `close`). */
  another(): Promise<Store>;
  close(): Promise<void>;
  /** The repositories this adapter has (all of them once it is complete). */
  has(repo: keyof Store): boolean;
}

const T0 = 1_764_000_000_000;

type NewAlert = Parameters<Store['alerts']['insert']>[0];
const alert = (over: Partial<NewAlert> = {}): NewAlert => ({
  kind: 'smoke',
  subject: 'd-smoke-1',
  severity: 'critical',
  communityId: 'c1',
  gridId: 'g1',
  deviceId: 'd-smoke-1',
  householdId: 'h1',
  spaceId: null,
  plate: null,
  title: '烟雾报警',
  details: { level: 3, where: '厨房' },
  openedAt: T0,
  ...over,
});

class Boom extends Error {}

export function storeContract(label: string, h: StoreHarness, available: () => boolean): void {
  describe(`store contract: ${label}`, () => {
    let store: Store;
    beforeEach(async () => {
      if (!available()) return;
      store = await h.open();
    });
    afterEach(async () => {
      if (available()) await h.close();
    });
    const test = (repos: Array<keyof Store>, name: string, fn: () => Promise<void> | void) =>
      it.runIf(repos.every((r) => h.has(r)))(name, async () => {
        if (!available()) return;
        await fn();
      });
    const reopen = async () => {
      await store.durable();
      store = await h.reopen();
      return store;
    };

    // ── units of work ──────────────────────────────────────────────────────────────────────────────────

    test(['deviceState', 'deadlines'], 'a unit of work commits its writes together, and a fresh instance reads them', async () => {
      const out = store.transaction(() => {
        store.deviceState.put('d1', { battery: 80 }, T0);
        store.deadlines.upsert('k1', T0 + 1000);
        return 'done';
      });
      expect(out).toBe('done');
      expect(store.isOpen).toBe(true);
      await store.durable();
      const again = await reopen();
      expect(again.deviceState.all()).toEqual([{ deviceId: 'd1', state: { battery: 80 } }]);
      expect(again.deadlines.all()).toEqual([{ key: 'k1', due: T0 + 1000 }]);
    });

    test(['deviceState', 'deadlines'], 'a unit that throws leaves nothing behind, in the working set nor in the data', async () => {
      store.transaction(() => store.deadlines.upsert('keep', 1));
      expect(() =>
        store.transaction(() => {
          store.deviceState.put('d1', { battery: 80 }, T0);
          store.deadlines.upsert('gone', T0);
          store.deadlines.delete('keep');
          throw new Boom('no');
        }),
      ).toThrow(Boom);
      expect(store.deviceState.all()).toEqual([]);
      expect(store.deadlines.all()).toEqual([{ key: 'keep', due: 1 }]);
      const again = await reopen();
      expect(again.deviceState.all()).toEqual([]);
      expect(again.deadlines.all()).toEqual([{ key: 'keep', due: 1 }]);
    });

    test(['deviceState', 'deadlines', 'ruleState'], 'a nested unit that throws undoes only its own writes; the outer goes on and commits', async () => {
      store.transaction(() => store.ruleState.put('r', 's', { n: 0 }, T0));
      store.transaction(() => {
        store.deviceState.put('d1', { v: 1 }, T0);
        expect(() =>
          store.transaction(() => {
            store.deviceState.put('d1', { v: 2 }, T0 + 1);
            store.deviceState.put('d2', { v: 9 }, T0 + 1);
            store.deadlines.upsert('inner', T0);
            store.ruleState.delete('r', 's');
            expect(store.deviceState.all().length).toBe(2);
            throw new Boom('poison');
          }),
        ).toThrow(Boom);
        // A nested unit that returns keeps its writes.
        store.transaction(() => store.deadlines.upsert('kept', T0 + 5));
        expect(store.deviceState.all()).toEqual([{ deviceId: 'd1', state: { v: 1 } }]);
        expect(store.ruleState.get('r', 's')).toEqual({ n: 0 });
      });
      const check = (s: Store) => {
        expect(s.deviceState.all()).toEqual([{ deviceId: 'd1', state: { v: 1 } }]);
        expect(s.deadlines.all()).toEqual([{ key: 'kept', due: T0 + 5 }]);
        expect(s.ruleState.get('r', 's')).toEqual({ n: 0 });
      };
      check(store);
      check(await reopen());
    });

    test(['deviceState'], 'an outer unit that throws undoes the nested units that returned inside it', async () => {
      expect(() =>
        store.transaction(() => {
          store.transaction(() => store.deviceState.put('d1', { v: 1 }, T0));
          throw new Boom('later');
        }),
      ).toThrow(Boom);
      expect(store.deviceState.all()).toEqual([]);
      expect((await reopen()).deviceState.all()).toEqual([]);
    });

    test(['deviceState'], 'a unit cannot be async: refused, and what it wrote before its first await is undone', async () => {
      expect(() =>
        store.transaction((async () => {
          store.deviceState.put('d1', { v: 1 }, T0);
          await Promise.resolve();
        }) as () => unknown),
      ).toThrow(TypeError);
      expect(store.deviceState.all()).toEqual([]);
      expect((await reopen()).deviceState.all()).toEqual([]);
    });

    test(['alerts', 'outbox'], 'ids come back at once, distinct, usable in the same unit', async () => {
      const ids = store.transaction(() => {
        const a = store.alerts.insert(alert());
        const b = store.alerts.insert(alert({ kind: 'no_water_use', subject: 'h1', deviceId: null }));
        store.alerts.addEvent({ alertId: a, at: T0, type: 'opened', actor: 'system' });
        const o = store.outbox.enqueue({ alertId: a, destination: 'wecom:duty', notice: '{}', dueAt: T0, createdAt: T0 });
        expect(store.alerts.get(a)?.subject).toBe('d-smoke-1');
        return { a, b, o };
      });
      expect(Number.isInteger(ids.a) && ids.a > 0).toBe(true);
      expect(ids.b).not.toBe(ids.a);
      expect(Number.isInteger(ids.o) && ids.o > 0).toBe(true);
      const c = store.transaction(() => store.alerts.insert(alert({ subject: 'd-smoke-2', deviceId: 'd-smoke-2' })));
      expect(new Set([ids.a, ids.b, c]).size).toBe(3);
      const again = await reopen();
      expect(again.alerts.timeline(ids.a)).toEqual([{ alertId: ids.a, at: T0, type: 'opened', actor: 'system' }]);
      // Ids stay unique across instances.
      const d = again.transaction(() => again.alerts.insert(alert({ subject: 'd-smoke-3', deviceId: 'd-smoke-3' })));
      expect([ids.a, ids.b, c]).not.toContain(d);
    });

    test(['deviceState'], 'durable() settles once the units that returned are committed', async () => {
      store.transaction(() => store.deviceState.put('d1', { v: 1 }, T0));
      const d = store.durable();
      if (d !== undefined) await expect(d).resolves.toBeUndefined();
      await store.durable();
      expect(store.isTransient(new Boom('a bug'))).toBe(false);
    });

    // ── ingest ─────────────────────────────────────────────────────────────────────────────────────────

    test(['inbox'], 'inbox: messages left by a crash come back oldest first, removed ones do not', async () => {
      const [a, , c] = store.transaction(() => [
        store.inbox.add({ deviceId: 'm1', topic: 'iot/c1/m1/up', payload: Buffer.from([0, 1, 2, 255]), receivedAt: T0 }),
        store.inbox.add({ deviceId: 'm2', topic: 'iot/c1/m2/up', payload: Buffer.from('{"v":1}'), receivedAt: T0 + 1 }),
        store.inbox.add({ deviceId: 'm3', topic: 'iot/c1/m3/up', payload: Buffer.from('x'), receivedAt: T0 + 2 }),
      ]);
      store.transaction(() => store.inbox.remove(c));
      const left = (await reopen()).inbox.left();
      expect(left.map((m) => m.deviceId)).toEqual(['m1', 'm2']);
      expect(left[0]).toEqual({ id: a, deviceId: 'm1', topic: 'iot/c1/m1/up', payload: Buffer.from([0, 1, 2, 255]), receivedAt: T0 });
    });

    test(['rejections'], 'rejections: newest first, by device, keepNewest deletes the rest', async () => {
      const add = (deviceId: string | null, i: number) =>
        store.rejections.add({
          deviceId,
          communityId: deviceId ? 'c1' : null,
          topic: `iot/c1/${deviceId ?? 'x'}/up`,
          code: 'SB_PAYLOAD_INVALID',
          message: `bad ${i}`,
          payload: Buffer.from([i]),
          payloadBytes: 1,
          receivedAt: T0 + i,
        });
      const ids = store.transaction(() => [add('d1', 1), add('d2', 2), add(null, 3), add('d1', 4), add('d2', 5)]);
      await store.durable();
      const all = await store.rejections.list({ limit: 10 });
      expect(all.map((r) => r.message)).toEqual(['bad 5', 'bad 4', 'bad 3', 'bad 2', 'bad 1']);
      expect(all[2]).toEqual({ id: ids[2], deviceId: null, communityId: null, topic: 'iot/c1/x/up', code: 'SB_PAYLOAD_INVALID', message: 'bad 3', payload: Buffer.from([3]), payloadBytes: 1, receivedAt: T0 + 3 });
      expect((await store.rejections.list({ deviceIds: ['d1'], limit: 10 })).map((r) => r.message)).toEqual(['bad 4', 'bad 1']);
      expect(await store.rejections.list({ deviceIds: [], limit: 10 })).toEqual([]);
      expect((await store.rejections.list({ limit: 2 })).length).toBe(2);
      expect(await store.rejections.keepNewest(2)).toBe(3);
      expect(await store.rejections.keepNewest(2)).toBe(0);
      await store.durable();
      expect((await store.rejections.list({ limit: 10 })).map((r) => r.message)).toEqual(['bad 5', 'bad 4']);
    });

    // A redelivery matches only its own session's record with the same packet id and hash, among the session's
    // latest `window` records (the pipeline passes DELIVERY_WINDOW), once committed, and across a restart.
    const dl = (session: string, packetId: number, hash = `h${packetId}`) => ({ session, packetId, hash });

    test(['deliveries'], 'deliveries: matched by session, packet id and hash; a reused packet id replaces the record', async () => {
      store.transaction(() => {
        store.deliveries.record(dl('s1', 7));
        store.deliveries.record(dl('s1', 8));
      });
      expect(store.deliveries.recorded(dl('s1', 7), 1000)).toBe(true);
      expect(store.deliveries.recorded(dl('s1', 7, 'other payload'), 1000)).toBe(false);
      expect(store.deliveries.recorded(dl('s2', 7), 1000)).toBe(false);
      expect(store.deliveries.recorded(dl('s1', 9), 1000)).toBe(false);
      store.transaction(() => store.deliveries.record(dl('s1', 7, 'next message')));
      expect(store.deliveries.recorded(dl('s1', 7), 1000)).toBe(false);
      expect(store.deliveries.recorded(dl('s1', 7, 'next message'), 1000)).toBe(true);
      expect(() =>
        store.transaction(() => {
          store.deliveries.record(dl('s1', 3));
          throw new Boom('the inbox write failed');
        }),
      ).toThrow(Boom);
      expect(store.deliveries.recorded(dl('s1', 3), 1000)).toBe(false);
    });

    test(['deliveries'], "deliveries: only among the session's own latest `window` records, also after a restart", async () => {
      store.transaction(() => {
        for (let id = 1; id <= 10; id++) {
          store.deliveries.record(dl('s1', id));
          // Another session's traffic in between does not push s1's records out of s1's window.
          store.deliveries.record(dl('s2', id));
          store.deliveries.record(dl('s2', 100 + id));
        }
      });
      // s1's packet 6 has 4 newer s1 records: inside a window of 5, outside a window of 4.
      expect(store.deliveries.recorded(dl('s1', 6), 5)).toBe(true);
      expect(store.deliveries.recorded(dl('s1', 6), 4)).toBe(false);
      expect(store.deliveries.recorded(dl('s1', 1), 10)).toBe(true);
      expect(store.deliveries.recorded(dl('s1', 1), 9)).toBe(false);
      // A restarted instance orders its new records after the previous run's.
      const again = await reopen();
      again.transaction(() => again.deliveries.record(dl('s1', 11)));
      expect(again.deliveries.recorded(dl('s1', 11), 1)).toBe(true);
      expect(again.deliveries.recorded(dl('s1', 10), 1)).toBe(false);
      expect(again.deliveries.recorded(dl('s1', 10), 2)).toBe(true);
      expect(again.deliveries.recorded(dl('s1', 2), 10)).toBe(true);
      expect(again.deliveries.recorded(dl('s1', 1), 10)).toBe(false);
    });

    test(['deliveries'], 'deliveries: an instance resuming a session another one held recognises its committed deliveries', async () => {
      const b = await h.another(); // open before the deliveries below, as a surviving instance is
      store.transaction(() => {
        store.deliveries.record(dl('shaobing-c-c1', 41));
        store.deliveries.record(dl('shaobing-c-c1', 42));
      });
      await store.durable();
      await b.deliveries.load('shaobing-c-c1');
      expect(b.deliveries.recorded(dl('shaobing-c-c1', 42), 1000)).toBe(true);
      expect(b.deliveries.recorded(dl('shaobing-c-c1', 41), 1)).toBe(false);
      // Its own records go after the previous holder's.
      b.transaction(() => b.deliveries.record(dl('shaobing-c-c1', 43)));
      expect(b.deliveries.recorded(dl('shaobing-c-c1', 42), 1)).toBe(false);
      expect(b.deliveries.recorded(dl('shaobing-c-c1', 43), 1)).toBe(true);
    });

    test(['deviceState'], 'device state: put replaces, all lists every device', async () => {
      store.transaction(() => {
        store.deviceState.put('d1', { battery: 80, ok: true }, T0);
        store.deviceState.put('d2', { n: [1, 2] }, T0);
        store.deviceState.put('d1', { battery: 70 }, T0 + 1);
      });
      const sorted = (s: Store) => s.deviceState.all().sort((a, b) => a.deviceId.localeCompare(b.deviceId));
      expect(sorted(store)).toEqual([
        { deviceId: 'd1', state: { battery: 70 } },
        { deviceId: 'd2', state: { n: [1, 2] } },
      ]);
      expect(sorted(await reopen())).toEqual([
        { deviceId: 'd1', state: { battery: 70 } },
        { deviceId: 'd2', state: { n: [1, 2] } },
      ]);
    });

    test(['readings'], 'readings: a payload field over time, typed or not, the value before, sweep by event time', async () => {
      store.transaction(() => {
        store.readings.add({ deviceId: 'w1', ts: T0, receivedAt: T0, type: 'flow', payload: { litres: 1.5, open: true, tags: ['a'] } });
        store.readings.add({ deviceId: 'w1', ts: T0 + 10, receivedAt: T0 + 10, type: 'status', payload: { litres: 99, battery: 50 } });
        store.readings.add({ deviceId: 'w1', ts: T0 + 20, receivedAt: T0 + 20, type: 'flow', payload: { litres: 0, open: false, where: { floor: 3 } } });
        store.readings.add({ deviceId: 'w1', ts: T0 + 30, receivedAt: T0 + 30, type: 'flow', payload: { other: 1 } });
        store.readings.add({ deviceId: 'w2', ts: T0 + 5, receivedAt: T0 + 5, type: 'flow', payload: { litres: 7 } });
      });
      await store.durable();
      expect(await store.readings.field({ deviceId: 'w1', field: 'litres', from: T0, to: T0 + 30 })).toEqual([
        { ts: T0, value: 1.5 },
        { ts: T0 + 10, value: 99 },
        { ts: T0 + 20, value: 0 },
      ]);
      expect(await store.readings.field({ deviceId: 'w1', field: 'litres', from: T0, to: T0 + 20, type: 'flow' })).toEqual([{ ts: T0, value: 1.5 }]);
      expect(await store.readings.field({ deviceId: 'w1', field: 'open', from: 0, to: T0 + 100 })).toEqual([
        { ts: T0, value: true },
        { ts: T0 + 20, value: false },
      ]);
      expect(await store.readings.field({ deviceId: 'w1', field: 'tags', from: 0, to: T0 + 100 })).toEqual([{ ts: T0, value: ['a'] }]);
      expect(await store.readings.field({ deviceId: 'w1', field: 'where', from: 0, to: T0 + 100 })).toEqual([{ ts: T0 + 20, value: { floor: 3 } }]);
      expect(await store.readings.fieldBefore({ deviceId: 'w1', field: 'litres', before: T0 + 20 })).toEqual({ ts: T0 + 10, value: 99 });
      expect(await store.readings.fieldBefore({ deviceId: 'w1', field: 'litres', before: T0 + 20, type: 'flow' })).toEqual({ ts: T0, value: 1.5 });
      expect(await store.readings.fieldBefore({ deviceId: 'w1', field: 'litres', before: T0 })).toBeUndefined();
      await expect(store.readings.field({ deviceId: 'w1', field: "x') OR 1=1 --", from: 0, to: 1 })).rejects.toThrow();
      expect(await store.readings.sweep(T0 + 20, 2)).toBe(2);
      expect(await store.readings.sweep(T0 + 20, 2)).toBe(1);
      expect(await store.readings.sweep(T0 + 20, 2)).toBe(0);
      await store.durable();
      expect(await store.readings.field({ deviceId: 'w1', field: 'litres', from: 0, to: T0 + 100 })).toEqual([{ ts: T0 + 20, value: 0 }]);
    });

    test(['telemetryQueue'], 'telemetry queue: oldest first, done up to an id, totals', async () => {
      store.transaction(() => {
        store.telemetryQueue.add('a v=1 1', 1, 7);
        store.telemetryQueue.add('b v=1 2\nb v=2 3', 2, 15);
        store.telemetryQueue.add('c v=1 4', 1, 7);
      });
      expect(store.telemetryQueue.totals()).toEqual({ entries: 3, points: 4, bytes: 29 });
      const next = store.telemetryQueue.next(2);
      expect(next.map((e) => e.lines)).toEqual(['a v=1 1', 'b v=1 2\nb v=2 3']);
      expect(next[1]).toMatchObject({ points: 2, bytes: 15 });
      store.transaction(() => store.telemetryQueue.doneUpTo(next[1].id));
      expect(store.telemetryQueue.next(10).map((e) => e.lines)).toEqual(['c v=1 4']);
      expect((await reopen()).telemetryQueue.totals()).toEqual({ entries: 1, points: 1, bytes: 7 });
      expect(store.telemetryQueue.next(10).map((e) => e.lines)).toEqual(['c v=1 4']);
    });

    // ── rules and deadlines ────────────────────────────────────────────────────────────────────────────

    test(['ruleState'], 'rule state: get, put, delete, all of a rule, newest', async () => {
      expect(store.ruleState.newest()).toBeUndefined();
      expect(store.ruleState.get('no_water_use', 'h1')).toBeUndefined();
      store.transaction(() => {
        store.ruleState.put('no_water_use', 'h1', { since: 5 }, T0 + 5);
        store.ruleState.put('no_water_use', 'h2', { since: 1 }, T0 + 9);
        store.ruleState.put('low_battery', 'd1', { low: true }, T0 + 2);
        store.ruleState.put('no_water_use', 'h1', { since: 6 }, T0 + 7);
      });
      expect(store.ruleState.get('no_water_use', 'h1')).toEqual({ since: 6 });
      expect(store.ruleState.newest()).toBe(T0 + 9);
      store.transaction(() => store.ruleState.delete('no_water_use', 'h2'));
      const check = (s: Store) => {
        expect(s.ruleState.all('no_water_use')).toEqual([{ subject: 'h1', state: { since: 6 } }]);
        expect(s.ruleState.all('low_battery')).toEqual([{ subject: 'd1', state: { low: true } }]);
        expect(s.ruleState.get('no_water_use', 'h2')).toBeUndefined();
      };
      check(store);
      check(await reopen());
    });

    test(['deadlines'], 'deadlines: upsert moves one, claim takes it once and only at its due time', async () => {
      store.transaction(() => {
        store.deadlines.upsert('a', T0 + 1);
        store.deadlines.upsert('b', T0 + 2);
        store.deadlines.upsert('a', T0 + 3);
      });
      expect(store.deadlines.all().sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { key: 'a', due: T0 + 3 },
        { key: 'b', due: T0 + 2 },
      ]);
      expect(store.transaction(() => store.deadlines.claim('a', T0 + 1))).toBe(false);
      expect(store.transaction(() => store.deadlines.claim('a', T0 + 3))).toBe(true);
      expect(store.transaction(() => store.deadlines.claim('a', T0 + 3))).toBe(false);
      expect(store.transaction(() => store.deadlines.claim('nothing', 1))).toBe(false);
      store.transaction(() => store.deadlines.delete('b'));
      expect(store.deadlines.all()).toEqual([]);
      expect((await reopen()).deadlines.all()).toEqual([]);
    });

    // ── alerts ─────────────────────────────────────────────────────────────────────────────────────────

    test(['alerts'], 'alerts: insert, the open ones, update, lastOf after resolving, timeline, newest update', async () => {
      expect(store.alerts.newestUpdate()).toBeUndefined();
      const id = store.transaction(() => store.alerts.insert(alert()));
      const fresh = store.alerts.get(id)!;
      expect(fresh).toEqual({
        id,
        ...alert(),
        status: 'open',
        count: 1,
        assignee: null,
        resolution: null,
        resolvedBy: null,
        autoResolved: false,
        rating: null,
        updatedAt: T0,
        resolvedAt: null,
      } satisfies AlertRecord);
      expect(store.alerts.openOf('smoke', 'd-smoke-1')?.id).toBe(id);
      expect(store.alerts.openOf('smoke', 'other')).toBeUndefined();
      expect(store.alerts.open().map((a) => a.id)).toEqual([id]);
      expect(store.alerts.openIdsOfHousehold('h1')).toEqual([id]);
      store.transaction(() => {
        store.alerts.update(id, { status: 'acknowledged', assignee: 'wang', count: 2, details: { level: 4 }, updatedAt: T0 + 10 });
        store.alerts.addEvent({ alertId: id, at: T0 + 10, type: 'acknowledged', actor: 'wang', data: { note: '已收到' } });
      });
      expect(store.alerts.get(id)).toMatchObject({ status: 'acknowledged', assignee: 'wang', count: 2, details: { level: 4 }, updatedAt: T0 + 10 });
      expect(store.alerts.openIdsOfHousehold('h1')).toEqual([]); // only status `open`
      expect(store.alerts.newestUpdate()).toBe(T0 + 10);
      store.transaction(() =>
        store.alerts.update(id, { status: 'resolved', resolution: '误报', resolvedBy: 'wang', autoResolved: true, resolvedAt: T0 + 20, updatedAt: T0 + 20, rating: { stars: 5, at: '2025-01-01T00:00:00.000Z' } }),
      );
      expect(store.alerts.openOf('smoke', 'd-smoke-1')).toBeUndefined();
      expect(store.alerts.open()).toEqual([]);
      const second = store.transaction(() => store.alerts.insert(alert({ openedAt: T0 + 30 })));
      expect(store.alerts.lastOf('smoke', 'd-smoke-1')?.id).toBe(second);
      store.transaction(() => store.alerts.update(second, { status: 'resolved', resolvedAt: T0 + 40, updatedAt: T0 + 40 }));
      const again = await reopen();
      expect(again.alerts.lastOf('smoke', 'd-smoke-1')?.id).toBe(second);
      expect(again.alerts.get(id)).toMatchObject({ status: 'resolved', resolution: '误报', resolvedBy: 'wang', autoResolved: true, resolvedAt: T0 + 20, rating: { stars: 5 } });
      expect(again.alerts.timeline(id)).toEqual([{ alertId: id, at: T0 + 10, type: 'acknowledged', actor: 'wang', data: { note: '已收到' } }]);
      expect(again.alerts.get(999_999_999)).toBeUndefined();
      expect(again.alerts.newestUpdate()).toBe(T0 + 40);
    });

    test(['alerts'], 'alerts: list by status, kind, device, grid, household — newest first; filed by a household; open counts', async () => {
      const ids = store.transaction(() => [
        store.alerts.insert(alert({ openedAt: T0 + 1 })),
        store.alerts.insert(alert({ kind: 'no_water_use', subject: 'h1', deviceId: null, gridId: 'g2', openedAt: T0 + 2 })),
        store.alerts.insert(alert({ kind: 'smoke', subject: 'd9', deviceId: 'd9', householdId: 'h2', openedAt: T0 + 3 })),
        store.alerts.insert(alert({ kind: 'illegal_parking', subject: 'p1', deviceId: null, householdId: null, openedAt: T0 + 3 })),
      ]);
      store.transaction(() => store.alerts.update(ids[2], { status: 'resolved', resolvedAt: T0 + 4 }));
      await store.durable();
      const list = async (f: Partial<Parameters<Store['alerts']['list']>[0]>) => (await store.alerts.list({ limit: 10, ...f })).map((a) => a.id);
      expect(await list({})).toEqual([ids[3], ids[2], ids[1], ids[0]]);
      expect(await list({ limit: 2 })).toEqual([ids[3], ids[2]]);
      expect(await list({ status: ['open'] })).toEqual([ids[3], ids[1], ids[0]]);
      expect(await list({ kinds: ['smoke'] })).toEqual([ids[2], ids[0]]);
      expect(await list({ kinds: [] })).toEqual([]);
      expect(await list({ deviceId: 'd9' })).toEqual([ids[2]]);
      expect(await list({ gridIds: ['g2'] })).toEqual([ids[1]]);
      expect(await list({ gridIds: [] })).toEqual([]);
      expect(await list({ householdIds: ['h1'], status: ['open', 'resolved'] })).toEqual([ids[1], ids[0]]);
      expect(await list({ householdIds: [] })).toEqual([]);
      expect(store.alerts.filedBy('h1', ['smoke', 'no_water_use'], T0 + 2)).toEqual({ since: 1, unresolved: 2 });
      expect(store.alerts.filedBy('h2', ['smoke'], 0)).toEqual({ since: 1, unresolved: 0 });
      expect(store.alerts.filedBy('h1', [], 0)).toEqual({ since: 0, unresolved: 0 });
      expect(await store.alerts.openCountByHousehold()).toEqual(new Map([['h1', 2]]));
    });

    test(['alerts'], 'alerts: the digest window — alive in [from, to], with their timeline of the asked types', async () => {
      const ids = store.transaction(() => {
        const before = store.alerts.insert(alert({ subject: 'a', openedAt: T0 - 100 })); // resolved before the window
        const alive = store.alerts.insert(alert({ subject: 'b', openedAt: T0 - 50 })); // still open
        const rated = store.alerts.insert(alert({ subject: 'c', openedAt: T0 - 60 })); // resolved before, rated in the window
        const late = store.alerts.insert(alert({ subject: 'd', openedAt: T0 + 500 })); // opened after `to`
        const other = store.alerts.insert(alert({ subject: 'e', gridId: 'g9', openedAt: T0 })); // another grid
        store.alerts.update(before, { status: 'resolved', resolvedAt: T0 - 10 });
        store.alerts.update(rated, { status: 'resolved', resolvedAt: T0 - 10, rating: { stars: 2, at: new Date(T0 + 20).toISOString() } });
        store.alerts.addEvent({ alertId: alive, at: T0 - 50, type: 'opened', actor: 'system' });
        store.alerts.addEvent({ alertId: alive, at: T0 + 10, type: 'acknowledged', actor: 'wang', data: { x: 1 } });
        store.alerts.addEvent({ alertId: alive, at: T0 + 20, type: 'comment', actor: 'wang' });
        store.alerts.addEvent({ alertId: alive, at: T0 + 200, type: 'acknowledged', actor: 'li' });
        return { before, alive, rated, late, other };
      });
      await store.durable();
      const w = await store.alerts.window({ communityId: 'c1', gridIds: ['g1'], from: T0, to: T0 + 100, types: ['opened', 'acknowledged'] });
      expect(w.alerts.map((a) => a.id).sort((a, b) => a - b)).toEqual([ids.alive, ids.rated].sort((a, b) => a - b));
      expect(w.events).toEqual([
        { alertId: ids.alive, at: T0 - 50, type: 'opened', actor: 'system' },
        { alertId: ids.alive, at: T0 + 10, type: 'acknowledged', actor: 'wang' },
      ]);
      expect(await store.alerts.window({ communityId: 'c2', gridIds: ['g1'], from: T0, to: T0 + 100, types: ['opened'] })).toEqual({ alerts: [], events: [] });
      expect(await store.alerts.window({ communityId: 'c1', gridIds: [], from: T0, to: T0 + 100, types: ['opened'] })).toEqual({ alerts: [], events: [] });
    });

    // ── notifications ──────────────────────────────────────────────────────────────────────────────────

    test(['outbox', 'alerts'], 'outbox: due rows per destination, retry and pacing times, sent, failed, prune', async () => {
      const W = 2_000_000_000_000; // wall clock
      const ids = store.transaction(() => {
        const a = store.alerts.insert(alert());
        const q = (destination: string, dueAt: number) => store.outbox.enqueue({ alertId: a, destination, notice: `{"to":"${destination}"}`, dueAt, createdAt: W });
        return { a, r1: q('wecom:a', T0), r2: q('wecom:a', T0 + 1), r3: q('wecom:a', T0 + 2), r4: q('wecom:b', T0 + 1), late: q('wecom:b', T0 + 1000), sms: q('phone:sms', T0) };
      });
      // Only committed rows are handed out (a notice never goes for a change the server may still refuse).
      await store.durable();
      const due = (perDestination: number, limit = 10) => store.outbox.due({ appNow: T0 + 10, wallNow: W, destinations: 'chat', perDestination, limit }).map((r) => r.id);
      expect(due(2)).toEqual([ids.r1, ids.r2, ids.r4]);
      expect(due(5, 2)).toEqual([ids.r1, ids.r2]);
      expect(store.outbox.due({ appNow: T0 + 10, wallNow: W, destinations: 'phone', perDestination: 1, limit: 10 }).map((r) => r.id)).toEqual([ids.sms]);
      expect(store.outbox.due({ appNow: T0 + 10, wallNow: W, destinations: 'chat', perDestination: 1, limit: 10 })[0]).toEqual({
        id: ids.r1,
        alertId: ids.a,
        destination: 'wecom:a',
        notice: '{"to":"wecom:a"}',
        dueAt: T0,
        attempts: 0,
        createdAt: W,
      });
      store.transaction(() => {
        store.outbox.sent(ids.r1, W + 1);
        store.outbox.retry(ids.r2, W + 60_000, 'HTTP 502');
        store.outbox.failed(ids.r4, 'robot removed');
        store.outbox.recordAttempt({ alertIds: [ids.a], outboxIds: [ids.r1], destination: 'wecom:a', channel: 'wecom', ok: true, reason: null, merged: 1, at: W + 1 });
      });
      expect(due(5)).toEqual([ids.r3]); // r2 waits for its retry time
      expect(store.outbox.due({ appNow: T0 + 10, wallNow: W + 60_000, destinations: 'chat', perDestination: 5, limit: 10 })).toMatchObject([{ id: ids.r2, attempts: 1 }, { id: ids.r3 }]);
      const next = new Map(store.outbox.nextPerDestination().map((n) => [n.destination, n.at]));
      expect(next).toEqual(new Map([['wecom:a', T0 + 2], ['wecom:b', T0 + 1000]]));
      // Sent rows of an unresolved alert stay; once it is resolved they go.
      await store.durable();
      expect(await store.outbox.prune(W + 100)).toBe(0);
      store.transaction(() => store.alerts.update(ids.a, { status: 'resolved', resolvedAt: T0 + 50 }));
      await store.durable();
      expect(await store.outbox.prune(W + 1)).toBe(0);
      expect(await store.outbox.prune(W + 100)).toBe(1);
      const again = await reopen();
      expect(again.outbox.due({ appNow: T0 + 10_000, wallNow: W + 60_000, destinations: 'chat', perDestination: 9, limit: 10 }).map((r) => r.id)).toEqual([ids.r2, ids.r3, ids.late]);
    });

    test(['phone', 'alerts'], 'phone: accepted messages counted per number, receipts, one-tap links used once, an open ask', async () => {
      const W = 2_000_000_000_000;
      const a = store.transaction(() => store.alerts.insert(alert()));
      const msg = (over: Partial<Parameters<Store['phone']['add']>[0]>) => ({
        outboxId: 1,
        alertId: a,
        channel: 'sms',
        provider: 'aliyun',
        number: '13800000000',
        ref: 'r1',
        sentAt: W,
        context: '{}',
        status: 'accepted',
        detail: null,
        nextPollAt: W + 1000,
        doneAt: null,
        ...over,
      });
      store.transaction(() => {
        store.phone.add(msg({}));
        store.phone.add(msg({ ref: 'r2', sentAt: W + 10, alertId: null, nextPollAt: W + 5000 }));
        store.phone.add(msg({ ref: 'r3', channel: 'call', sentAt: W + 20 }));
        store.phone.add(msg({ ref: 'r4', sentAt: W + 30, status: 'delivered', nextPollAt: null, doneAt: W + 31 }));
      });
      expect(store.phone.countSince({ number: '13800000000', channel: 'sms', since: W - 1 })).toBe(3);
      expect(store.phone.countSince({ number: '13800000000', channel: 'sms', since: W })).toBe(2);
      expect(store.phone.countSince({ number: '13800000000', channel: 'sms', since: W - 1, alertId: a })).toBe(2);
      expect(store.phone.countSince({ number: '13900000000', channel: 'sms', since: 0 })).toBe(0);
      const waiting = store.phone.awaitingReceipt(W + 1000, 10);
      expect(waiting.map((m) => m.ref)).toEqual(['r1', 'r3']);
      expect(waiting[0]).toEqual({ id: waiting[0].id, outboxId: 1, alertId: a, channel: 'sms', provider: 'aliyun', number: '13800000000', ref: 'r1', sentAt: W, context: '{}' });
      expect(store.transaction(() => store.phone.finish(waiting[0].id, 'delivered', null, W + 1001))).toBe(true);
      expect(store.transaction(() => store.phone.finish(waiting[0].id, 'failed', 'late', W + 1002))).toBe(false);
      store.transaction(() => store.phone.pollLater(waiting[1].id, W + 9000));
      expect(store.phone.awaitingReceipt(W + 5000, 10).map((m) => m.ref)).toEqual(['r2']);

      store.transaction(() => {
        store.phone.addLink({ code: 'ask1', alertId: a, purpose: 'ask', who: 'daughter', expiresAt: W + 3600_000, createdAt: W });
        store.phone.addLink({ code: 'ack1', alertId: a, purpose: 'ack', who: 'duty', expiresAt: W + 3600_000, createdAt: W });
      });
      expect(store.phone.link('ask1')).toEqual({ code: 'ask1', alertId: a, purpose: 'ask', who: 'daughter', expiresAt: W + 3600_000, usedAt: null, answer: null });
      expect(store.phone.link('nope')).toBeUndefined();
      expect(store.phone.openAsk('daughter', W + 1, 'h1')).toBe(a);
      expect(store.phone.openAsk('daughter', W + 3600_001, 'h1')).toBeUndefined(); // expired
      expect(store.phone.openAsk('daughter', W + 1, 'h2')).toBeUndefined();
      expect(store.phone.openAsk('duty', W + 1, 'h1')).toBeUndefined(); // an ack page is no ask
      expect(store.transaction(() => store.phone.useLink('ask1', W + 5, 'ok'))).toBe(true);
      expect(store.transaction(() => store.phone.useLink('ask1', W + 6, 'again'))).toBe(false);
      expect(store.phone.openAsk('daughter', W + 10, 'h1')).toBeUndefined();
      store.transaction(() => store.alerts.update(a, { status: 'acknowledged' }));
      store.transaction(() => store.phone.addLink({ code: 'ask2', alertId: a, purpose: 'ask', who: 'son', expiresAt: W + 3600_000, createdAt: W }));
      expect(store.phone.openAsk('son', W + 1, 'h1')).toBeUndefined(); // its alert is no longer `open`
      expect((await reopen()).phone.link('ask1')).toMatchObject({ usedAt: W + 5, answer: 'ok' });
    });

    test(['ackTokens'], 'ack tokens: used once', async () => {
      expect(store.ackTokens.used('j1')).toBe(false);
      expect(store.transaction(() => store.ackTokens.use('j1', T0))).toBe(true);
      expect(store.transaction(() => store.ackTokens.use('j1', T0 + 1))).toBe(false);
      expect(store.ackTokens.used('j1')).toBe(true);
      expect((await reopen()).ackTokens.used('j1')).toBe(true);
    });

    // ── care ───────────────────────────────────────────────────────────────────────────────────────────

    test(['careVisits'], 'care visits: the last, the recent ones, each household after a time, prune', async () => {
      const v = (householdId: string, at: number, note?: string) => ({ householdId, communityId: 'c1', gridId: 'g1', by: 'wang', at, ...(note ? { note } : {}), loggedAt: at + 1 });
      const ids = store.transaction(() => [store.careVisits.add(v('h1', T0, '精神不错')), store.careVisits.add(v('h1', T0 + 20)), store.careVisits.add(v('h2', T0 + 10))]);
      expect(store.careVisits.last('h1')).toEqual({ id: ids[1], ...v('h1', T0 + 20) });
      expect(store.careVisits.last('h3')).toBeUndefined();
      expect(store.careVisits.lastEach(T0 + 5)).toEqual(new Map([['h1', T0 + 20], ['h2', T0 + 10]]));
      await store.durable();
      expect(await store.careVisits.recent('h1', 5)).toEqual([{ id: ids[1], ...v('h1', T0 + 20) }, { id: ids[0], ...v('h1', T0, '精神不错') }]);
      expect(await store.careVisits.prune(T0 + 15)).toBe(2);
      expect(store.careVisits.last('h2')).toBeUndefined();
      expect((await reopen()).careVisits.lastEach(0)).toEqual(new Map([['h1', T0 + 20]]));
    });

    test(['absences'], 'absences: live, of a household, ended, moved, prompted once, prune', async () => {
      const x = (householdId: string, from: number, until: number) => ({ householdId, communityId: 'c1', gridId: 'g1', reason: 'hospital', note: '住院', from, until, createdBy: 'wang', createdAt: from });
      const [a, b, c] = store.transaction(() => [store.absences.add(x('h1', T0, T0 + 100)), store.absences.add(x('h1', T0 + 200, T0 + 300)), store.absences.add(x('h2', T0, T0 + 50))]);
      expect(store.absences.get(a)).toEqual({ id: a, ...x('h1', T0, T0 + 100) });
      expect(store.absences.ofHousehold('h1', T0 + 60, 10).map((r) => r.id)).toEqual([b, a]);
      expect(store.absences.ofHousehold('h1', T0 + 60, 1).map((r) => r.id)).toEqual([b]);
      expect(store.absences.live(T0 + 60).map((r) => r.id)).toEqual([b, a]);
      expect(store.absences.live(T0).map((r) => r.id)).toEqual([b, a, c]);
      store.transaction(() => store.absences.end(a, T0 + 40, 'wang', '回家了'));
      expect(store.absences.get(a)).toMatchObject({ endedAt: T0 + 40, endedBy: 'wang', endNote: '回家了' });
      expect(store.absences.live(T0 + 45).map((r) => r.id)).toEqual([b, c]);
      expect(store.transaction(() => store.absences.prompt(b, T0 + 301))).toBe(true);
      expect(store.transaction(() => store.absences.prompt(b, T0 + 302))).toBe(false);
      expect(store.absences.get(b)?.promptedAt).toBe(T0 + 301);
      store.transaction(() => store.absences.changeUntil(b, T0 + 400)); // a new return date clears the prompt
      expect(store.absences.get(b)).toMatchObject({ until: T0 + 400 });
      expect(store.absences.get(b)?.promptedAt).toBeUndefined();
      await store.durable();
      expect((await store.absences.since(T0 + 45, 10)).map((r) => r.id)).toEqual([b, c]);
      expect(await store.absences.prune(T0 + 60)).toBe(2);
      expect(store.absences.get(a)).toBeUndefined();
      expect((await reopen()).absences.live(0).map((r) => r.id)).toEqual([b]);
    });

    test(['visitors'], 'visitors: one registration per plate and community', async () => {
      store.transaction(() => {
        store.visitors.put({ communityId: 'c1', plate: '京A12345', until: T0 + 10, registeredBy: 'guard', registeredAt: T0 });
        store.visitors.put({ communityId: 'c2', plate: '京A12345', until: T0 + 20, registeredBy: 'guard', registeredAt: T0 });
        store.visitors.put({ communityId: 'c1', plate: '京A12345', until: T0 + 30, registeredBy: 'li', registeredAt: T0 + 1 });
      });
      const sorted = (s: Store) => s.visitors.all().sort((p, q) => p.communityId.localeCompare(q.communityId));
      const want = [
        { communityId: 'c1', plate: '京A12345', until: T0 + 30, registeredBy: 'li', registeredAt: T0 + 1 },
        { communityId: 'c2', plate: '京A12345', until: T0 + 20, registeredBy: 'guard', registeredAt: T0 },
      ];
      expect(sorted(store)).toEqual(want);
      expect(sorted(await reopen())).toEqual(want);
    });

    // ── devices and residents ──────────────────────────────────────────────────────────────────────────

    test(['devices'], 'devices: insert, find, all; an id is taken once', async () => {
      const d = { id: 'm-101', kind: 'water-meter' as const, communityId: 'c1', format: 'canonical', householdId: 'h1', secretHash: 'scrypt$x' };
      store.transaction(() => store.devices.insert(d, T0));
      expect(store.devices.find('m-101')).toEqual(d);
      expect(store.devices.find('m-999')).toBeUndefined();
      expect(() => store.transaction(() => store.devices.insert({ ...d, kind: 'smoke-detector' as never }, T0))).toThrow();
      expect((await reopen()).devices.all()).toEqual([d]);
    });

    test(['photos', 'alerts'], 'photos: attach a pending upload, counts, sweep the stale ones', async () => {
      const a = store.transaction(() => store.alerts.insert(alert()));
      store.transaction(() => {
        store.photos.add({ photo: 'p1', householdId: 'h1', uploadedBy: 'res', role: 'report', width: 10, height: 10, bytes: 100, at: T0 });
        store.photos.add({ photo: 'p2', householdId: 'h1', uploadedBy: 'res', role: 'report', width: 10, height: 10, bytes: 100, at: T0 + 10 });
        store.photos.add({ photo: 'p3', uploadedBy: 'wang', alertId: a, role: 'resolution', width: 10, height: 10, bytes: 100, at: T0 });
      });
      expect(store.photos.pendingSince('h1', T0)).toBe(2);
      expect(store.photos.pendingSince('h1', T0 + 5)).toBe(1);
      expect(store.transaction(() => store.photos.attach('h1', 'p1', a))).toBe(true);
      expect(store.transaction(() => store.photos.attach('h1', 'p1', a))).toBe(false);
      expect(store.photos.rows('p1')).toEqual([{ photo: 'p1', householdId: 'h1', alertId: a, role: 'report' }]);
      expect(store.photos.countOn(a, 'report')).toBe(1);
      expect(store.photos.countOn(a, 'resolution')).toBe(1);
      await store.durable();
      expect(await store.photos.sweep(T0 + 20)).toEqual(['p2']);
      expect((await reopen()).photos.rows('p2')).toEqual([]);
    });

    test(['residentInvites'], 'resident invites: a generation moves on with each revocation', async () => {
      expect(store.residentInvites.generations()).toEqual(new Map());
      expect(store.transaction(() => store.residentInvites.revoke('h1', T0, 'wang'))).toBe(2);
      expect(store.transaction(() => store.residentInvites.revoke('h1', T0 + 1, 'wang'))).toBe(3);
      expect((await reopen()).residentInvites.generations()).toEqual(new Map([['h1', 3]]));
    });
  });
}
