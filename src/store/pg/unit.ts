// The PostgreSQL adapter's unit of work (src/store/store.ts "Sync and async"). A unit runs synchronously: each
// write changes the working set in memory at once (so the unit's own reads see it) and appends its SQL text;
// when the outermost `transaction(fn)` returns, the unit's statements go to the server as one multi-statement
// simple query — one round trip, which PostgreSQL runs as one implicit transaction (all or nothing; protocol
// §55.2.2.1). Units are sent in the order they returned over one connection, so they commit in that order.
// A nested unit is a savepoint in memory: if its `fn` throws, its writes are undone (memory through the undo
// log, SQL by dropping its statements) and the outer unit goes on. A write outside any unit is a unit of its
// own.
//
// If the server refuses a unit (a constraint the working set did not foresee, a lost connection), what memory
// says is no longer what is committed: `durable()` rejects, new units are refused with a transient error, and
// the working set is reloaded from the database before units are taken again.
import pg from 'pg';

/** `\u0000` in JSON text, not preceded by an escaped backslash. */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** A value for a jsonb column (any JSON value, a string included). */
export class Json {
  /** The JSON text (undefined for an undefined value, stored as NULL). */
  readonly text: string | undefined;
  constructor(value: unknown, text?: string) {
    this.text = text ?? JSON.stringify(value);
    // jsonb refuses \u0000 in a string; refuse it inside the unit rather than fail the commit.
    if (this.text !== undefined && NUL_ESCAPE.test(this.text)) throw new TypeError('a JSON value holds a NUL character, which PostgreSQL jsonb cannot store');
  }
}

/** A value as a SQL literal (the statements of a unit travel as text in one simple query). */
export function lit(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Json) return v.text === undefined ? 'NULL' : `${pg.escapeLiteral(v.text)}::jsonb`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') {
    // PostgreSQL text cannot hold NUL: refuse it here, inside the unit (a nested unit isolates it), never at commit.
    if (v.includes('\u0000')) throw new TypeError('a text value holds a NUL character, which PostgreSQL cannot store');
    return pg.escapeLiteral(v);
  }
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'::bytea`;
  return `${pg.escapeLiteral(JSON.stringify(v))}::jsonb`;
}

/** INSERT INTO table (keys) VALUES (literals). */
export function insert(table: string, row: Record<string, unknown>): string {
  const keys = Object.keys(row);
  return `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map((k) => lit(row[k])).join(', ')})`;
}

