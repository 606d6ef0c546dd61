// Photos of residents' reports and of their resolution (issue 17), handled as a careful service would:
//
//  1. Limits before anything is decoded: at most PHOTO_LIMITS.maxBytes, and the bytes must start like a JPEG,
//     PNG or WebP (a zip renamed .jpg is refused by its first bytes, never handed to a decoder).
//  2. Decoded by libvips through sharp with `limitInputPixels` (a 50-megapixel "decompression bomb" is refused
//     from its header, before its pixels are allocated) and `failOn: 'warning'` (a truncated JPEG is refused,
//     not stored grey at the bottom), turned upright by its EXIF orientation, scaled to fit 1600 px, and
//     re-encoded as a new JPEG: nothing of the upload's bytes survives, and no metadata (EXIF GPS, the phone's
//     make and serial, XMP, ICC) is written. A 320 px thumbnail is made for lists.
//  3. Stored content-addressed (sha256 of the re-encoded JPEG) through `PhotoStore`; the file store writes a
//     temporary file and renames it, so a crash or a refusal never leaves half a photo.
//
// Anything refused is a coded error with a Chinese message, and nothing of it is stored.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors.js';

export const PHOTO_LIMITS = {
  /** Bytes of one upload (a phone's 12-megapixel JPEG is 3–6 MB). */
  maxBytes: 10 * 1024 * 1024,
  /** Pixels of one decoded image: 40 megapixels (a 50-megapixel bomb is refused). */
  maxPixels: 40_000_000,
  /** The stored photo's longer side, and the thumbnail's. */
  side: 1600,
  thumbSide: 320,
  /** Photos per report; one more on resolution. */
  perReport: 3,
} as const;

export type PhotoSize = 'full' | 'thumb';

/** Where photos live. The file store is the default; an S3-compatible store implements the same three calls. */
export interface PhotoStore {
  readonly name: string;
  put(id: string, size: PhotoSize, bytes: Buffer): Promise<void>;
  get(id: string, size: PhotoSize): Promise<Buffer | undefined>;
  delete(id: string): Promise<void>;
}

/** <dataDir>/photos/ab/<sha256>.jpg and …-thumb.jpg, written whole then renamed. */
export class FilePhotoStore implements PhotoStore {
  readonly name = 'file';
  constructor(private readonly root: string) {}

  private path(id: string, size: PhotoSize): string {
    return join(this.root, id.slice(0, 2), `${id}${size === 'thumb' ? '-thumb' : ''}.jpg`);
  }

  async put(id: string, size: PhotoSize, bytes: Buffer): Promise<void> {
    const file = this.path(id, size);
    await mkdir(join(this.root, id.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(id: string, size: PhotoSize): Promise<Buffer | undefined> {
    if (!PHOTO_ID.test(id)) return undefined;
    try {
      return await readFile(this.path(id, size));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await Promise.all((['full', 'thumb'] as const).map((s) => rm(this.path(id, s), { force: true })));
  }
}

export const PHOTO_ID = /^[0-9a-f]{64}$/;

/** What the first bytes say the upload is; undefined for anything that is not a photo we take. */
export function sniff(b: Buffer): 'jpeg' | 'png' | 'webp' | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

export interface ProcessedPhoto {
  id: string;
  full: Buffer;
  thumb: Buffer;
  width: number;
  height: number;
}

// One image at a time per libvips call: photos are rare, and the hot path (MQTT ingest) keeps its cores.
sharp.concurrency(1);

/** Check, decode and re-encode an upload; throws SB_PHOTO_* (Chinese messages) for anything refused. */
export async function processPhoto(input: Buffer): Promise<ProcessedPhoto> {
  if (input.length === 0) throw new AppError('SB_PHOTO_INVALID', '照片是空的，请重新选择');
  if (input.length > PHOTO_LIMITS.maxBytes) throw new AppError('SB_PAYLOAD_TOO_LARGE', `照片太大（最大 ${PHOTO_LIMITS.maxBytes / 1048576} MB），请换一张或截图后再传`);
  if (!sniff(input)) throw new AppError('SB_PHOTO_TYPE', '只能上传照片（JPG、PNG 或 WebP 格式）');
  const opts = { limitInputPixels: PHOTO_LIMITS.maxPixels, failOn: 'warning' as const, sequentialRead: true };
  let meta: Metadata;
  try {
    // The header alone: the size is judged before any pixel is decoded.
    meta = await sharp(input, opts).metadata();
  } catch (err) {
    throw refusal(err);
  }
  if (!meta.width || !meta.height || !['jpeg', 'png', 'webp'].includes(meta.format ?? '')) throw new AppError('SB_PHOTO_TYPE', '只能上传照片（JPG、PNG 或 WebP 格式）');
  if (meta.width * meta.height > PHOTO_LIMITS.maxPixels || (meta.pages ?? 1) > 1)
    throw new AppError('SB_PHOTO_TOO_LARGE', `照片像素太多（最多 ${PHOTO_LIMITS.maxPixels / 1_000_000} 百万像素），请换一张`);
  try {
    const upright = sharp(input, opts).rotate();
    const full = await upright
      .clone()
      .resize({ width: PHOTO_LIMITS.side, height: PHOTO_LIMITS.side, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    const thumb = await sharp(full.data).resize({ width: PHOTO_LIMITS.thumbSide, height: PHOTO_LIMITS.thumbSide, fit: 'inside' }).jpeg({ quality: 70 }).toBuffer();
    return { id: createHash('sha256').update(full.data).digest('hex'), full: full.data, thumb, width: full.info.width, height: full.info.height };
  } catch (err) {
    throw refusal(err);
  }
}

/** libvips's refusal in words for the resident (its own message may name internals: it is not passed on). */
function refusal(err: unknown): AppError {
  if (/pixel limit/i.test(String((err as Error)?.message))) return new AppError('SB_PHOTO_TOO_LARGE', `照片像素太多（最多 ${PHOTO_LIMITS.maxPixels / 1_000_000} 百万像素），请换一张`);
  return new AppError('SB_PHOTO_INVALID', '照片文件已损坏或不完整，请重新拍摄后再传');
}

/** Process and store: both sizes are written before the id is handed out. */
export async function storePhoto(store: PhotoStore, input: Buffer): Promise<ProcessedPhoto> {
  const p = await processPhoto(input);
  // The same picture again (content-addressed): already whole, since the thumbnail is written last.
  if (await store.get(p.id, 'thumb')) return p;
  try {
    await store.put(p.id, 'full', p.full);
    await store.put(p.id, 'thumb', p.thumb);
  } catch (err) {
    await store.delete(p.id).catch(() => undefined);
    throw err;
  }
  return p;
}
