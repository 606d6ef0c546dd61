// src/transport/frames.ts: a turn's records from the broker thread in one buffer, read back in order.
import { describe, it, expect } from 'vitest';
import { FrameWriter, readFrame, Rec, type UpRecord } from '../../src/transport/frames.js';

describe('broker thread frames', () => {
  it('round-trips publishes and connection records in order, growing past the first buffer', () => {
    const w = new FrameWriter(64);
    const big = Buffer.alloc(70_000, 0x61);
    w.connection('wm-1', true);
    w.publish(7, 1, 'wm-1', 'iot/c/wm-1/up', Buffer.from('{"type":"reading"}'));
    w.publish(0, 0, '烟感-2', 'iot/c/烟感-2/up', big);
    w.publish(8, 1, 'wm-1', 'iot/c/wm-1/up', new Uint8Array(0));
    w.connection('wm-1', false);
    expect(w.count).toBe(5);
    const frame = w.take()!;
    expect(w.take()).toBeNull(); // taken: the writer starts anew
    const out: UpRecord[] = [];
    readFrame(frame, (r) => out.push(r));
    expect(out.map((r) => [r.type, r.deviceId])).toEqual([
      [Rec.Connected, 'wm-1'],
      [Rec.Publish, 'wm-1'],
      [Rec.Publish, '烟感-2'],
      [Rec.Publish, 'wm-1'],
      [Rec.Disconnected, 'wm-1'],
    ]);
    const [, p1, p2, p3] = out as Array<Extract<UpRecord, { type: typeof Rec.Publish }>>;
    expect([p1.seq, p1.qos, p1.topic, p1.payload.toString()]).toEqual([7, 1, 'iot/c/wm-1/up', '{"type":"reading"}']);
    expect([p2.seq, p2.qos, p2.payload.length, p2.payload.equals(big)]).toEqual([0, 0, 70_000, true]);
    expect([p3.seq, p3.payload.length]).toEqual([8, 0]);
    // Payloads are views of the frame, not copies.
    expect(p1.payload.buffer).toBe(frame);
  });

  it('refuses a frame with an unknown record instead of reading garbage', () => {
    const bad = new Uint8Array([9, 0, 0]).buffer;
    expect(() => readFrame(bad, () => undefined)).toThrow(/unknown record type 9/);
  });
});
