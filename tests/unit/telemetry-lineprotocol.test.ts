import { describe, it, expect } from 'vitest';
import { LineEncoder, alertLine, lotLine } from '../../src/telemetry/lineProtocol.js';
import type { DeviceInfo } from '../../src/config/inventory.js';
import type { Reading } from '../../src/ingest/reading.js';

const meter: DeviceInfo = {
  id: 'wm-6-302',
  kind: 'water-meter',
  format: 'canonical',
  communityId: 'chunjiang',
  gridId: 'g1',
  buildingId: 'b6',
  householdId: 'h6-302',
  uplinkTopic: 'iot/chunjiang/wm-6-302/up',
};

const reading = (over: Partial<Reading> & { payload: Reading['payload'] }): Reading => ({
  deviceId: meter.id,
  kind: 'water-meter',
  communityId: 'chunjiang',
  gridId: 'g1',
  type: over.payload.type,
  ts: Date.parse('2025-03-01T06:00:12+08:00'),
  receivedAt: Date.parse('2025-03-01T06:00:13+08:00'),
  ...over,
});

describe('line protocol for a reading', () => {
  it('writes one point per reading with location tags and float fields, and one litres point per interval at its end', () => {
    const enc = new LineEncoder((id) => (id === meter.id ? meter : undefined));
    const lines = enc.encode(
      reading({
        payload: {
          type: 'reading',
          ts: '2025-03-01T06:00:12+08:00',
          totalM3: 123.457,
          intervals: [
            { start: '2025-03-01T05:30:00+08:00', end: '2025-03-01T05:45:00+08:00', litres: 0 },
            { start: '2025-03-01T05:45:00+08:00', end: '2025-03-01T06:00:00+08:00', litres: 7 },
          ],
          valve: 'open',
          batteryPct: 87,
          mag: { x: 1 },
        },
      }),
    );
    const tags = 'water_meter,building=b6,community=chunjiang,device=wm-6-302,grid=g1,household=h6-302,kind=water-meter';
    expect(lines).toEqual([
      `${tags} type="reading",totalM3=123.457,valve="open",batteryPct=87 1740780012000`,
      `${tags} litres=0 1740779100000`,
      `${tags} litres=7 1740780000000`,
    ]);
  });

  it('escapes tag values and string fields, keeps booleans, and leaves out non-finite numbers and newlines', () => {
    const odd: DeviceInfo = { ...meter, id: 'p 1,x=y', kind: 'parking-sensor', householdId: undefined, buildingId: undefined, spaceId: 'S-1', lotId: 'L1' };
    const enc = new LineEncoder(() => odd);
    const [line] = enc.encode({
      deviceId: odd.id,
      kind: 'parking-sensor',
      communityId: 'chunjiang',
      gridId: 'g1',
      type: 'state',
      ts: 1740788400000,
      receivedAt: 1740788400000,
      payload: { type: 'state', occupied: true, note: 'say "hi"\nthere\\', bad: Number.NaN },
    });
    expect(line).toBe(
      'parking_sensor,community=chunjiang,device=p\\ 1\\,x\\=y,grid=g1,kind=parking-sensor,lot=L1,space=S-1 type="state",occupied=true,note="say \\"hi\\" there\\\\" 1740788400000',
    );
  });

  it('writes alert changes and lot counts as points of their own for the dashboards', () => {
    expect(
      alertLine({
        id: 42,
        kind: 'illegal_parking',
        severity: 'major',
        status: 'open',
        communityId: 'guihuayuan',
        gridId: 'gh-g1',
        deviceId: 'gh-ps-01',
        title: '消防通道 占用',
        count: 2,
        updatedAt: '2025-03-01T08:00:00.000Z',
      }),
    ).toBe('alert,alert=42,community=guihuayuan,device=gh-ps-01,grid=gh-g1,kind=illegal_parking,severity=major status="open",count=2,title="消防通道 占用" 1740816000000');
    expect(lotLine({ id: 'gh-lot-1', communityId: 'guihuayuan', gridId: 'gh-g1', capacity: 40, occupied: 31, free: 9, updatedAt: null }, 1740816000000)).toBe(
      'parking_lot,community=guihuayuan,grid=gh-g1,lot=gh-lot-1 capacity=40,occupied=31,free=9 1740816000000',
    );
  });
});
