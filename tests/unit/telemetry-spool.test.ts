import { describe, it, expect, afterEach } from 'vitest';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Spool } from '../../src/telemetry/spool.js';
import { tempDir } from '../helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
const newDir = () => {
  const d = tempDir('shaobing-spool-');
  dirs.push(d);
  return d.path;
};
const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m,device=d v=${from + i} ${from + i}`);

/** Take everything out of the spool in batches of `batch`, committing each. */
async function drain(spool: Spool, batch: number): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const b = await spool.peek(batch);
    if (!b || !b.lines.length) return out;
    out.push(...b.lines);
    await spool.commit(b.next);
  }
}

describe('telemetry spool', () => {
  it('gives lines back in the order they were appended, across segments, and deletes segments once sent', async () => {
    const dir = newDir();
    const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 200 });
    await spool.open();
    for (let i = 0; i < 10; i++) expect(await spool.append(lines(i * 7, 7))).toBe(7);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp')).length).toBeGreaterThan(3);
    expect(await drain(spool, 5)).toEqual(lines(0, 70));
    expect(spool.empty).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp'))).toEqual([]);
    // Still usable after being emptied.
    await spool.append(lines(70, 2));
    expect(await drain(spool, 5)).toEqual(lines(70, 2));
    await spool.close();
  });

  it('resumes after a restart from the first line not committed, dropping half a line left by a crash', async () => {
    const dir = newDir();
    const a = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    await a.open();
    await a.append(lines(0, 20));
    const first = await a.peek(8);
    await a.commit(first!.next);
    await a.peek(4); // read but never committed: must come back
    await a.close();
    const segs = readdirSync(dir).filter((f) => f.endsWith('.lp')).sort();
    appendFileSync(join(dir, segs[segs.length - 1]), 'm,device=d v=half'); // torn append

    const b = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    await b.open();
    await b.append(lines(20, 3));
    expect(await drain(b, 6)).toEqual(lines(8, 15));
    await b.close();
  });

  it('takes only the lines that fit under maxBytes, oldest first, and room again once sent', async () => {
    const dir = newDir();
    const spool = new Spool({ dir, maxBytes: 100, segmentBytes: 64 * 1024 });
    await spool.open();
    expect(await spool.append(lines(0, 3))).toBe(3); // lines of 17 bytes
    expect(await spool.append(lines(3, 4))).toBe(2);
    expect(await spool.append(lines(7, 1))).toBe(0);
    expect(spool.pendingBytes).toBe(85);
    expect(await drain(spool, 10)).toEqual(lines(0, 5));
    expect(await spool.append(lines(7, 3))).toBe(3);
    await spool.close();
  });
});
