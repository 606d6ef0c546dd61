// A reading as InfluxDB line protocol (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
//   <measurement>,<tags> <fields> <timestamp ms>
// One measurement per device kind (smoke_detector, water_meter, parking_sensor, smart_gate). Tags are where the
// device is (community, grid, building, household, lot, space, gate) and what it is (device, kind): few values
// each, so series stay bounded. Fields are the canonical payload's numbers, booleans and strings; nested
// objects and arrays are left out, except a water meter's `intervals`, which become one point each of
// `litres` at the interval's end time, so use per hour or day is a plain sum.
//
// Escaping comes from @influxdata/influxdb-client (`escape`); the tag part is built once per device and
// cached, since it is the same for every point of that device.
import { escape } from '@influxdata/influxdb-client';
import type { DeviceInfo } from '../config/inventory.js';
import type { Reading } from '../ingest/reading.js';
import { intervalsOf } from './history.js';

export const measurementOf = (kind: string): string => kind.replace(/-/g, '_');

/** Payload keys that are not fields: `ts` is the point's time, `intervals` become points of their own. */
const NOT_FIELDS = new Set(['ts', 'intervals']);

function fieldValue(v: unknown): string | null {
  switch (typeof v) {
    // Always a float (no `i` suffix): a field's type is fixed per shard, and a vendor sending 87 once and
    // 87.5 later must not make InfluxDB refuse the second write as a type conflict.
    case 'number':
      return Number.isFinite(v) ? String(v) : null;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      // Line protocol has no newline inside a value (see the syntax page above); quoted() adds the quotes.
      return escape.quoted(v.replace(/[\r\n]+/g, ' '));
    default:
      return null;
  }
}

export class LineEncoder {
  private readonly prefixes = new Map<string, string>();

  constructor(private readonly lookup: (deviceId: string) => DeviceInfo | undefined) {}

  /** `measurement,tags` for a device; tags sorted by key, as the line protocol docs advise for write speed. */
  private prefix(r: Reading): string {
    const key = `${r.deviceId}\u0000${r.gridId}`;
    let p = this.prefixes.get(key);
    if (p === undefined) {
      const d = this.lookup(r.deviceId);
      const tags: Array<[string, string | undefined]> = [
        ['building', d?.buildingId],
        ['community', r.communityId],
        ['device', r.deviceId],
        ['gate', d?.gateId],
        ['grid', r.gridId],
        ['household', d?.householdId],
        ['kind', r.kind],
        ['lot', d?.lotId],
        ['space', d?.spaceId],
      ];
      p = escape.measurement(measurementOf(r.kind));
      // An empty tag value is not allowed: leave the tag out.
      for (const [k, v] of tags) if (v) p += `,${k}=${escape.tag(v)}`;
      if (this.prefixes.size > 100_000) this.prefixes.clear();
      this.prefixes.set(key, p);
    }
    return p;
  }

  /** Lines for one reading: the reading's own point, then one `litres` point per water interval. */
  encode(r: Reading, out: string[] = []): string[] {
    const prefix = this.prefix(r);
    let fields = '';
    for (const [k, v] of Object.entries(r.payload)) {
      if (NOT_FIELDS.has(k)) continue;
      const value = fieldValue(v);
      if (value === null) continue;
      fields += `${fields ? ',' : ''}${escape.tag(k)}=${value}`;
    }
    // `type` is always present (the schema requires it), so every point has at least one field.
    out.push(`${prefix} ${fields} ${Math.trunc(r.ts)}`);
    if (r.kind === 'water-meter') for (const iv of intervalsOf(r.payload)) out.push(`${prefix} litres=${iv.litres} ${Math.trunc(iv.end)}`);
    return out;
  }
}

function tagSet(tags: Array<[string, string | undefined]>): string {
  let out = '';
  for (const [k, v] of tags.sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (v) out += `,${k}=${escape.tag(v)}`;
  return out;
}

/** The parts of an alert (CONTRACT.md "Alert") written for dashboards: one point per change. */
export interface AlertPoint {
  id: number;
  kind: string;
  severity: string;
  status: string;
  communityId: string;
  gridId: string;
  deviceId?: string;
  title: string;
  count: number;
  updatedAt: string;
}

/** `alert` points, tagged by where and what (and the alert id, so two alerts changing in one ms stay apart). */
export function alertLine(a: AlertPoint): string | null {
  const t = Date.parse(a.updatedAt);
  if (!Number.isFinite(t)) return null;
  const tags = tagSet([
    ['alert', String(a.id)],
    ['community', a.communityId],
    ['device', a.deviceId],
    ['grid', a.gridId],
    ['kind', a.kind],
    ['severity', a.severity],
  ]);
  return `alert${tags} status=${escape.quoted(a.status)},count=${a.count},title=${escape.quoted(a.title.replace(/[\r\n]+/g, ' '))} ${t}`;
}

export interface LotPoint {
  id: string;
  communityId: string;
  gridId: string;
  capacity: number;
  occupied: number;
  free: number;
  updatedAt: string | null;
}

/** `parking_lot` points: a lot's counts each time they change, for lot occupancy over time. */
export function lotLine(l: LotPoint, now: number): string {
  const t = l.updatedAt ? Date.parse(l.updatedAt) : now;
  const tags = tagSet([
    ['community', l.communityId],
    ['grid', l.gridId],
    ['lot', l.id],
  ]);
  return `parking_lot${tags} capacity=${l.capacity},occupied=${l.occupied},free=${l.free} ${Number.isFinite(t) ? t : now}`;
}