/** The store cannot take units now (a commit failed; the working set is being reloaded). Transient. */
export class StoreUnavailableError extends Error {
  readonly code = 'SB_STORE_UNAVAILABLE';
  /** The API answers 503 SB_UNAVAILABLE (src/errors.ts toAppError). */
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export class Unit {
  private depth = 0;
  private statements: string[] = [];
  private undos: Array<() => void> = [];
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private failure: { err: unknown; at: Promise<void> } | undefined;
  private broken: unknown;
  /** Units handed to the server so far, and how many of them (in order) have committed. */
  private sent = 0;
  private committedNo = 0;

  constructor(
    private readonly send: (sql: string) => Promise<void>,
    /** Reload the working set after a failed commit (units are refused until it resolves). */
    private readonly recover: () => Promise<void>,
    /** Told of each refused commit that starts a recovery (what the app holds above the store is stale now). */
    private readonly onFailure?: (err: unknown) => void,
  ) {}

  get inside(): boolean {
    return this.depth > 0;
  }

  /** The number the unit being built (or a write outside any) will have once sent. */
  get building(): number {
    return this.sent + 1;
  }

  /** Whether the unit with this number has committed. */
  isCommitted(no: number): boolean {
    return no <= this.committedNo;
  }

  /** Record a write's SQL (and, inside a unit, how to undo its change to memory). */
  write(sql: string, undo?: () => void): void {
    if (this.depth === 0) {
      this.ensureUsable();
      this.commit([sql]);
      return;
    }
    this.statements.push(sql);
    if (undo) this.undos.push(undo);
  }

  /** Undo a change to memory if the unit (or savepoint) it was made in is rolled back. */
  onUndo(undo: () => void): void {
    if (this.depth > 0) this.undos.push(undo);
  }

  run<T>(fn: () => T): T {
    if (this.depth === 0) this.ensureUsable();
    const mark = { statements: this.statements.length, undos: this.undos.length };
    this.depth++;
    let out: T;
    try {
      out = fn();
      // As better-sqlite3 refuses one: a unit's writes must all be made before it returns.
      if (out instanceof Promise) throw new TypeError('a unit of work cannot be async (its writes must be made before it returns)');
    } catch (err) {
      this.depth--;
      this.rollbackTo(mark);
      throw err;
    }
    this.depth--;
    if (this.depth === 0) {
      const statements = this.statements;
      this.statements = [];
      this.undos = [];
      this.commit(statements);
    }
    return out;
  }

  private rollbackTo(mark: { statements: number; undos: number }): void {
    for (let i = this.undos.length - 1; i >= mark.undos; i--) this.undos[i]();
    this.undos.length = mark.undos;
    this.statements.length = mark.statements;
  }

  private ensureUsable(): void {
    if (this.broken !== undefined) throw new StoreUnavailableError('the store is closed', { cause: this.broken });
    if (this.failure) throw new StoreUnavailableError('a commit failed; the working set is being reloaded', { cause: this.failure.err });
  }

  private commit(statements: string[]): void {
    if (statements.length === 0) return;
    const sql = statements.join(';\n');
    const no = ++this.sent;
    this.inFlight++;
    const done = this.tail.then(async () => {
      if (this.failure) throw new StoreUnavailableError('an earlier unit failed to commit', { cause: this.failure.err });
      try {
        await this.send(sql);
        this.committedNo = no;
      } catch (err) {
        if (!this.failure) {
          const at = this.recover().then(
            () => void (this.failure = undefined),
            (e) => void (this.broken = e),
          );
          this.failure = { err, at };
          this.onFailure?.(err);
        }
        throw err;
      }
    });
    done.then(
      () => this.inFlight--,
      () => this.inFlight--,
    );
    this.tail = done.catch(() => {});
    this.last = done;
  }
  private last: Promise<void> = Promise.resolve();

  /** Resolves once every unit that returned is committed; rejects if one of them failed. */
  durable(): Promise<void> | undefined {
    if (this.inFlight === 0 && !this.failure) return undefined;
    if (this.failure && this.inFlight === 0) return Promise.reject(this.failure.err);
    return this.last;
  }

  /** Settles when all sent units have (the queries wait for it, so they see the instance's own writes). */
  settled(): Promise<void> {
    return this.tail;
  }

  close(reason: unknown): void {
    this.broken = reason;
  }
}

/** A map in the working set whose changes a rolled-back unit undoes. Values are replaced, never mutated. */
export class MemMap<K, V> {
  readonly m = new Map<K, V>();
  constructor(private readonly unit: Unit) {}

  get(k: K): V | undefined {
    return this.m.get(k);
  }
  has(k: K): boolean {
    return this.m.has(k);
  }
  get size(): number {
    return this.m.size;
  }
  values(): IterableIterator<V> {
    return this.m.values();
  }
  entries(): IterableIterator<[K, V]> {
    return this.m.entries();
  }
  set(k: K, v: V): void {
    const had = this.m.has(k);
    const prev = this.m.get(k);
    this.m.set(k, v);
    this.unit.onUndo(() => (had ? this.m.set(k, prev as V) : this.m.delete(k)));
  }
  delete(k: K): boolean {
    if (!this.m.has(k)) return false;
    const prev = this.m.get(k) as V;
    this.m.delete(k);
    this.unit.onUndo(() => this.m.set(k, prev));
    return true;
  }
  /** Load without undo (at open or reload). */
  load(k: K, v: V): void {
    this.m.set(k, v);
  }
  clear(): void {
    this.m.clear();
  }
}
