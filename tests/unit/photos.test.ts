// Photos (src/residents/photos.ts) with generated images through the real sharp/libvips: EXIF (GPS, the phone)
// stripped, turned upright, scaled, thumbnailed, content-addressed; hostile files — a truncated JPEG, a zip
// renamed .jpg, a 50-megapixel decompression bomb — refused with a coded Chinese message and nothing stored.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { FilePhotoStore, processPhoto, storePhoto, PHOTO_LIMITS } from '../../src/residents/photos.js';
import { tempDir } from '../helpers.js';

let dir: ReturnType<typeof tempDir>;
let store: FilePhotoStore;
beforeAll(() => {
  dir = tempDir('shaobing-photos-');
  store = new FilePhotoStore(dir.path);
});
afterAll(() => dir.remove());

const filesIn = (path: string): string[] => readdirSync(path, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

/** A phone's photo: 2400×1800, with its make, model and GPS position in EXIF, taken sideways (orientation 6). */
async function phonePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 2400, height: 1800, channels: 3, background: { r: 200, g: 60, b: 40 } } })
    .composite([{ input: Buffer.from('<svg width="400" height="300"><rect width="400" height="300" fill="#123"/></svg>'), top: 0, left: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD0: { Make: 'LeakyPhone', Model: 'SN-8842-XYZ' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 0/1' } })
    .toBuffer();
}

/** A PNG header claiming `w`×`h` and a tiny zlib stream that inflates to all of its (black) rows: a bomb. */
function pngBomb(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // 50 MB of zero rows compress to ~50 KB.
  const idat = deflateSync(Buffer.alloc((w + 1) * h), { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

describe('a phone photo', () => {
  it('is re-encoded upright, within 1600 px, with a thumbnail, and nothing of its EXIF', async () => {
    const input = await phonePhoto();
    expect(input.includes(Buffer.from('LeakyPhone'))).toBe(true);
    const p = await processPhoto(input);
    // Orientation 6: the stored photo is portrait.
    expect([p.width, p.height]).toEqual([1200, 1600]);
    const meta = await sharp(p.full).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    for (const leak of ['LeakyPhone', 'SN-8842-XYZ', 'GPS', 'Exif']) expect(p.full.includes(Buffer.from(leak)), leak).toBe(false);
    const thumb = await sharp(p.thumb).metadata();
    expect(Math.max(thumb.width!, thumb.height!)).toBe(PHOTO_LIMITS.thumbSide);
    expect(p.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stored under its hash, both sizes, once however often it comes', async () => {
    const input = await phonePhoto();
    const a = await storePhoto(store, input);
    const b = await storePhoto(store, input);
    expect(b.id).toBe(a.id);
    expect((await store.get(a.id, 'full'))!.equals(a.full)).toBe(true);
    expect((await store.get(a.id, 'thumb'))!.equals(a.thumb)).toBe(true);
    expect(filesIn(dir.path).sort()).toEqual([`${a.id}-thumb.jpg`, `${a.id}.jpg`]);
    expect(await store.get('../../etc/passwd', 'full')).toBeUndefined();
  });

  it('takes PNG and WebP too', async () => {
    for (const fmt of ['png', 'webp'] as const) {
      const img = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7' } })[fmt]().toBuffer();
      const p = await processPhoto(img);
      expect([p.width, p.height, (await sharp(p.full).metadata()).format]).toEqual([640, 480, 'jpeg']);
    }
  });
});

describe('hostile files are refused, with nothing stored', () => {
  const refused = async (input: Buffer) => {
    const before = filesIn(dir.path).length;
    const err = await storePhoto(store, input).then(
      () => undefined,
      (e: { code?: string; message?: string; statusCode?: number }) => e,
    );
    expect(filesIn(dir.path).length).toBe(before);
    return err ?? { code: 'ACCEPTED' };
  };

  it('a truncated JPEG', async () => {
    const whole = await phonePhoto();
    const e = await refused(whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(e.code).toBe('SB_PHOTO_INVALID');
    expect(e.message).toMatch(/损坏|不完整/);
  });

  it('a zip renamed .jpg, an HTML file, an SVG and nothing at all', async () => {
    const zip = Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(200, 7)]);
    expect((await refused(zip)).code).toBe('SB_PHOTO_TYPE');
    expect((await refused(Buffer.from('<html><script>alert(1)</script></html>'))).code).toBe('SB_PHOTO_TYPE');
    expect((await refused(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).code).toBe('SB_PHOTO_TYPE');
    expect((await refused(Buffer.alloc(0))).code).toBe('SB_PHOTO_INVALID');
    // A JPEG's first bytes and then garbage.
    expect((await refused(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 0x41)]))).code).toBe('SB_PHOTO_INVALID');
  });

  it('a 50-megapixel decompression bomb, judged from its header', async () => {
    const bomb = pngBomb(10_000, 5_000);
    expect(bomb.length).toBeLessThan(200_000);
    const rss = process.memoryUsage().rss;
    const e = await refused(bomb);
    expect([e.code, e.statusCode]).toEqual(['SB_PHOTO_TOO_LARGE', 413]);
    expect(e.message).toMatch(/像素/);
    // Its 50 MB of pixels were never allocated.
    expect(process.memoryUsage().rss - rss).toBeLessThan(40 * 1024 * 1024);
  });

  it('an upload over the byte limit, before it is looked at', async () => {
    const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(PHOTO_LIMITS.maxBytes)]);
    expect((await refused(big)).code).toBe('SB_PAYLOAD_TOO_LARGE');
  });
});
