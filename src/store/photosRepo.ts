// Who uploaded which photo and what it is attached to (src/residents/photos.ts keeps the bytes).
import type { Db } from './db.js';
import type { PhotoRole, PhotoRow, PhotosRepo as Photos } from './store.js';

export type { PhotoRole, PhotoRow };

export class PhotosRepo implements Photos {
  private readonly s;
  constructor(private readonly db: Db) {
    this.s = {
      insert: db.prepare(
        'INSERT INTO photos (photo, household_id, uploaded_by, alert_id, role, width, height, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      pendingOf: db.prepare('SELECT id FROM photos WHERE household_id = ? AND photo = ? AND alert_id IS NULL ORDER BY id LIMIT 1'),
      attach: db.prepare('UPDATE photos SET alert_id = ? WHERE id = ?'),
      pendingCount: db.prepare('SELECT COUNT(*) FROM photos WHERE household_id = ? AND alert_id IS NULL AND created_at >= ?').pluck(),
      rows: db.prepare('SELECT photo, household_id AS householdId, alert_id AS alertId, role FROM photos WHERE photo = ?'),
      ofAlert: db.prepare('SELECT COUNT(*) FROM photos WHERE alert_id = ? AND role = ?').pluck(),
      stale: db.prepare('SELECT id, photo FROM photos WHERE alert_id IS NULL AND created_at < ?'),
      remove: db.prepare('DELETE FROM photos WHERE id = ?'),
      used: db.prepare('SELECT COUNT(*) FROM photos WHERE photo = ?').pluck(),
    };
  }

  add(r: { photo: string; householdId?: string; uploadedBy: string; alertId?: number; role: PhotoRole; width: number; height: number; bytes: number; at: number }): void {
    this.s.insert.run(r.photo, r.householdId ?? null, r.uploadedBy, r.alertId ?? null, r.role, r.width, r.height, r.bytes, r.at);
  }

  /** Attach a household's unattached upload to its alert; false if it has no such upload. */
  attach(householdId: string, photo: string, alertId: number): boolean {
    const row = this.s.pendingOf.get(householdId, photo) as { id: number } | undefined;
    if (!row) return false;
    this.s.attach.run(alertId, row.id);
    return true;
  }

  pendingSince(householdId: string, since: number): number {
    return this.s.pendingCount.get(householdId, since) as number;
  }

  rows(photo: string): PhotoRow[] {
    return this.s.rows.all(photo) as PhotoRow[];
  }

  countOn(alertId: number, role: PhotoRole): number {
    return this.s.ofAlert.get(alertId, role) as number;
  }

  /** Drop unattached uploads older than `before`; returns the photos no row refers to any more. */
  async sweep(before: number): Promise<string[]> {
    return this.db.transaction(() => {
      const gone = new Set<string>();
      for (const r of this.s.stale.all(before) as Array<{ id: number; photo: string }>) {
        this.s.remove.run(r.id);
        gone.add(r.photo);
      }
      return [...gone].filter((p) => (this.s.used.get(p) as number) === 0);
    })();
  }
}
