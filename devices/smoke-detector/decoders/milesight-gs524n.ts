// Milesight GS524N LoRaWAN smoke detector: the raw 6-byte uplink, as bytes or as hex text ("221E64001C40").
// Layout, event codes and checksum from Milesight-IoT/SensorDecoders GS_Series/GS524N/README.md and
// GS524N_Decoder.js (cited in DOMAIN.md §2). README byte numbers are 1-based:
//   byte 1  high nibble firmware version, low nibble protocol version      0x22 → 2, 2
//   byte 2  high nibble sensor type (1 = smoke), low nibble message type   0x1E → 1, 14
//   byte 3  battery, %          byte 4  smoke concentration, %
//   byte 5  temperature, °C, signed (int8; rated −20…70)
//   byte 6  check byte: byte 1 + … + byte 6 = 0x00 (mod 256)
// The README sample 221E64001C40 → battery 100, concentration 0, temperature 28, "testing alarm with normal
// battery" checks out: 0x22 + 0x1E + 0x64 + 0x00 + 0x1C + 0x40 = 0x100.
//
// A bad check byte. Milesight's own decoder (gs-series/gs524n/gs524n-decoder.js) never looks at byte 6, so a
// frame it decodes we could drop. We reject such frames (decode_failed, kept and counted) except a smoke alarm
// (message type 1 of sensor type 1): that one is accepted as an alarm flagged `checksumOk: false`. A LoRaWAN
// frame is already guarded end to end by the radio CRC and the MIC, so a sum that does not check out points at
// firmware or a relay, not at a flipped bit; and a false fire alarm costs a person a look, a dropped real one can
// cost a life. Every other bad frame is refused loudly, so a device whose sums are off is seen on its
// rejections long before its first fire.
import { defineDecoder, fail, ok } from '../../shared/decoder.js';
import { hexTextToBytes } from '../../shared/encoding.js';

const FRAME_BYTES = 6;
const SMOKE_SENSOR = 1;
/** Byte 2 of a smoke alarm: sensor type 1, message type 1. */
const SMOKE_ALARM = (SMOKE_SENSOR << 4) | 0x1;

/** Message type (byte 2, low nibble) → canonical type; `event` keeps Milesight's own name. */
const EVENTS: Record<number, { type: string; event: string }> = {
  0x1: { type: 'alarm', event: 'alarm' },
  0x2: { type: 'silenced', event: 'silent' },
  0x4: { type: 'low_battery', event: 'low battery' },
  0x5: { type: 'fault', event: 'failover' },
  0x7: { type: 'heartbeat', event: 'normal' },
  0xa: { type: 'tamper', event: 'removed' },
  0xb: { type: 'heartbeat', event: 'installed' },
  0xe: { type: 'test', event: 'testing alarm with normal battery' },
  0xf: { type: 'test', event: 'testing alarm with low battery' },
};

/** The sum of all bytes, mod 256; a good GS524N frame sums to 0. */
export function checksum(bytes: Uint8Array): number {
  return bytes.reduce((sum, b) => (sum + b) & 0xff, 0);
}

export const decoder = defineDecoder({
  format: 'milesight-gs524n',
  description: 'Milesight GS524N LoRaWAN smoke detector, raw 6-byte uplink or its hex text (Milesight-IoT/SensorDecoders GS524N)',
  decode(raw) {
    // A 6-byte payload is the binary frame; 12 hex characters is the same frame as text.
    const bytes = raw.length === FRAME_BYTES ? raw : hexTextToBytes(raw);
    if (!bytes) return fail('not a GS524N frame: neither 6 raw bytes nor hex text');
    if (bytes.length !== FRAME_BYTES) return fail(`GS524N frame is ${FRAME_BYTES} bytes, got ${bytes.length}`);
    const checksumOk = checksum(bytes) === 0;
    if (!checksumOk && bytes[1] !== SMOKE_ALARM) return fail(`GS524N checksum mismatch (byte sum 0x${checksum(bytes).toString(16)})`);
    if (bytes[1] >> 4 !== SMOKE_SENSOR) return fail(`GS524N sensor type ${bytes[1] >> 4} is not a smoke sensor`);
    const event = EVENTS[bytes[1] & 0x0f];
    if (!event) return fail(`unknown GS524N message type ${bytes[1] & 0x0f}`);
    return ok({
      type: event.type,
      event: event.event,
      lowBattery: (bytes[1] & 0x0f) === 0xf ? true : undefined,
      batteryPct: bytes[2],
      smokePct: bytes[3],
      temperatureC: (bytes[4] << 24) >> 24, // int8
      firmwareVersion: bytes[0] >> 4,
      checksumOk: checksumOk ? undefined : false,
    });
  },
});
