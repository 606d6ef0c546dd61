// Focused tests of the parts that are easy to get subtly wrong: the GS524N frame, base64 licences, time shifts.
import { describe, expect, it } from 'vitest';
import { voltsToPercent } from './shared/battery.js';
import { base64ToText } from './shared/encoding.js';
import { shiftTs } from './shared/time.js';
import { deviceKinds } from './index.js';
import { checksum, decoder as gs524n } from './smoke-detector/decoders/milesight-gs524n.js';
import { decodeLicense, decoder as vzenith } from './smart-gate/decoders/vzenith.js';
import { decoder as tuya } from './smoke-detector/decoders/tuya-smoke.js';
import { decoder as nbBatch } from './water-meter/decoders/nb-batch.js';
import { useFromReading } from '../src/rules/lib/water.js';
import type { Reading } from '../src/ingest/reading.js';

const ctx = { deviceId: 'unit', receivedAt: Date.parse('2025-03-01T08:00:00+08:00') };

/** A GS524N frame with a correct check byte (all six bytes sum to 0 mod 256). */
function frame(...bytes: number[]): Buffer {
  return Buffer.from([...bytes, (256 - (bytes.reduce((a, b) => a + b, 0) % 256)) % 256]);
}

describe('milesight-gs524n', () => {
  const sample = Buffer.from('221E64001C40', 'hex'); // Milesight SensorDecoders GS524N README sample

  it('accepts the README sample, whose bytes sum to 0x100', () => {
    expect(checksum(sample)).toBe(0);
    expect(gs524n.decode(sample, ctx)).toMatchObject({
      ok: true,
      payload: { type: 'test', batteryPct: 100, smokePct: 0, temperatureC: 28, event: 'testing alarm with normal battery' },
    });
  });

  it('decodes hex text (any case, spaced) the same as the raw bytes', () => {
    const fromBytes = gs524n.decode(sample, ctx);
    for (const text of ['221E64001C40', '221e64001c40', '22 1E 64 00 1C 40\n']) {
      expect(gs524n.decode(Buffer.from(text), ctx)).toEqual(fromBytes);
    }
  });

  it('rejects a frame with any single byte changed (checksum)', () => {
    for (let i = 0; i < sample.length; i++) {
      const bad = Buffer.from(sample);
      bad[i] ^= 0x10;
      expect(gs524n.decode(bad, ctx)).toMatchObject({ ok: false, error: 'decode_failed' });
    }
  });

  it('accepts a smoke alarm with a bad check byte, flagged, and refuses every other message type so', () => {
    for (let nibble = 0; nibble < 16; nibble++) {
      const bad = frame(0x22, 0x10 | nibble, 90, 35, 42);
      bad[5] ^= 0x01;
      const result = gs524n.decode(bad, ctx);
      if (nibble === 1) expect(result).toMatchObject({ ok: true, payload: { type: 'alarm', checksumOk: false, smokePct: 35 } });
      else expect(result, `nibble ${nibble}`).toMatchObject({ ok: false, error: 'decode_failed' });
    }
    // A good frame carries no flag at all.
    expect(gs524n.decode(frame(0x22, 0x11, 90, 35, 42), ctx)).toMatchObject({ ok: true, payload: { type: 'alarm' } });
    expect((gs524n.decode(frame(0x22, 0x11, 90, 35, 42), ctx) as { payload: object }).payload).not.toHaveProperty('checksumOk');
    // A bad sum on another sensor type is no smoke alarm.
    const other = frame(0x22, 0x21, 90, 35, 42);
    other[5] ^= 0x01;
    expect(gs524n.decode(other, ctx).ok).toBe(false);
  });

  it('maps the byte-2 low nibble per the README', () => {
    const expected: Record<number, string> = {
      1: 'alarm', 2: 'silenced', 4: 'low_battery', 5: 'fault', 7: 'heartbeat', 10: 'tamper', 11: 'heartbeat', 14: 'test', 15: 'test',
    };
    for (let nibble = 0; nibble < 16; nibble++) {
      const result = gs524n.decode(frame(0x22, 0x10 | nibble, 90, 0, 25), ctx);
      if (expected[nibble] === undefined) {
        expect(result.ok, `nibble ${nibble}`).toBe(false);
        continue;
      }
      expect(result.ok && result.payload.type, `nibble ${nibble}`).toBe(expected[nibble]);
    }
  });

  it('keeps "installed" as the event of a heartbeat and reads temperature as int8', () => {
    expect(gs524n.decode(frame(0x22, 0x1b, 100, 0, 0xf6), ctx)).toMatchObject({
      ok: true,
      payload: { type: 'heartbeat', event: 'installed', temperatureC: -10 },
    });
  });

  it('rejects a frame of another sensor type (byte-2 high nibble ≠ 1)', () => {
    expect(gs524n.decode(frame(0x22, 0x2e, 100, 0, 28), ctx).ok).toBe(false);
  });
});

