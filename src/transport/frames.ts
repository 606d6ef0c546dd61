// What the broker thread (src/transport/brokerThread.ts) sends the main thread: everything its devices said in
// one event-loop turn, in arrival order, as ONE ArrayBuffer that is transferred, not copied — no message
// passing, structured clone or object per MQTT message between the threads. Records, back to back:
//
//   publish:     u8 1, u32 seq (0 = QoS 0: nothing to acknowledge), u8 qos, str16 deviceId, str16 topic, u32 n, n bytes
//   connected:   u8 2, str16 deviceId
//   disconnected u8 3, str16 deviceId
//
// str16 = u16 byte length + UTF-8. The main thread reads the payloads as Buffers over the same memory.

export const Rec = { Publish: 1, Connected: 2, Disconnected: 3 } as const;

export type UpRecord =
  | { type: typeof Rec.Publish; seq: number; qos: number; deviceId: string; topic: string; payload: Buffer }
  | { type: typeof Rec.Connected | typeof Rec.Disconnected; deviceId: string };

/** Appends records to a growing buffer; `take()` hands the filled part over (to be transferred) and starts anew. */
export class FrameWriter {
  private buf: Buffer;
  private at = 0;
  count = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initial);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  private str(s: string): void {
    const n = Buffer.byteLength(s);
    if (n > 0xffff) throw new RangeError('frame string longer than 65535 bytes');
    this.room(2 + n);
    this.buf.writeUInt16LE(n, this.at);
    this.buf.write(s, this.at + 2, 'utf8');
    this.at += 2 + n;
  }

  publish(seq: number, qos: number, deviceId: string, topic: string, payload: Uint8Array): void {
    this.room(6);
    this.buf[this.at] = Rec.Publish;
    this.buf.writeUInt32LE(seq, this.at + 1);
    this.buf[this.at + 5] = qos;
    this.at += 6;
    this.str(deviceId);
    this.str(topic);
    this.room(4 + payload.length);
    this.buf.writeUInt32LE(payload.length, this.at);
    this.buf.set(payload, this.at + 4);
    this.at += 4 + payload.length;
    this.count++;
  }

  connection(deviceId: string, connected: boolean): void {
    this.room(1);
    this.buf[this.at++] = connected ? Rec.Connected : Rec.Disconnected;
    this.str(deviceId);
    this.count++;
  }

  /** The records written since the last take, in an ArrayBuffer of their own (transferable), or null if none. */
  take(): ArrayBuffer | null {
    if (!this.at) return null;
    // The filled part, copied once per batch into an exact-size buffer (a transfer hands over the whole
    // ArrayBuffer, and the writer keeps its own for the next batch).
    const out = new ArrayBuffer(this.at);
    new Uint8Array(out).set(this.buf.subarray(0, this.at));
    this.at = 0;
    this.count = 0;
    if (this.buf.length > this.initial * 16) this.buf = Buffer.allocUnsafeSlow(this.initial); // after a burst
    return out;
  }
}

/** Calls `each` for every record of a frame, in order. Payload Buffers share the frame's memory. */
export function readFrame(frame: ArrayBuffer, each: (r: UpRecord) => void): void {
  const buf = Buffer.from(frame);
  let at = 0;
  const str = (): string => {
    const n = buf.readUInt16LE(at);
    const s = buf.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return s;
  };
  while (at < buf.length) {
    const type = buf[at];
    if (type === Rec.Publish) {
      const seq = buf.readUInt32LE(at + 1);
      const qos = buf[at + 5];
      at += 6;
      const deviceId = str();
      const topic = str();
      const n = buf.readUInt32LE(at);
      const payload = buf.subarray(at + 4, at + 4 + n);
      at += 4 + n;
      each({ type, seq, qos, deviceId, topic, payload });
    } else if (type === Rec.Connected || type === Rec.Disconnected) {
      at += 1;
      each({ type, deviceId: str() });
    } else throw new Error(`broker thread frame: unknown record type ${type} at ${at}`);
  }
}
