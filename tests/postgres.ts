// A real PostgreSQL 15 (Debian's `postgresql-15`) for the cluster tests: initdb into a temp dir (about half a
// second), the server on a free loopback port with its unix socket in the same dir, trust authentication for
// the `postgres` role on loopback only. As root (CI here) it runs as the `postgres` system user, since
// PostgreSQL refuses to run as root. fsync is off (a throwaway cluster: a committed row still survives the
// server's crash, only not the machine's power cut); synchronous_commit stays on, so a commit our code saw is
// in the WAL even when the test kills the server right after it.
// Share one cluster per test file; `createDatabase` gives each test its own database.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './victoria-metrics.js';
import { handOver, requireServer, serviceUser } from './serviceUser.js';

export const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
export const havePostgres = () => existsSync(join(PG_BIN_DIR, 'postgres')) && existsSync(join(PG_BIN_DIR, 'initdb'));

export function requirePostgres(what: string): boolean {
  return requireServer(havePostgres(), `${PG_BIN_DIR}/postgres not found: ${what} needs Debian's PostgreSQL 15 (apt-get install postgresql-15)`);
}

let dbSeq = 0;

export class Postgres {
  private proc: ChildProcess | null = null;
  private stderr = '';
  private readonly user = serviceUser('postgres');

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** Connection string for a database (default: the `postgres` maintenance database). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get log(): string {
    return this.stderr;
  }

  static async start(): Promise<Postgres> {
    const dir = mkdtempSync(join(tmpdir(), 'shaobing-pg-'));
    const p = new Postgres(dir, await freePort());
    handOver(dir, p.user);
    execFileSync(join(PG_BIN_DIR, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(p.user ?? {}),
    });
    await p.start();
    return p;
  }

  async start(): Promise<void> {
    this.stderr = '';
    const proc = spawn(
      join(PG_BIN_DIR, 'postgres'),
      [
        '-D', join(this.dir, 'data'),
        '-p', String(this.port),
        '-h', '127.0.0.1',
        '-k', this.dir,
        '-c', 'fsync=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=100',
        '-c', 'shared_buffers=32MB',
        '-c', 'log_min_messages=warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(this.user ?? {}) },
    );
    this.proc = proc;
    proc.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    const end = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}: ${this.stderr}`);
      const c = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        await c.end();
        return;
      } catch {
        await c.end().catch(() => {});
      }
      if (Date.now() > end) throw new Error(`postgres not ready on ${this.port}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A fresh, empty database; answers its connection string. */
  async createDatabase(prefix = 'test'): Promise<string> {
    const name = `${prefix}_${process.pid}_${++dbSeq}`;
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  /**
   * SIGINT: fast shutdown (sessions are disconnected, the server exits cleanly); SIGQUIT: immediate (like a
   * crash, recovery on the next start).
   */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
