// Milesight GS524N LoRaWAN smoke detector: the raw 6-byte uplink (or its hex text with `{ hexText: true }`).
// Mirrors devices/smoke-detector/decoders/milesight-gs524n.ts; layout from Milesight-IoT/SensorDecoders
// GS_Series/GS524N/README.md (bytes 1-based):
//   1 firmware version << 4 | protocol version 2    2 sensor type 1 (smoke) << 4 | message type
//   3 battery %    4 smoke concentration %    5 temperature °C (int8)    6 check byte: bytes 1…6 sum to 0 mod 256
// The frame has no time field, so `ts` is not sent (the service stamps it on receipt).
import { EncodeError, type Encoder } from '../types.js';

const PROTOCOL_VERSION = 2;
const SMOKE_SENSOR = 1;

/** Canonical type → GS524N message type. `alarm_cleared` has no code of its own: the detector says "normal". */
const CODES: Record<string, number> = {
  alarm: 0x1,
  silenced: 0x2,
  low_battery: 0x4,
  fault: 0x5,
  heartbeat: 0x7,
  alarm_cleared: 0x7,
  tamper: 0xa,
  test: 0xe,
};

function byte(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : fallback;
  return Math.min(max, Math.max(min, n));
}

export const encoder: Encoder = {
  kind: 'smoke-detector',
  format: 'milesight-gs524n',
  carriesTime: false,
  lostFields: () => ['ts', 'rssi'],
  typeAs: { alarm_cleared: 'heartbeat' },
  encode(p, ctx) {
    let code = CODES[p.type];
    if (code === undefined) throw new EncodeError(`GS524N has no message type for '${p.type}'`);
    if (p.type === 'heartbeat' && p.event === 'installed') code = 0xb;
    if (p.type === 'test' && (p.lowBattery === true || p.event === 'testing alarm with low battery')) code = 0xf;
    const firmware = byte(p.firmwareVersion, 2, 0, 15);
    const frame = Buffer.from([
      (firmware << 4) | PROTOCOL_VERSION,
      (SMOKE_SENSOR << 4) | code,
      byte(p.batteryPct, 100, 0, 100),
      byte(p.smokePct, p.type === 'alarm' ? 30 : 0, 0, 100),
      byte(p.temperatureC, 22, -128, 127) & 0xff,
      0,
    ]);
    frame[5] = (0x100 - (frame.subarray(0, 5).reduce((sum, b) => sum + b, 0) & 0xff)) & 0xff;
    // An alarm the decoder flagged for its check byte is sent with a wrong one (the decoder accepts only alarms so).
    if (p.checksumOk === false) frame[5] ^= 0xff;
    return ctx.options?.hexText ? Buffer.from(frame.toString('hex').toUpperCase(), 'latin1') : frame;
  },
};
