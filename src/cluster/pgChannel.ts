// A PostgreSQL LISTEN/NOTIFY channel between the instances of a cluster (issue 16): what one instance learns
// and another must act on — a device's connect or disconnect reported by EMQX to any instance, for the instance
// that owns the device's community. NOTIFY is delivered to every listening session once the sending
// transaction commits, in commit order; nothing is kept for a listener that is not connected at that moment, so
// a channel carries only what may be lost with a dead instance (connection state is corrected by the device's
// next connect or message). One dedicated connection listens; it is re-opened after a loss.
import pg from 'pg';
import type { Logger } from 'pino';

/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7900;

export class PgChannel<T> {
  private client?: pg.Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly opts: { connectionString: string; pool: pg.Pool; channel: string; log: Logger; onMessage: (msg: T) => void; retryMs?: number },
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel)) throw new Error(`pg channel name '${opts.channel}' must be a plain identifier`);
  }

  async start(): Promise<void> {
    const { connectionString, channel, log } = this.opts;
    const c = new pg.Client({ connectionString });
    c.on('notification', (n) => {
      if (n.channel !== channel || !n.payload) return;
      let msg: T;
      try {
        msg = JSON.parse(n.payload) as T;
      } catch {
        return void log.warn({ channel }, 'pg channel: a message that is not JSON ignored');
      }
      this.opts.onMessage(msg);
    });
    c.on('error', (err) => {
      log.warn({ err: err.message, channel }, 'pg channel: listening connection lost; re-opening');
      this.client = undefined;
      c.end().catch(() => {});
      this.again();
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    this.client = c;
  }

  private again(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start().catch((err) => {
        this.opts.log.warn({ err: (err as Error).message, channel: this.opts.channel }, 'pg channel: could not listen; trying again');
        this.again();
      });
    }, this.opts.retryMs ?? 1000);
    this.retry.unref();
  }

  /** Send to every listening instance, this one included. */
  async send(msg: T): Promise<void> {
    const payload = JSON.stringify(msg);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) throw new Error(`pg channel message of ${Buffer.byteLength(payload)} bytes is too large`);
    await this.opts.pool.query('SELECT pg_notify($1, $2)', [this.opts.channel, payload]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
