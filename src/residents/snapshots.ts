// Camera snapshots (devices/ai-camera): the picture an event carried (Reading.picture, never written with the
// reading) is checked, decoded and re-encoded through the same photo service as residents' photos
// (src/residents/photos.ts: type and size limits, libvips with a pixel limit, EXIF stripped, a thumbnail, stored
// content-addressed), then attached to the open alert(s) the event concerns: a `photos` row (role `snapshot`)
// makes it visible to the staff of the alert's grid through GET /api/photos/{id}, and the alert's details get
// `snapshot` (the newest) and `snapshots` (up to 5). A picture that is refused leaves the alert as it is, with
// `snapshotError` saying why, and the event itself is kept either way.
//
// It runs after the ingest batch commits (ReadingHandler.committed), off the hot path: one picture at a time,
// in order, on a queue bounded in count and bytes (a camera storm drops pictures, never events).
import type { Logger } from 'pino';
import type { ReadingHandler } from '../ingest/pipeline.js';
import type { Reading } from '../ingest/reading.js';
import type { RuleEngine } from '../alerts/engine.js';
import type { AlertView } from '../alerts/types.js';
import type { PhotosRepo } from '../store/store.js';
import { storePhoto, type PhotoStore } from './photos.js';
import { AppError } from '../errors.js';

export const SNAPSHOT_QUEUE = { maxItems: 64, maxBytes: 64 * 1024 * 1024, keep: 5 } as const;

export interface SnapshotDeps {
  engine: RuleEngine;
  store: PhotoStore;
  photos: PhotosRepo;
  log: Logger;
}

export class Snapshots {
  private queue: Array<{ reading: Reading; picture: Buffer }> = [];
  private queuedBytes = 0;
  private running: Promise<void> | null = null;
  /** Pictures dropped because the queue was full (a storm); their events are kept. */
  dropped = 0;

  readonly handler: ReadingHandler = {
    name: 'snapshots',
    handle: () => undefined,
    committed: (readings) => this.take(readings),
  };

  constructor(private readonly deps: SnapshotDeps) {}

  private take(readings: readonly Reading[]): void {
    for (const r of readings) {
      const picture = r.picture;
      if (!picture) continue;
      r.picture = undefined;
      if (this.queue.length >= SNAPSHOT_QUEUE.maxItems || this.queuedBytes + picture.length > SNAPSHOT_QUEUE.maxBytes) {
        this.dropped++;
        this.deps.log.warn({ deviceId: r.deviceId, bytes: picture.length }, 'snapshot dropped: too many pictures waiting');
        continue;
      }
      this.queue.push({ reading: r, picture });
      this.queuedBytes += picture.length;
    }
    if (this.queue.length && !this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves once every picture queued so far is stored or refused (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      this.queuedBytes -= item.picture.length;
      try {
        await this.one(item.reading, item.picture);
      } catch (err) {
        this.deps.log.error({ err, deviceId: item.reading.deviceId }, 'storing a snapshot failed');
      }
    }
  }

  private async one(r: Reading, picture: Buffer): Promise<void> {
    const { engine, store, photos, log } = this.deps;
    const alerts = engine.openAlertsOf(r);
    // A heartbeat's picture, or an event whose alert a person closed meanwhile: nothing to show it on.
    if (!alerts.length) return;
    const actor = `device:${r.deviceId}`;
    let stored: Awaited<ReturnType<typeof storePhoto>>;
    try {
      stored = await storePhoto(store, picture);
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('SB_PHOTO_INVALID', '照片文件已损坏或不完整');
      log.warn({ deviceId: r.deviceId, code: e.code, bytes: picture.length }, 'snapshot refused; the event is kept without it');
      engine.runInTransaction((now) =>
        alerts.map((a) => engine.alerts.mergeDetails(a.id, { snapshotPending: false, snapshotError: e.message }, now, 'snapshot_refused', actor, { code: e.code, reason: e.message })),
      );
      return;
    }
    engine.runInTransaction((now) =>
      alerts.map((a): AlertView => {
        photos.add({ photo: stored.id, uploadedBy: actor, alertId: a.id, role: 'snapshot', width: stored.width, height: stored.height, bytes: stored.full.length, at: now });
        const before = Array.isArray(a.details.snapshots) ? (a.details.snapshots as string[]) : [];
        const snapshots = [...before.filter((id) => id !== stored.id), stored.id].slice(-SNAPSHOT_QUEUE.keep);
        return engine.alerts.mergeDetails(a.id, { snapshot: stored.id, snapshots, snapshotPending: false }, now, 'snapshot', actor, { photo: stored.id });
      }),
    );
  }
}
