// Nwave NPS405 parking sensor: mirrors devices/parking-sensor/decoders/nwave.ts. Two wrappings:
// - network-server JSON with the field names of the TTN device-repository codec (TheThingsNetwork/lorawan-devices
//   vendor/nwave/nps405.js): port 1 parking_status {occupied, previous_state_duration}, port 2 heartbeat
//   {occupied, hw_health_status, battery_voltage, temperature}, port 3 startup {firmware_version, reset_cause,
//   occupied}, under the envelope fields devEui, ts, rssi and port (the default);
// - a The Things Stack v3 uplink message carrying the frame itself in frm_payload (base64), as a TTS webhook posts
//   it, with `{ wrapping: 'tts' }` or when the payload has TTS-only fields (fCnt, snr).
// The frame layout is the codec's: byte 0 bit 0 occupied, bits 1–7 the duration (port 1) or hardware health
// (port 2); the codec's hw_health_status is byte 0 & 0x7F, occupancy bit included.
import { compact, EncodeError, json, percentToVolts, tsMs, type Encoder, type CanonicalPayload, type EncodeContext } from '../types.js';

// The decoder's line for percent: 2.9 V (critical, nps405.js) = 0 %, 3.6 V (fresh lithium cell) = 100 %.
const BATTERY_EMPTY_V = 2.9;
const BATTERY_FULL_V = 3.6;
const RESET_CAUSES = ['rejoining_lorawan_network', 'watchdog', 'power_on', 'user_request', undefined, undefined, 'brownout', 'other'];

/** A stable LoRaWAN DevEUI for a device id (70B3D5E05 is Nwave's OUI-36 prefix in the codec's examples). */
export function devEuiFor(deviceId: string): string {
  let h = 2166136261;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 16777619) >>> 0;
  return `70B3D5E05${(h & 0xfffffff).toString(16).toUpperCase().padStart(7, '0')}`;
}

/** The codec's compressed minutes (the inverse of its calculatePreviousState, to its step). */
function compressMinutes(minutes: number, overflow: boolean): number {
  if (overflow || minutes >= 660) return 127;
  if (minutes < 90) return Math.max(0, Math.round(minutes));
  if (minutes < 240) return Math.min(119, 90 + Math.round((minutes - 90) / 5));
  return Math.min(126, 120 + Math.round((minutes - 240) / 60));
}

function voltsOf(p: CanonicalPayload): number | undefined {
  if (typeof p.batteryV === 'number') return p.batteryV;
  return typeof p.batteryPct === 'number' ? percentToVolts(p.batteryPct, BATTERY_EMPTY_V, BATTERY_FULL_V) : undefined;
}

const bit0 = (occupied: unknown) => (occupied === true ? 1 : 0);
const health = (p: CanonicalPayload) => (typeof p.hwHealthStatus === 'number' ? p.hwHealthStatus & 0x7f : 0);

/** The LoRaWAN frame and its port, as the sensor sends it. */
function frame(p: CanonicalPayload): { port: number; bytes: number[] } {
  if (p.type === 'state') {
    const minutes = typeof p.previousStateMinutes === 'number' ? p.previousStateMinutes : 0;
    return { port: 1, bytes: [bit0(p.occupied) | (compressMinutes(minutes, p.previousStateOverflow === true) << 1)] };
  }
  if (p.event === 'startup') {
    const [major, minor, patch] = String(p.firmwareVersion ?? '0.0.0').split('.').map((n) => Number(n) & 0xff);
    const cause = RESET_CAUSES.indexOf(typeof p.resetCause === 'string' ? p.resetCause : 'other');
    return { port: 3, bytes: [major, minor, patch, cause < 0 ? 7 : cause, bit0(p.occupied)] };
  }
  const volts = voltsOf(p) ?? 3.6;
  const temperature = typeof p.temperatureC === 'number' ? p.temperatureC : 20;
  return {
    port: 2,
    bytes: [
      bit0(p.occupied) | (health(p) << 1),
      Math.min(255, Math.max(0, Math.round((volts * 1000 - 2500) / 4))),
      Math.round((temperature - 10) * 2) & 0xff,
    ],
  };
}

/** A The Things Stack v3 uplink message (https://www.thethingsindustries.com/docs/integrations/data-formats/). */
function ttsUplink(p: CanonicalPayload, ctx: EncodeContext): Buffer {
  const { port, bytes } = frame(p);
  const ms = tsMs(p.ts);
  const receivedAt = typeof p.ts === 'string' ? p.ts : ms === undefined ? undefined : new Date(ms).toISOString();
  const devEui = typeof p.devEui === 'string' ? p.devEui : devEuiFor(ctx.deviceId);
  return json(
    compact({
      end_device_ids: { device_id: ctx.deviceId, application_ids: { application_id: 'shaobing-sim' }, dev_eui: devEui },
      received_at: receivedAt,
      uplink_message: compact({
        f_port: port,
        f_cnt: typeof p.fCnt === 'number' && p.fCnt > 0 ? p.fCnt : undefined, // TTS leaves out zero fields
        frm_payload: Buffer.from(bytes).toString('base64'),
        rx_metadata:
          p.rssi === undefined ? undefined : [compact({ gateway_ids: { gateway_id: 'sim-gw-1' }, rssi: p.rssi, channel_rssi: p.rssi, snr: p.snr })],
        received_at: receivedAt,
      }),
    }),
  );
}

export const encoder: Encoder = {
  kind: 'parking-sensor',
  format: 'nwave',
  carriesTime: true,
  // Port 1 (parking_status) carries no battery; port 2 (heartbeat) carries it as volts.
  lostFields: (p) => (p.type === 'state' ? ['batteryPct', 'temperatureC'] : []),
  encode(p, ctx) {
    if (p.type !== 'state' && p.type !== 'heartbeat') throw new EncodeError(`Nwave has no message for '${p.type}'`);
    if (p.type === 'state' && typeof p.occupied !== 'boolean') throw new EncodeError('Nwave parking_status needs occupied');
    if (ctx.options?.wrapping === 'tts' || p.fCnt !== undefined || p.snr !== undefined) return ttsUplink(p, ctx);
    const envelope = { devEui: p.devEui, ts: p.ts, rssi: p.rssi };
    if (p.type === 'state') {
      return json(
        compact({
          ...envelope,
          port: 1,
          parking_status: compact({
            occupied: p.occupied,
            previous_state_duration: p.previousStateMinutes,
            previous_state_duration_overflow: p.previousStateOverflow === true ? true : undefined,
          }),
        }),
      );
    }
    if (p.event === 'startup') {
      return json(compact({ ...envelope, port: 3, startup: compact({ firmware_version: p.firmwareVersion, reset_cause: p.resetCause, occupied: p.occupied }) }));
    }
    // As nps405.js outputs it: byte 0 & 0x7F, so the occupancy bit is in hw_health_status.
    const hwHealthStatus = ((health(p) << 1) | bit0(p.occupied)) & 0x7f;
    return json(
      compact({
        ...envelope,
        port: 2,
        heartbeat: compact({ occupied: p.occupied, hw_health_status: hwHealthStatus, battery_voltage: voltsOf(p), temperature: p.temperatureC }),
      }),
    );
  },
};