describe('tuya-smoke', () => {
  const decode = (body: unknown) => tuya.decode(Buffer.from(JSON.stringify(body)), ctx);

  it('reads the legacy smoke_sensor_state "1" as a smoke alarm, as Home Assistant does, and "2" as its reset', () => {
    expect(decode({ smoke_sensor_state: '1', battery_percentage: 80 })).toMatchObject({ ok: true, payload: { type: 'alarm' } });
    expect(decode({ smoke_sensor_state: 1 })).toMatchObject({ ok: true, payload: { type: 'alarm' } });
    expect(decode({ smoke_sensor_state: '2' })).toMatchObject({ ok: true, payload: { type: 'alarm_cleared' } });
  });

  it('never hides an alarm behind a heartbeat: an unknown alarm-like point is refused, naming it', () => {
    const bases = [{}, { smoke_sensor_status: 'normal' }, { battery_percentage: 90 }, { muffling: true }, { battery_state: 'low' }];
    const suspects = [{ co_state: '1' }, { gas_sensor_status: 'alarm' }, { fire_alarm: true }, { smoke_level: 3 }, { sos_state: true }, { fault_code: 'E2' }];
    for (const base of bases) {
      for (const suspect of suspects) {
        const result = decode({ ...base, ...suspect, battery_value: 3000 });
        expect(result.ok, JSON.stringify({ ...base, ...suspect })).toBe(false);
        if (!result.ok) expect(result.message).toContain(Object.keys(suspect)[0]);
      }
    }
    // Beside a real smoke alarm the report is still the alarm.
    expect(decode({ smoke_sensor_status: 'alarm', co_state: '1' })).toMatchObject({ ok: true, payload: { type: 'alarm' } });
  });

  it('lets unknown points through when they are plainly off or not alarm-like', () => {
    for (const extra of [{ co_state: 'normal' }, { fire_alarm: false }, { gas_alarm: 0 }, { humidity_value: 55 }, { alarm_switch: true, alarm_volume: 'high' }]) {
      expect(decode({ smoke_sensor_status: 'normal', ...extra }), JSON.stringify(extra)).toMatchObject({ ok: true, payload: { type: 'heartbeat' } });
    }
  });

  it('keeps health conditions the type does not show as flags (alarm first, then tamper, fault)', () => {
    expect(decode({ temper_alarm: true, checking_result: 'check_failure', battery_state: 'low' })).toMatchObject({
      ok: true,
      payload: { type: 'tamper', fault: true, lowBattery: true },
    });
    expect(decode({ lifecycle: false, test_alarm: false, preheat: false })).toMatchObject({ ok: true, payload: { type: 'heartbeat' } });
  });
});

describe('nb-batch metering (zhdt measureMethod)', () => {
  const decode = (body: unknown) => {
    const result = nbBatch.decode(Buffer.from(JSON.stringify(body)), ctx);
    if (!result.ok) throw new Error(result.message);
    return result.payload;
  };
  const reading = (ts: string, body: Record<string, unknown>): Reading => {
    const payload = decode({ ts, ...body });
    return { deviceId: 'm', kind: 'water-meter', communityId: 'c', gridId: 'g', type: payload.type, ts: Date.parse(ts), receivedAt: Date.parse(ts), payload };
  };

  it('never takes a relative amount for the register, so it cannot look like a meter swap', () => {
    const day1 = reading('2025-03-01T06:00:00+08:00', { measureMethod: '02', measureValue: '12346' });
    const day2 = reading('2025-03-02T06:00:00+08:00', { measureMethod: '01', measureValue: '35' });
    expect(day1.payload.totalM3).toBe(123.46);
    expect(day2.payload).toMatchObject({ type: 'heartbeat', deltaM3: 0.35, metering: 'relative' });
    expect(day2.payload).not.toHaveProperty('totalM3');
    const use = useFromReading(day2, { ts: day1.ts, totalM3: 123.46 });
    expect(use.reset).toBe(false);
  });

  it('uses the register a relative report carries (waterConsumption, water) and keeps the amount beside it', () => {
    for (const field of ['waterConsumption', 'water']) {
      const r = reading('2025-03-02T06:00:00+08:00', { measureMethod: '01', measureValue: '35', [field]: '123.81' });
      expect(r.payload).toMatchObject({ type: 'reading', totalM3: 123.81, deltaM3: 0.35 });
      expect(useFromReading(r, { ts: Date.parse('2025-03-01T06:00:00+08:00'), totalM3: 123.46 })).toMatchObject({ reset: false, segments: [[expect.any(Number), expect.any(Number), 350]] });
    }
  });

  it('reads abnormalPower as low battery, valveStatus/tapstatus 1 as open, and signalPower/snr', () => {
    expect(decode({ abnormalPower: '1', valveStatus: '1', signalPower: '-101', snr: '-3' })).toMatchObject({
      type: 'heartbeat', lowBattery: true, valve: 'open', rssi: -101, snr: -3,
    });
    expect(decode({ abnormalPower: 0, valveStatus: 0 })).toMatchObject({ lowBattery: false, valve: 'closed' });
    expect(decode({ tapstatus: 1 })).toMatchObject({ valve: 'open' });
    // A signalPower that is not dBm (its unit is not written down) is kept but not taken as the signal.
    expect(decode({ signalPower: '-1013' })).not.toHaveProperty('rssi');
  });
});

