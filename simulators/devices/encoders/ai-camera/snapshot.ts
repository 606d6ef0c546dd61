// A small real JPEG for simulated camera snapshots (8×8, generated once with sharp), padded to any length with a
// JPEG comment segment (FF FE) right after SOI, so a payload's `snapshotBytes` can be carried exactly and the
// service's photo service still decodes it.
const BASE = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABQb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCwAxQv/9k=',
  'base64',
);

/** A decodable JPEG of exactly `bytes` bytes (at least the base picture's size + 4; smaller sizes give the base). */
export function snapshotOf(bytes?: number): Buffer {
  const pad = (bytes ?? BASE.length) - BASE.length - 4;
  if (pad < 0) return BASE;
  const chunks: Buffer[] = [BASE.subarray(0, 2)];
  // Comment segments hold at most 65 533 bytes of text each.
  for (let left = pad + 4; left > 0; ) {
    const seg = Math.min(left, 65_537);
    const body = Math.max(0, seg - 4);
    const len = body + 2;
    chunks.push(Buffer.from([0xff, 0xfe, len >> 8, len & 0xff]), Buffer.alloc(body, 0x20));
    left -= seg;
  }
  chunks.push(BASE.subarray(2));
  return Buffer.concat(chunks);
}
