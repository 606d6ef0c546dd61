// Since issue 11 the InfluxDB sink queues its points in the store (telemetry_queue, written with the reading);
// this file spool is only read at start, to move points an earlier version spooled into that queue.
//
// A bounded first-in-first-out queue of line protocol on disk, for while the telemetry server is away.
//
// Segments `<n>.lp` are append-only files of whole lines, written asynchronously; `cursor.json` records the
// first line not yet written to the server (segment and byte offset), replaced atomically (write + rename).
// Reading never passes the end of the last completed append, so appends and reads can interleave. A segment
// is deleted once the cursor has passed it. Bounded by `maxBytes` of segment files: an append that would pass
// it takes only the lines that fit (the caller counts the rest as dropped), so the newest points are lost.
//
// Not fsynced: a crashed process loses nothing it wrote (the page cache survives it); a power cut may lose
// the last seconds, as SQLite's `synchronous = normal` would. The cursor is written after the server has
// taken a batch, so a crash between the two sends that batch again, which InfluxDB takes as an overwrite of
// the same points (same measurement, tag set and time), not as new points.
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolPosition {
  segment: number;
  offset: number;
}

const SEGMENT_RE = /^(\d{12})\.lp$/;
const name = (n: number) => `${String(n).padStart(12, '0')}.lp`;
/** Most bytes read for one batch; a line is at most one MQTT payload (≤ 1 MiB) plus its tags. */
const READ_MAX = 8 * 1024 * 1024;

export class Spool {
  /** Segment number → bytes of completed appends. */
  private readonly sizes = new Map<number, number>();
  private cursor: SpoolPosition = { segment: 1, offset: 0 };
  private active: { segment: number; handle: FileHandle } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private nextSegment = 1;
  private readonly segmentBytes: number;

  constructor(private readonly opts: { dir: string; maxBytes: number; segmentBytes?: number }) {
    this.segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(opts.maxBytes / 8)));
  }

  async open(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const segments = (await readdir(this.opts.dir))
      .map((f) => SEGMENT_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    try {
      const c = JSON.parse(await readFile(join(this.opts.dir, 'cursor.json'), 'utf8')) as SpoolPosition;
      if (Number.isInteger(c.segment) && Number.isInteger(c.offset)) this.cursor = c;
    } catch {
      this.cursor = { segment: segments[0] ?? 1, offset: 0 };
    }
    for (const n of segments) {
      const path = join(this.opts.dir, name(n));
      if (n < this.cursor.segment) {
        await rm(path, { force: true }); // fully sent before the last stop
        continue;
      }
      let size = (await stat(path)).size;
      if (n === segments[segments.length - 1]) size = await this.dropPartialLine(path, size);
      this.sizes.set(n, size);
    }
    if (!this.sizes.has(this.cursor.segment)) this.cursor = { segment: this.firstSegment() ?? this.cursor.segment, offset: 0 };
    // A cursor past the end (its segment was cut back to a whole line) means everything in it was sent.
    this.cursor.offset = Math.min(this.cursor.offset, this.sizes.get(this.cursor.segment) ?? 0);
    this.nextSegment = Math.max(this.lastSegment(), this.cursor.segment) + 1;
  }

  /** A crash in the middle of an append can leave half a line at the end of the last segment. */
  private async dropPartialLine(path: string, size: number): Promise<number> {
    if (size === 0) return 0;
    const data = await readFile(path);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end !== size) await truncate(path, end);
    return end;
  }

  private firstSegment(): number | undefined {
    let first: number | undefined;
    for (const n of this.sizes.keys()) if (first === undefined || n < first) first = n;
    return first;
  }

  private lastSegment(): number {
    let last = 0;
    for (const n of this.sizes.keys()) last = Math.max(last, n);
    return last;
  }

  /** Bytes on disk, including the already-sent head of the first segment. */
  get fileBytes(): number {
    let total = 0;
    for (const s of this.sizes.values()) total += s;
    return total;
  }

  /** Bytes of lines not yet sent. */
  get pendingBytes(): number {
    return this.fileBytes - (this.sizes.has(this.cursor.segment) ? this.cursor.offset : 0);
  }

  get empty(): boolean {
    return this.pendingBytes === 0;
  }

  /**
   * Append lines after everything already spooled, as many from the front as fit under maxBytes; resolves to
   * how many were taken (the rest are the caller's to count as dropped).
   */
  append(lines: readonly string[]): Promise<number> {
    const run = async () => {
      let room = this.opts.maxBytes - this.fileBytes;
      let taken = 0;
      for (; taken < lines.length; taken++) {
        const size = Buffer.byteLength(lines[taken], 'utf8') + 1;
        if (size > room) break;
        room -= size;
      }
      if (!taken) return 0;
      const data = Buffer.from(lines.slice(0, taken).join('\n') + '\n', 'utf8');
      if (!this.active || (this.sizes.get(this.active.segment) ?? 0) >= this.segmentBytes) await this.rotate();
      const { segment, handle } = this.active!;
      await handle.write(data);
      this.sizes.set(segment, (this.sizes.get(segment) ?? 0) + data.length);
      return taken;
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async rotate(): Promise<void> {
    await this.active?.handle.close();
    const segment = this.nextSegment++;
    // A new segment starts empty even if a file of that name was left behind.
    const handle = await open(join(this.opts.dir, name(segment)), 'w');
    this.active = { segment, handle };
    this.sizes.set(segment, 0);
  }

  /** Up to `maxLines` of the oldest unsent lines, and the position after them; null when nothing is spooled. */
  async peek(maxLines: number): Promise<{ lines: string[]; next: SpoolPosition } | null> {
    let { segment, offset } = this.cursor;
    // Skip the tail of finished segments (all their lines sent) to the next one that has lines.
    while ((this.sizes.get(segment) ?? 0) <= offset) {
      const later = [...this.sizes.keys()].filter((n) => n > segment).sort((a, b) => a - b)[0];
      if (later === undefined) return null;
      segment = later;
      offset = 0;
    }
    const size = this.sizes.get(segment)!;
    const length = Math.min(size - offset, READ_MAX);
    const buf = Buffer.alloc(length);
    const fh = await open(join(this.opts.dir, name(segment)), 'r');
    try {
      await fh.read(buf, 0, length, offset);
    } finally {
      await fh.close();
    }
    const lines: string[] = [];
    let pos = 0;
    while (lines.length < maxLines) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      lines.push(buf.toString('utf8', pos, nl));
      pos = nl + 1;
    }
    return { lines, next: { segment, offset: offset + pos } };
  }

  /** The server has the lines before `next`: move the cursor there and delete segments wholly behind it. */
  commit(next: SpoolPosition): Promise<void> {
    const run = async () => {
      this.cursor = next;
      for (const n of [...this.sizes.keys()]) {
        const done = n < next.segment || (n === next.segment && next.offset >= this.sizes.get(n)!);
        if (!done) continue;
        if (this.active?.segment === n) {
          // Everything sent: start the next append on a fresh segment.
          await this.active.handle.close();
          this.active = null;
        }
        await rm(join(this.opts.dir, name(n)), { force: true });
        this.sizes.delete(n);
      }
      if (!this.sizes.has(this.cursor.segment)) this.cursor = { segment: this.firstSegment() ?? this.nextSegment, offset: 0 };
      const tmp = join(this.opts.dir, 'cursor.json.tmp');
      await writeFile(tmp, JSON.stringify(this.cursor));
      await rename(tmp, join(this.opts.dir, 'cursor.json'));
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.active?.handle.close();
    this.active = null;
  }
}