describe('vzenith licence', () => {
  it('base64-decodes the MQTT envelope licence (vzicloud sample)', () => {
    expect(decodeLicense('6LWjR1o3UzEz', true)).toBe('赣GZ7S13');
    expect(base64ToText(Buffer.from('沪A12345').toString('base64'))).toBe('沪A12345');
  });

  it('keeps the HTTP push licence as is and refuses non-base64 in an envelope', () => {
    expect(decodeLicense('沪A12345', false)).toBe('沪A12345');
    expect(decodeLicense('沪A12345', true)).toBeUndefined();
    expect(base64ToText('//79')).toBeUndefined(); // valid base64, but not UTF-8 text
  });

  it("takes the direction from the camera's lane, never from the (reserved) channel; a relay's direction wins", () => {
    const push = (channel: number, extra = {}) =>
      Buffer.from(JSON.stringify({ ...extra, AlarmInfoPlate: { channel, result: { PlateResult: { license: '沪A12345' } } } }));
    const exit = { ...ctx, lane: { name: '正门出口', direction: 'out' as const } };
    const entry = { ...ctx, lane: { direction: 'in' as const } };
    for (const channel of [0, 1, 2]) {
      expect(vzenith.decode(push(channel), exit)).toMatchObject({ ok: true, payload: { direction: 'out', lane: '正门出口', channel } });
      expect(vzenith.decode(push(channel), entry)).toMatchObject({ ok: true, payload: { direction: 'in' } });
      // No lane configured: refused with the reason, not guessed from the channel.
      const refused = vzenith.decode(push(channel), ctx);
      expect(refused).toMatchObject({ ok: false, error: 'decode_failed' });
      if (!refused.ok) expect(refused.message).toContain('lanes');
    }
    expect(vzenith.decode(push(0, { direction: 'in' }), exit)).toMatchObject({ ok: true, payload: { direction: 'in' } });
    expect(vzenith.decode(push(0, { direction: 'out' }), ctx)).toMatchObject({ ok: true, payload: { direction: 'out' } });
  });
});

describe('shared helpers', () => {
  it('shifts RFC 3339 times keeping their offset, and epoch ms as numbers', () => {
    expect(shiftTs('2025-03-01T00:10:00+08:00', -15)).toBe('2025-02-28T23:55:00+08:00');
    expect(shiftTs('2025-03-01T00:10:00Z', -15)).toBe('2025-02-28T23:55:00Z');
    expect(shiftTs(1740787200000, -15)).toBe(1740786300000);
  });

  it('maps battery volts linearly and clamps', () => {
    expect(voltsToPercent(3.6, 3.0, 3.6)).toBe(100);
    expect(voltsToPercent(3.3, 3.0, 3.6)).toBe(50);
    expect(voltsToPercent(3.9, 3.0, 3.6)).toBe(100);
    expect(voltsToPercent(2.5, 3.0, 3.6)).toBe(0);
  });
});

describe('every decoder is total', () => {
  const junk = ['', '\u0000\u00ff', 'null', '[]', '42', '{}', '{"status":null}', '{"intervals":[null]}', '{"payload":{"AlarmInfoPlate":7}}'];
  for (const def of deviceKinds) {
    for (const decoder of def.decoders) {
      it(`${def.kind}/${decoder.format} answers junk with a result, never a throw`, () => {
        for (const text of junk) {
          const result = decoder.decode(Buffer.from(text, 'latin1'), ctx);
          expect(typeof result.ok, JSON.stringify(text)).toBe('boolean');
        }
      });
    }
  }
});
