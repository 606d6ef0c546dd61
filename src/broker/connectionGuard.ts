// What one MQTT connection may make the broker hold in memory (issue 11, "bounded before authentication").
//
// aedes reads a connection with `conn.read(null)` whenever it is readable and hands everything to its
// mqtt-packet parser, which keeps buffering until the packet it is in is whole — however large that packet
// claims to be, and whether or not the client has authenticated. A client that sent `30 80 80 80 60` (a
// PUBLISH claiming 201 MB) and then 64 MiB without ever sending CONNECT kept its socket for the 30 s connect
// timeout while the parser grew by 60 MB that never came back. The guard sits between the connection and
// aedes (it wraps the connection's read()):
//
// - Before the client is connected (authenticated and CONNACKed), at most PRE_AUTH_BYTES reach the parser.
//   The first packet must be a CONNECT ("After a Network Connection is established by a Client to a Server,
//   the first Packet sent from the Client to the Server MUST be a CONNECT Packet", MQTT 3.1.1 §3.1,
//   [MQTT-3.1.0-1]) whose declared size fits in that budget; anything else closes the connection at once.
//   Bytes a client sends after its CONNECT and before its CONNACK (allowed, §3.1.4) wait in the socket — the
//   kernel and TCP flow control hold them, not us — until it is connected.
// - After that, a packet whose declared length passes `maxPacketBytes` is refused by the parser as soon as
//   its fixed header is read (mqtt-packet's parser has no such limit of its own), and the connection closed.
//
// Fair reads (issue 11, the alarm fast lane). Left alone, libuv reads a readable socket up to 32 times in one
// readiness event, and aedes parses and authorises each read whole, at once: during a flood one event-loop
// turn took 6 s and ~300,000 messages from ~450 reads of 64 KiB, and a smoke alarm on another socket waited
// behind all of them. So the parsers get at most `turnBytes` in one turn of the event loop, all connections
// together, and one connection at most `socketBytes` of them. A connection that leaves bytes behind is
// backlogged: the bytes wait in its stream (which then stops reading the socket: TCP flow control holds the
// rest at the sender), and backlogged connections take turns, round robin, in what later turns leave. A
// connection that is not backlogged — a device that sends now and then, like a smoke detector with an alarm —
// is read as soon as it is readable, ahead of the backlog, up to its own share — or, once the turn's budget is
// spent, up to QUIET_BYTES (many quiet connections readable together must not make one turn parse them all).
import type { Duplex } from 'node:stream';

/** Bytes handed to the parser before a connection has authenticated: a CONNECT of a device (client id,
 *  username, a secret) is a few hundred bytes; a will or MQTT 5 properties still fit. */
export const PRE_AUTH_BYTES = 8 * 1024;

const CONNECT = 0x10;

/** What a connection that is not backlogged is still handed once the turn's budget is spent. */
export const QUIET_BYTES = 2048;

/** The parts of an aedes Client the guard looks at (aedes sets `conn.client` when it takes a connection). */
interface GuardedClient {
  connected: boolean;
  _parser: { packet: { length: number }; _parseLength(): boolean; _emitError(err: Error): void };
}

type Conn = Duplex & { client?: GuardedClient };

export interface GuardOptions {
  /** Largest MQTT packet (fixed header excluded) an authenticated client may send. */
  maxPacketBytes: number;
  /** Bytes handed to the parsers in one event-loop turn by backlogged connections together; 0: no limit. */
  turnBytes: number;
  /** Bytes one connection is handed in one turn. */
  socketBytes: number;
  /** A connection closed by the guard, and why (metrics, log). */
  onRefused(conn: Duplex, reason: 'not_connect' | 'connect_too_large' | 'packet_too_large'): void;
}

interface State {
  /** Bytes handed to the parser before the client was connected. */
  preAuth: number;
  /** The first bytes of the connection, until the CONNECT's fixed header has been checked. */
  head: Buffer | null;
  /** The turn `used` counts for, and the bytes handed over in it. */
  turn: number;
  used: number;
  /** Bytes were left behind: this connection waits its turn in the round robin. */
  backlogged: boolean;
}

export class ConnectionGuard {
  private readonly held = new Set<Conn>();
  /** Backlogged connections in the order they are served (a Set keeps insertion order). */
  private waiting = new Set<Conn>();
  private turn = 0;
  private turnUsed = 0;
  private turnEnds = false;
  private readonly states = new WeakMap<Conn, State>();
  /** How many turns were cut short, and the most bytes handed to the parsers in one turn (benchmarks, tests). */
  deferrals = 0;
  maxTurnBytes = 0;

  constructor(private readonly opts: GuardOptions) {}

  /** Call right after `aedes.handle(conn)` (which sets `conn.client`). */
  attach(conn: Duplex): void {
    const c = conn as Conn;
    const client = c.client;
    if (!client) return;
    const state: State = { preAuth: 0, head: Buffer.alloc(0), turn: -1, used: 0, backlogged: false };
    this.states.set(c, state);
    const read = conn.read.bind(conn);
    const guard = this;
    const fair = this.opts.turnBytes > 0;
    conn.read = function guardedRead(size?: number) {
      if (size !== undefined && size !== null) return read(size);
      if (!client.connected) return guard.preAuthRead(c, state, read);
      return fair ? guard.fairRead(c, state, read) : read();
    } as typeof conn.read;
    // Refuse an oversize packet as soon as its fixed header says how long it is.
    const parser = client._parser;
    const parseLength = parser._parseLength;
    const max = this.opts.maxPacketBytes;
    parser._parseLength = function guardedParseLength(this: GuardedClient['_parser']) {
      const ok = parseLength.call(this);
      if (ok && this.packet.length > max) {
        guard.opts.onRefused(conn, 'packet_too_large');
        this._emitError(new Error(`packet of ${this.packet.length} bytes is larger than the limit of ${max}`));
        return false;
      }
      return ok;
    };
    conn.once('close', () => {
      this.held.delete(c);
      this.waiting.delete(c);
    });
  }

