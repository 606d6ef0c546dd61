// What the PostgreSQL repositories share: the unit of work, ids, and the pool for queries.
import type pg from 'pg';
import type { Unit } from './unit.js';

export interface PgContext {
  unit: Unit;
  /** A new id, at once, from the reserved block (src/store/pg/ids.ts). */
  id(): number;
  /** A query (async), after the instance's own units have committed, so it sees them. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** A maintenance statement run as a unit of its own after the instance's units: rows it touched. */
  exec(sql: string, params?: unknown[]): Promise<number>;
}

/** Something with a working-set copy to (re)load from the database. */
export interface Loadable {
  load(db: Pick<pg.Pool, 'query'>): Promise<void>;
}
