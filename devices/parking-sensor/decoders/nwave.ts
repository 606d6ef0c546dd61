// Nwave NPS405 parking sensor, as JSON from the LoRaWAN network server's integration (DOMAIN.md §3). The field
// names and meanings are those of the TTN device-repository codec, TheThingsNetwork/lorawan-devices
// vendor/nwave/nps405.js and nps405-codec.yaml:
//   port 1 parking_status: occupied, previous_state_duration (minutes; compressed, 660 = overflow)
//   port 2 heartbeat: occupied, hw_health_status, battery_voltage (V), temperature (°C)
//   port 3 startup: firmware_version, reset_cause, occupied
// Accepted shapes (README.md): the message under its own name, with optional envelope fields
//   {"devEui":"…","ts":"…","rssi":-101,"port":1,"parking_status":{"occupied":true,"previous_state_duration":12}}
// or the codec's flat output {"type":"parking_status","occupied":true,"previous_state_duration":12}.
import { voltsToPercent } from '../../shared/battery.js';
import { badTimestamp, defineDecoder, fail, ok } from '../../shared/decoder.js';
import { toNumber } from '../../shared/encoding.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { toCanonicalTs } from '../../shared/time.js';

const PORTS = { parking_status: 1, heartbeat: 2, startup: 3 } as const;
type MessageName = keyof typeof PORTS;

// nps405.js: battery is low below 3.0 V and critical below 2.9 V (each 0.1 V lower under −5 °C). Percent is a
// straight line from critical (0 %) to a fresh 3.6 V lithium cell (100 %).
const BATTERY_EMPTY_V = 2.9;
const BATTERY_FULL_V = 3.6;

function batteryHealth(volts: number, temperatureC: number | undefined): string {
  const cold = temperatureC !== undefined && temperatureC < -5 ? 0.1 : 0;
  if (volts >= 3.0 - cold) return 'normal';
  return volts >= 2.9 - cold ? 'low' : 'critical';
}

/** Which message this is and its fields, from either accepted shape. */
function messageOf(body: JsonObject): { name: MessageName; fields: JsonObject } | string {
  const nested = (Object.keys(PORTS) as MessageName[]).filter((name) => isObject(body[name]));
  if (nested.length > 1) return `more than one Nwave message in payload: ${nested.join(', ')}`;
  const name = nested[0] ?? (typeof body.type === 'string' && body.type in PORTS ? (body.type as MessageName) : undefined);
  if (!name) return 'no Nwave message (parking_status, heartbeat or startup) in payload';
  if (body.port !== undefined && body.port !== PORTS[name]) return `Nwave ${name} comes on port ${PORTS[name]}, not ${String(body.port)}`;
  return { name, fields: nested[0] ? (body[name] as JsonObject) : body };
}

export const decoder = defineDecoder({
  format: 'nwave',
  description: 'Nwave NPS405 parking sensor, network-server JSON (TTN lorawan-devices vendor/nwave/nps405.js)',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const body = parsed.value;
    const message = messageOf(body);
    if (typeof message === 'string') return fail(message);
    const f = message.fields;
    const ts = toCanonicalTs(body.ts);
    if (body.ts !== undefined && ts === undefined) return badTimestamp(body.ts);
    const common = { ts, rssi: toNumber(body.rssi), devEui: body.devEui, occupied: f.occupied };

    if (message.name === 'parking_status') {
      return ok({
        type: 'state',
        ...common,
        previousStateMinutes: toNumber(f.previous_state_duration),
        previousStateOverflow: f.previous_state_duration_overflow === true ? true : undefined,
      });
    }
    if (message.name === 'heartbeat') {
      const volts = toNumber(f.battery_voltage);
      const temperatureC = toNumber(f.temperature);
      return ok({
        type: 'heartbeat',
        ...common,
        hwHealthStatus: f.hw_health_status,
        batteryPct: volts === undefined ? undefined : voltsToPercent(volts, BATTERY_EMPTY_V, BATTERY_FULL_V),
        batteryV: volts,
        batteryHealth: volts === undefined ? undefined : batteryHealth(volts, temperatureC),
        temperatureC,
      });
    }
    // A startup (reboot, rejoin) says the sensor is alive; keep why it restarted.
    return ok({ type: 'heartbeat', event: 'startup', ...common, firmwareVersion: f.firmware_version, resetCause: f.reset_cause });
  },
});
