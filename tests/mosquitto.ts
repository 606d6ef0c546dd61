// A real mosquitto 2 (Debian's `mosquitto`: MQTT 5, shared subscriptions) for the external-broker tests, started
// like tests/victoria-metrics.ts starts victoria-metrics: a free port on loopback, a generated config in a temp
// dir, a password file (PBKDF2-SHA512, the `$7$` format mosquitto_passwd writes) and an ACL file. `setUsers`
// rewrites both and sends SIGHUP, which is how mosquitto reloads them while it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { freePort } from './victoria-metrics.js';
import { handOver, requireServer, serviceUser } from './serviceUser.js';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
export const haveMosquitto = () => existsSync(MOSQUITTO_BIN);

export function requireMosquitto(what: string): boolean {
  return requireServer(haveMosquitto(), `${MOSQUITTO_BIN} not found: ${what} needs Debian's mosquitto 2 (apt-get install mosquitto)`);
}

export interface MosquittoUser {
  username: string;
  password: string;
  /** ACL lines for this user: read (deliver to it / subscribe), write (publish), readwrite, deny. */
  acl: Array<{ access: 'read' | 'write' | 'readwrite' | 'deny'; topic: string }>;
}

export interface MosquittoOptions {
  users: MosquittoUser[];
  /** Keep sessions and queued messages on disk across a restart (persistence_location in the temp dir). */
  persistence?: boolean;
  /** More mosquitto.conf lines. */
  extra?: string[];
}

/** One line of mosquitto's password file, as `mosquitto_passwd` writes it (PBKDF2-SHA512, 101 rounds). */
export function passwordLine(username: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${username}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function aclText(users: MosquittoUser[]): string {
  return users.map((u) => [`user ${u.username}`, ...u.acl.map((a) => `topic ${a.access} ${a.topic}`), ''].join('\n')).join('\n');
}

export class Mosquitto {
  private proc: ChildProcess | null = null;
  private stderr = '';
  private readonly user = serviceUser('mosquitto');

  private constructor(
    readonly dir: string,
    readonly port: number,
    private opts: MosquittoOptions,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The last lines mosquitto logged (for failure messages). */
  get log(): string {
    return this.stderr;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  static async start(opts: MosquittoOptions): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'shaobing-mosquitto-'));
    const m = new Mosquitto(dir, await freePort(), opts);
    await m.start();
    return m;
  }

  private writeFiles(): void {
    writeFileSync(join(this.dir, 'passwd'), this.opts.users.map((u) => passwordLine(u.username, u.password)).join('\n') + '\n', { mode: 0o600 });
    writeFileSync(join(this.dir, 'acl'), aclText(this.opts.users), { mode: 0o600 });
    writeFileSync(
      join(this.dir, 'mosquitto.conf'),
      [
        'per_listener_settings false',
        'allow_anonymous false',
        `password_file ${join(this.dir, 'passwd')}`,
        `acl_file ${join(this.dir, 'acl')}`,
        `listener ${this.port} 127.0.0.1`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        // Queue for a disconnected persistent session as much as a test sends (the default is 1000).
        'max_queued_messages 100000',
        ...(this.opts.persistence ? ['persistence true', `persistence_location ${this.dir}/`, 'autosave_interval 1'] : ['persistence false']),
        ...(this.opts.extra ?? []),
        '',
      ].join('\n'),
    );
    handOver(this.dir, this.user);
  }

  async start(): Promise<void> {
    this.writeFiles();
    this.stderr = '';
    const proc = spawn(MOSQUITTO_BIN, ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(this.user ?? {}),
    });
    this.proc = proc;
    proc.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    const end = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${this.stderr}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > end) throw new Error(`mosquitto not listening on ${this.port}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Replace the users (passwords and ACL) and have the running broker reload them (SIGHUP). */
  async setUsers(users: MosquittoUser[]): Promise<void> {
    this.opts = { ...this.opts, users };
    this.writeFiles();
    this.proc?.kill('SIGHUP');
    // SIGHUP is handled on mosquitto's next loop turn; give it that turn.
    await new Promise((r) => setTimeout(r, 200));
  }

  /** SIGTERM by default (a clean shutdown that saves persistence); SIGKILL to lose what was not saved. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  /** Stop and remove the temp dir. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
