// Nwave NPS405 parking sensor as network-server JSON: mirrors devices/parking-sensor/decoders/nwave.ts, with the
// field names of the TTN device-repository codec (TheThingsNetwork/lorawan-devices vendor/nwave/nps405.js):
//   port 1 parking_status {occupied, previous_state_duration}   port 2 heartbeat {occupied, hw_health_status,
//   battery_voltage, temperature}   port 3 startup {firmware_version, reset_cause, occupied}
// under the envelope fields devEui, ts, rssi and port.
import { compact, EncodeError, json, percentToVolts, type Encoder } from '../types.js';

// The decoder's line for percent: 2.9 V (critical, nps405.js) = 0 %, 3.6 V (fresh lithium cell) = 100 %.
const BATTERY_EMPTY_V = 2.9;
const BATTERY_FULL_V = 3.6;

/** A stable LoRaWAN DevEUI for a device id (70B3D5E05 is Nwave's OUI-36 prefix in the codec's examples). */
export function devEuiFor(deviceId: string): string {
  let h = 2166136261;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 16777619) >>> 0;
  return `70B3D5E05${(h & 0xfffffff).toString(16).toUpperCase().padStart(7, '0')}`;
}

export const encoder: Encoder = {
  kind: 'parking-sensor',
  format: 'nwave',
  carriesTime: true,
  // Port 1 (parking_status) carries no battery; port 2 (heartbeat) carries it as volts.
  lostFields: (p) => (p.type === 'state' ? ['batteryPct', 'temperatureC'] : []),
  encode(p) {
    const envelope = { devEui: p.devEui, ts: p.ts, rssi: p.rssi };
    if (p.type === 'state') {
      if (typeof p.occupied !== 'boolean') throw new EncodeError('Nwave parking_status needs occupied');
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
    if (p.type !== 'heartbeat') throw new EncodeError(`Nwave has no message for '${p.type}'`);
    if (p.event === 'startup') {
      return json(compact({ ...envelope, port: 3, startup: compact({ firmware_version: p.firmwareVersion, reset_cause: p.resetCause, occupied: p.occupied }) }));
    }
    const volts =
      typeof p.batteryV === 'number' ? p.batteryV : typeof p.batteryPct === 'number' ? percentToVolts(p.batteryPct, BATTERY_EMPTY_V, BATTERY_FULL_V) : undefined;
    return json(
      compact({
        ...envelope,
        port: 2,
        heartbeat: compact({ occupied: p.occupied, hw_health_status: p.hwHealthStatus ?? 0, battery_voltage: volts, temperature: p.temperatureC }),
      }),
    );
  },
};
