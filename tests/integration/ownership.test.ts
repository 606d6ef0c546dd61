// Ownership by community through leases in a real PostgreSQL 15 (src/cluster/ownership.ts, src/store/pgLeases.ts):
// instances share the communities fairly, a newcomer gets its share, the owner that dies without a word is
// replaced within the bound, never two owners at once, fencing tokens only grow, a stale owner's write is
// refused, and when the database goes away every instance stops believing it owns anything.
// Short leases (1.5 s, renewed every 0.3 s) keep the file fast; the defaults are 10 s and 2 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Postgres, requirePostgres } from '../postgres.js';
import { Ownership, LEADER, communityLease } from '../../src/cluster/ownership.js';
import * as sql from '../../src/store/pgLeases.js';

const TTL = 1500;
const RENEW = 300;
const COMMUNITIES = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
/** Takeover bound for these settings: the lease expires (ttl), then a survivor's next round (renew), plus slack. */
const BOUND = TTL + RENEW + 1500;

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.runIf(requirePostgres('ownership by community'))('ownership by community (PostgreSQL leases)', () => {
  let server: Postgres;
  let url: string;
  const pools: pg.Pool[] = [];
  const instances: Ownership[] = [];
  /** Every 10 ms: a community owned by two instances at once would be recorded here. */
  const overlaps: string[] = [];
  let sampler: NodeJS.Timeout;

  function pool(): pg.Pool {
    const p = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 1000 });
    p.on('error', () => {}); // idle clients die with the server in the outage test; the pool makes new ones
    pools.push(p);
    return p;
  }

  async function instance(name: string): Promise<Ownership> {
    const o = new Ownership({ pool: pool(), communities: COMMUNITIES, instanceId: name, ttlMs: TTL, renewMs: RENEW });
    instances.push(o);
    await o.start();
    return o;
  }

  const alive = () => instances.filter((o) => !(o as unknown as { stopped: boolean }).stopped);
  const ownerOf = (c: string) => alive().filter((o) => o.owns(c));
  const settled = (group: Ownership[], share: number) =>
    COMMUNITIES.every((c) => group.filter((o) => o.owns(c)).length === 1) && group.every((o) => o.owned().length <= share) && group.filter((o) => o.leader).length === 1;

  beforeAll(async () => {
    server = await Postgres.start();
    url = await server.createDatabase('leases');
    sampler = setInterval(() => {
      for (const c of COMMUNITIES) {
        const owners = instances.filter((o) => o.owns(c));
        if (owners.length > 1) overlaps.push(`${c}: ${owners.map((o) => o.id).join(', ')}`);
      }
      if (instances.filter((o) => o.leader).length > 1) overlaps.push('leader');
    }, 10);
  });

  afterAll(async () => {
    clearInterval(sampler);
    for (const o of instances) o.halt();
    for (const p of pools) await p.end().catch(() => {});
    await server?.close();
  });

  it('shares the communities between two instances, and a third joining gets its share from them', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await until('two instances to share six communities', () => settled([a, b], 3));
    expect(a.owned().length + b.owned().length).toBe(6);

    const c = await instance('c');
    await until('the newcomer to get its share', () => settled([a, b, c], 2) && c.owned().length === 2);
    expect([a, b, c].map((o) => o.owned().length)).toEqual([2, 2, 2]);
    expect(overlaps).toEqual([]);
  });

  it('replaces an owner that dies without a word within the bound, with higher fencing tokens, never two at once', async () => {
    const group = alive();
    // Kill the leader: its communities and the leader lease must both move.
    const victim = group.find((o) => o.leader)!;
    const before = new Map((await sql.leases(pools[0])).map((l) => [l.name, l]));
    const orphaned = victim.owned();
    expect(orphaned.length).toBeGreaterThan(0);
    const t0 = performance.now();
    victim.halt();
    await pools[instances.indexOf(victim)].end(); // its connections close, as when the process dies

    const survivors = group.filter((o) => o !== victim);
    await until('the survivors to own every community and the leader lease', () => settled(survivors, 3), BOUND + 5000);
    const takeover = performance.now() - t0;
    console.log(`[ownership] takeover after the owner died: ${Math.round(takeover)} ms (ttl ${TTL} ms, renew ${RENEW} ms)`);
    expect(takeover).toBeLessThan(BOUND);

    const after = new Map((await sql.leases(pools[instances.indexOf(survivors[0])])).map((l) => [l.name, l]));
    for (const c of orphaned) {
      const name = communityLease(c);
      expect(after.get(name)!.holder).not.toBe(victim.id);
      expect(after.get(name)!.token).toBeGreaterThan(before.get(name)!.token);
    }
    expect(after.get(LEADER)!.token).toBeGreaterThan(before.get(LEADER)!.token);
    // The dead owner's fencing token no longer lets a write through; the new owner's does.
    const db = pools[instances.indexOf(survivors[0])];
    const name = communityLease(orphaned[0]);
    expect(await sql.fence(db, name, victim.id, before.get(name)!.token)).toBe(false);
    const heir = survivors.find((o) => o.owns(orphaned[0]))!;
    expect(await sql.fence(db, name, heir.id, heir.token(name)!)).toBe(true);
    expect(overlaps).toEqual([]);
  });

  it('holds a takeover back while a fenced write is open, so the write lands before the next owner starts', async () => {
    const owner = alive()[0];
    const community = owner.owned()[0];
    const name = communityLease(community);
    const noticed = new Promise<string>((resolve) => owner.on('lost', (n, why) => n === name && resolve(why)));
    const writer = await pools[instances.indexOf(owner)].connect();
    const other = await pools[instances.indexOf(alive()[1])].connect();
    try {
      await writer.query('BEGIN');
      expect(await sql.fence(writer, name, owner.id, owner.token(name)!)).toBe(true);
      // Someone forces the lease free (as an expiry followed by a takeover would change the row): it must wait.
      let done = false;
      const forced = other.query(`UPDATE shaobing_leases SET expires_at = now() WHERE name = $1`, [name]).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      await writer.query('COMMIT');
      await forced;
      expect(done).toBe(true);
    } finally {
      writer.release();
      other.release();
    }
    // The owner sees the lease gone on its next round, someone takes it (token up), and nobody holds it twice.
    await noticed;
    await until('the forced-free lease to be owned again', () => settled(alive(), 3), BOUND + 5000);
    expect(overlaps).toEqual([]);
  });

  it('stops believing in every lease when the database is away, and takes them back with new tokens after', async () => {
    const group = alive();
    await until('a settled cluster', () => settled(group, 3), BOUND);
    const before = new Map((await sql.leases(pools[instances.indexOf(group[0])])).map((l) => [l.name, l.token]));
    const held = group.flatMap((o) => [...o.owned().map((c) => `${o.id}:${communityLease(c)}`), ...(o.leader ? [`${o.id}:${LEADER}`] : [])]);
    expect(held.length).toBe(COMMUNITIES.length + 1);
    const lost: string[] = [];
    for (const o of group) o.on('lost', (n, why) => lost.push(`${o.id}:${n}:${why}`));
    await server.stop('SIGQUIT');
    const t0 = performance.now();
    try {
      await until('every instance to give up its leases', () => group.every((o) => o.owned().length === 0 && !o.leader), TTL + 2000);
      // Noticed before the database could hand the leases to anyone (slack for a busy test machine's polling).
      expect(performance.now() - t0).toBeLessThan(TTL + 500);
      expect(lost.sort()).toEqual(held.map((h) => `${h}:expired`).sort());
    } finally {
      await server.start();
    }
    await until('the leases to be taken again', () => settled(group, 3), 15_000);
    const after = new Map((await sql.leases(pools[instances.indexOf(group[0])])).map((l) => [l.name, l.token]));
    for (const [name, token] of before) expect(after.get(name)!).toBeGreaterThan(token);
    expect(overlaps).toEqual([]);
  });

  it('gives everything up at once on a clean stop', async () => {
    const [a, b] = alive();
    await a.stop();
    // Released in the database at once, not left to expire.
    const rows = await sql.leases(pools[instances.indexOf(b)]);
    expect(rows.filter((l) => l.holder === a.id && l.live)).toEqual([]);
    await until('the other to own everything', () => settled([b], 6), 5000);
    expect(overlaps).toEqual([]);
  });
});