  /** A connected client's read: its share of this turn, the backlog's share only of what the turn has left. */
  private fairRead(conn: Conn, state: State, read: (size?: number) => Buffer | null): Buffer | null {
    const avail = conn.readableLength;
    if (avail === 0) {
      state.backlogged = false;
      return read();
    }
    this.endTurnSoon();
    if (state.turn !== this.turn) {
      state.turn = this.turn;
      state.used = 0;
    }
    let allowance = this.opts.socketBytes - state.used;
    const left = this.opts.turnBytes - this.turnUsed;
    if (state.backlogged) allowance = Math.min(allowance, left);
    // A quiet connection is read at once, but once the turn's budget is spent only up to QUIET_BYTES: enough
    // for an alarm (a few hundred bytes). Paced bulk leaves each connection little to read, so none is
    // backlogged, and after the process has waited for a core all of them are readable together: read whole,
    // 100 connections made one turn parse 1.6 MB (a 2 s stall at half load on a busy machine).
    else allowance = Math.min(allowance, Math.max(left, QUIET_BYTES));
    if (allowance <= 0) {
      this.wait(conn, state);
      return null;
    }
    const take = Math.min(avail, allowance);
    const chunk = read(take);
    if (!chunk) return null;
    state.used += chunk.length;
    this.turnUsed += chunk.length;
    if (take < avail) this.wait(conn, state);
    else state.backlogged = false;
    return chunk;
  }

  private wait(conn: Conn, state: State): void {
    state.backlogged = true;
    if (!this.waiting.has(conn)) this.waiting.add(conn);
    this.endTurnSoon();
  }

  /** The turn ends in this loop iteration's check phase (setImmediate), after the poll phase's reads. */
  private endTurnSoon(): void {
    if (this.turnEnds) return;
    this.turnEnds = true;
    setImmediate(() => this.endTurn());
  }

  /** A new turn: serve backlogged connections in order while its budget lasts; the rest keep their place. */
  private endTurn(): void {
    this.turnEnds = false;
    this.turn++;
    this.maxTurnBytes = Math.max(this.maxTurnBytes, this.turnUsed);
    this.turnUsed = 0;
    if (!this.waiting.size) return;
    const list = [...this.waiting];
    this.waiting = new Set();
    let i = 0;
    for (; i < list.length && this.turnUsed < this.opts.turnBytes; i++) {
      const conn = list[i];
      if (conn.destroyed) continue;
      // aedes reads on 'readable'; the stream does not say it again for bytes it already holds.
      conn.emit('readable');
    }
    if (i < list.length) {
      this.deferrals++;
      // Not served this turn: first in line next turn, ahead of those served now.
      this.waiting = new Set([...list.slice(i), ...this.waiting]);
      this.endTurnSoon();
    }
  }

  /** The client is connected (aedes `clientReady`): hand it what it sent meanwhile. */
  connected(conn: Duplex | undefined): void {
    if (!conn || !this.held.delete(conn as Conn)) return;
    // aedes reads on 'readable'; the stream will not say it again for bytes it already holds.
    conn.emit('readable');
  }

  private preAuthRead(conn: Conn, state: State, read: (size?: number) => Buffer | null): Buffer | null {
    const avail = conn.readableLength;
    if (avail === 0) return read(); // nothing buffered: let the stream fetch more (or report its end)
    const budget = PRE_AUTH_BYTES - state.preAuth;
    if (budget <= 0) {
      this.held.add(conn);
      return null;
    }
    const chunk = read(Math.min(avail, budget));
    if (!chunk) return null;
    state.preAuth += chunk.length;
    if (state.head) {
      state.head = Buffer.concat([state.head, chunk.subarray(0, 5)]);
      const verdict = checkConnectHeader(state.head);
      if (verdict === 'not_connect' || (typeof verdict === 'number' && verdict > PRE_AUTH_BYTES)) {
        this.opts.onRefused(conn, verdict === 'not_connect' ? 'not_connect' : 'connect_too_large');
        conn.destroy();
        return null;
      }
      if (typeof verdict === 'number') state.head = null;
    }
    return chunk;
  }
}

/**
 * The first bytes of a connection: 'not_connect' if they cannot start a CONNECT packet, the packet's whole
 * size once the remaining-length field is complete (MQTT 3.1.1 §2.2.3, 1–4 bytes of 7 bits each), or
 * 'more' while it is not.
 */
export function checkConnectHeader(head: Buffer): 'not_connect' | 'more' | number {
  if (head.length === 0) return 'more';
  if (head[0] !== CONNECT) return 'not_connect';
  let value = 0;
  for (let i = 1; i < Math.min(head.length, 5); i++) {
    value += (head[i] & 0x7f) * 2 ** (7 * (i - 1));
    if ((head[i] & 0x80) === 0) return 1 + i + value;
  }
  return head.length >= 5 ? 'not_connect' : 'more';
}
