// Leases in PostgreSQL (issue 16): the SQL behind ownership by community (src/cluster/ownership.ts).
//
// A lease is a row: name (`community:<id>`, or `leader` for digests and retention), holder (an instance id,
// unique per process start), a fencing token and an expiry. Expiry is the database's clock (now()), never an
// instance's, so clock skew between machines does not matter. Every acquisition — of a free, released or
// expired lease, by anyone, even the previous holder — increases the token; a renewal keeps it and succeeds
// only while the lease is unexpired and still ours. A write done for a community checks its token in the same
// transaction (`fence`), taking a share lock on the lease row: a takeover (an UPDATE of that row) then waits
// for the write to commit, and a write by an owner that has been replaced is refused. So at most one instance's
// writes land for a community at any time, whatever the network or a paused process does.
//
// Why a table rather than advisory locks: a session advisory lock lives as long as one connection, so a
// partition or a hung machine keeps it until TCP keepalive gives up (minutes by default), it cannot be
// renewed over a new connection after a brief drop, it does not survive a transaction-mode pooler, and it
// carries no fencing token to refuse a stale owner's late writes. A row with an expiry bounds takeover by the
// TTL and gives the token for free.
import type pg from 'pg';

export interface LeaseRow {
  name: string;
  holder: string;
  token: number;
}

type Queryable = Pick<pg.Pool | pg.PoolClient | pg.Client, 'query'>;

/** Create the tables once per database; concurrent instances serialise on an advisory lock around the DDL. */
export async function migrateLeases(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('shaobing.migrate.leases'))`);
    await c.query(`CREATE TABLE IF NOT EXISTS shaobing_leases (
      name text PRIMARY KEY,
      holder text NOT NULL,
      token bigint NOT NULL,
      expires_at timestamptz NOT NULL,
      acquired_at timestamptz NOT NULL
    )`);
    await c.query(`CREATE TABLE IF NOT EXISTS shaobing_members (
      id text PRIMARY KEY,
      expires_at timestamptz NOT NULL
    )`);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Announce this instance alive for ttl; answers how many instances are alive (this one included). */
export async function heartbeat(db: Queryable, id: string, ttlMs: number): Promise<number> {
  const { rows } = await db.query<{ live: string }>(
    `WITH me AS (
       INSERT INTO shaobing_members (id, expires_at) VALUES ($1, now() + make_interval(secs => $2))
       ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at
     )
     SELECT 1 + count(*) AS live FROM shaobing_members WHERE expires_at > now() AND id <> $1`,
    [id, ttlMs / 1000],
  );
  return Number(rows[0].live);
}

/** Renew the given leases we hold and have not let expire; answers those still ours. */
export async function renew(db: Queryable, holder: string, names: string[], ttlMs: number): Promise<LeaseRow[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ name: string; holder: string; token: string }>(
    `UPDATE shaobing_leases SET expires_at = now() + make_interval(secs => $3)
      WHERE holder = $1 AND name = ANY($2) AND expires_at > now()
      RETURNING name, holder, token`,
    [holder, names, ttlMs / 1000],
  );
  return rows.map((r) => ({ name: r.name, holder: r.holder, token: Number(r.token) }));
}

/** Try to take these leases (each only if free or expired), the token increased; answers those taken. */
export async function acquire(db: Queryable, holder: string, names: string[], ttlMs: number): Promise<LeaseRow[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ name: string; holder: string; token: string }>(
    `INSERT INTO shaobing_leases AS l (name, holder, token, expires_at, acquired_at)
       SELECT n, $1, 1, now() + make_interval(secs => $3), now() FROM unnest($2::text[]) AS n
     ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder, token = l.token + 1, expires_at = EXCLUDED.expires_at, acquired_at = now()
       WHERE l.expires_at <= now()
     RETURNING name, holder, token`,
    [holder, names, ttlMs / 1000],
  );
  return rows.map((r) => ({ name: r.name, holder: r.holder, token: Number(r.token) }));
}

/** Of these names, those nobody holds now (no row, released, or expired). */
export async function free(db: Queryable, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ n: string }>(
    `SELECT n FROM unnest($1::text[]) AS n
      WHERE NOT EXISTS (SELECT 1 FROM shaobing_leases WHERE name = n AND expires_at > now())`,
    [names],
  );
  return rows.map((r) => r.n);
}

/** Give leases up at once (a clean stop, or a handover when the cluster grows). */
export async function release(db: Queryable, holder: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await db.query(`UPDATE shaobing_leases SET expires_at = now() WHERE holder = $1 AND name = ANY($2) AND expires_at > now()`, [holder, names]);
}

export async function leave(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM shaobing_members WHERE id = $1`, [id]);
}

/**
 * Inside a write transaction for a lease's subject: true while (holder, token) still holds it, and the lease
 * row is share-locked until the transaction ends, so no takeover commits in between.
 */
export async function fence(tx: Queryable, name: string, holder: string, token: number): Promise<boolean> {
  const { rowCount } = await tx.query(
    `SELECT 1 FROM shaobing_leases WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now() FOR SHARE`,
    [name, holder, token],
  );
  return rowCount === 1;
}

/** Every lease, for tests and the status page. */
export async function leases(db: Queryable): Promise<Array<LeaseRow & { live: boolean }>> {
  const { rows } = await db.query<{ name: string; holder: string; token: string; live: boolean }>(
    `SELECT name, holder, token, expires_at > now() AS live FROM shaobing_leases ORDER BY name`,
  );
  return rows.map((r) => ({ name: r.name, holder: r.holder, token: Number(r.token), live: r.live }));
}
