// Nwave NPS405 parking sensor (DOMAIN.md §3). Frame layout and field names are those of the TTN device-repository
// codec, TheThingsNetwork/lorawan-devices vendor/nwave/nps405.js, checked against the examples in nps405-codec.yaml:
//   port 1 parking_status: byte 0 bit 0 occupied, bits 1–7 previous_state_duration (compressed minutes)
//     (0x95 → occupied, 74 min)
//   port 2 heartbeat: byte 0 bit 0 occupied; byte 1 battery 2.5 V + 4 mV·b; byte 2 temperature int8 / 2 + 10 °C
//     ([00 D3 D8 00 59 0B] → 3.344 V, −10 °C)
//   port 3 startup: bytes 0–2 firmware version, byte 3 reset cause, byte 4 bit 0 occupied
// The codec's `hw_health_status = bytes[0] & 0x7F` keeps bit 0, which is the occupancy bit, so every heartbeat of
// an occupied space would read as a hardware fault. The health bits are byte 0 without bit 0: we decode
// `hwHealthStatus` as byte0 >> 1 from the bytes, and as the codec's hw_health_status >> 1 from its output (the
// codec drops bit 7, so that one is lost there).
//
// Accepted bodies (README.md):
//   - a The Things Stack v3 uplink (webhook or MQTT integration): {"end_device_ids":{…,"dev_eui":…},
//     "received_at":…,"uplink_message":{"f_port":2,"frm_payload":"<base64>","decoded_payload":{…},
//     "rx_metadata":[{"rssi":…,"snr":…}],"received_at":…}} — https://www.thethingsindustries.com/docs/integrations/data-formats/
//     The bytes are decoded here when present; the decoded_payload (the codec's output) is the fallback.
//   - the message under its own name, with optional envelope fields
//     {"devEui":"…","ts":"…","rssi":-101,"port":1,"parking_status":{"occupied":true,"previous_state_duration":12}}
//   - the codec's flat output {"type":"parking_status","occupied":true,"previous_state_duration":12}.
import { voltsToPercent } from '../../shared/battery.js';
import { badTimestamp, defineDecoder, fail, ok } from '../../shared/decoder.js';
import { base64ToBytes, toNumber } from '../../shared/encoding.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { toCanonicalTs } from '../../shared/time.js';

const PORTS = { parking_status: 1, heartbeat: 2, startup: 3 } as const;
type MessageName = keyof typeof PORTS;
const NAME_BY_PORT: Record<number, MessageName> = { 1: 'parking_status', 2: 'heartbeat', 3: 'startup' };
/** nps405.js reset causes by byte 3 of a startup frame (4 and 5 unused). */
const RESET_CAUSES = ['rejoining_lorawan_network', 'watchdog', 'power_on', 'user_request', undefined, undefined, 'brownout', 'other'];

// nps405.js: battery is low below 3.0 V and critical below 2.9 V (each 0.1 V lower under −5 °C). Percent is a
// straight line from critical (0 %) to a fresh 3.6 V lithium cell (100 %).
const BATTERY_EMPTY_V = 2.9;
const BATTERY_FULL_V = 3.6;

function batteryHealth(volts: number, temperatureC: number | undefined): string {
  const cold = temperatureC !== undefined && temperatureC < -5 ? 0.1 : 0;
  if (volts >= 3.0 - cold) return 'normal';
  return volts >= 2.9 - cold ? 'low' : 'critical';
}

/** One NPS405 message in our own terms, from the bytes or from the codec's output. */
interface Message {
  name: MessageName;
  occupied: unknown;
  previousStateMinutes?: number;
  previousStateOverflow?: boolean;
  hwHealthStatus?: unknown;
  batteryV?: number;
  temperatureC?: number;
  firmwareVersion?: unknown;
  resetCause?: unknown;
}

/** nps405.js' compressed duration: minutes to 89, then 5-minute steps to 235, hour steps to 600, 127 = 660 or more. */
function previousState(compressed: number): { minutes: number; overflow?: true } {
  if (compressed < 90) return { minutes: compressed };
  if (compressed < 120) return { minutes: 90 + (compressed - 90) * 5 };
  if (compressed < 127) return { minutes: 240 + (compressed - 120) * 60 };
  return { minutes: 660, overflow: true };
}

/** The frame on its port, decoded as nps405.js lays it out; a string is the reason it cannot be. */
export function decodeFrame(port: number, bytes: Buffer): Message | string {
  const name = NAME_BY_PORT[port];
  if (!name) return `Nwave port ${port} is not a parking status, heartbeat or startup (1–3)`;
  const need = { parking_status: 1, heartbeat: 3, startup: 5 }[name];
  if (bytes.length < need) return `Nwave ${name} needs ${need} bytes, got ${bytes.length}`;
  const occupied = (bytes[0] & 0x01) === 1;
  if (name === 'parking_status') {
    const prev = previousState(bytes[0] >> 1);
    return { name, occupied, previousStateMinutes: prev.minutes, previousStateOverflow: prev.overflow };
  }
  if (name === 'heartbeat') {
    return {
      name,
      occupied,
      hwHealthStatus: bytes[0] >> 1,
      batteryV: (2500 + bytes[1] * 4) / 1000,
      temperatureC: ((bytes[2] << 24) >> 24) / 2 + 10,
    };
  }
  return {
    name,
    occupied: (bytes[4] & 0x01) === 1,
    firmwareVersion: `${bytes[0]}.${bytes[1]}.${bytes[2]}`,
    resetCause: RESET_CAUSES[bytes[3]] ?? `unknown_${bytes[3]}`,
  };
}

/** The codec's output for one message (nested under its name, or flat with `type`). */
function fromCodec(name: MessageName, f: JsonObject): Message {
  const health = toNumber(f.hw_health_status);
  return {
    name,
    occupied: f.occupied,
    previousStateMinutes: toNumber(f.previous_state_duration),
    previousStateOverflow: f.previous_state_duration_overflow === true ? true : undefined,
    // Bit 0 of the codec's value is the occupancy bit (see the top of this file), not health.
    hwHealthStatus: health === undefined ? f.hw_health_status : Math.trunc(health) >> 1,
    batteryV: toNumber(f.battery_voltage),
    temperatureC: toNumber(f.temperature),
    firmwareVersion: f.firmware_version,
    resetCause: f.reset_cause,
  };
}

/** Which codec message a body (or a decoded_payload) holds: nested under its name, or flat with `type`. */
function codecMessage(body: JsonObject, port: unknown): Message | string {
  const nested = (Object.keys(PORTS) as MessageName[]).filter((name) => isObject(body[name]));
  if (nested.length > 1) return `more than one Nwave message in payload: ${nested.join(', ')}`;
  const name = nested[0] ?? (typeof body.type === 'string' && body.type in PORTS ? (body.type as MessageName) : undefined);
  if (!name) return 'no Nwave message (parking_status, heartbeat or startup) in payload';
  if (port !== undefined && port !== PORTS[name]) return `Nwave ${name} comes on port ${PORTS[name]}, not ${String(port)}`;
  return fromCodec(name, nested[0] ? (body[name] as JsonObject) : body);
}

/** The best gateway's reception (highest RSSI) of a TTS uplink's rx_metadata. */
function bestReception(rx: unknown): { rssi?: number; snr?: number } {
  if (!Array.isArray(rx)) return {};
  let best: { rssi?: number; snr?: number } = {};
  for (const g of rx) {
    if (!isObject(g)) continue;
    const rssi = toNumber(g.rssi) ?? toNumber(g.channel_rssi);
    if (rssi !== undefined && (best.rssi === undefined || rssi > best.rssi)) best = { rssi, snr: toNumber(g.snr) };
  }
  return best;
}

type Envelope = { ts: unknown; rssi?: number; snr?: number; devEui?: unknown; fCnt?: unknown };

/** A The Things Stack v3 uplink message → the NPS405 message and its envelope. */
function ttsUplink(body: JsonObject): { message: Message; envelope: Envelope } | string {
  const up = body.uplink_message as JsonObject;
  const port = toNumber(up.f_port);
  const ids = isObject(body.end_device_ids) ? body.end_device_ids : {};
  const envelope: Envelope = { ts: up.received_at ?? body.received_at, ...bestReception(up.rx_metadata), devEui: ids.dev_eui, fCnt: up.f_cnt };
  if (up.frm_payload !== undefined) {
    const bytes = base64ToBytes(up.frm_payload);
    if (!bytes) return 'TTS frm_payload is not base64';
    if (port === undefined) return 'TTS uplink without f_port';
    const message = decodeFrame(port, bytes);
    return typeof message === 'string' ? message : { message, envelope };
  }
  if (isObject(up.decoded_payload)) {
    const message = codecMessage(up.decoded_payload, port);
    return typeof message === 'string' ? message : { message, envelope };
  }
  return 'TTS uplink_message has neither frm_payload nor decoded_payload';
}

export const decoder = defineDecoder({
  format: 'nwave',
  description: 'Nwave NPS405 parking sensor: The Things Stack v3 uplink or network-server JSON (TTN lorawan-devices vendor/nwave/nps405.js)',
  decode(raw) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const body = parsed.value;
    let message: Message;
    let envelope: Envelope;
    if (isObject(body.uplink_message)) {
      const tts = ttsUplink(body);
      if (typeof tts === 'string') return fail(tts);
      ({ message, envelope } = tts);
    } else {
      const m = codecMessage(body, body.port);
      if (typeof m === 'string') return fail(m);
      message = m;
      envelope = { ts: body.ts, rssi: toNumber(body.rssi), devEui: body.devEui };
    }
    const ts = toCanonicalTs(envelope.ts);
    if (envelope.ts !== undefined && ts === undefined) return badTimestamp(envelope.ts);
    const common = { ts, rssi: envelope.rssi, snr: envelope.snr, devEui: envelope.devEui, fCnt: envelope.fCnt, occupied: message.occupied };

    if (message.name === 'parking_status') {
      return ok({ type: 'state', ...common, previousStateMinutes: message.previousStateMinutes, previousStateOverflow: message.previousStateOverflow });
    }
    if (message.name === 'heartbeat') {
      const volts = message.batteryV;
      return ok({
        type: 'heartbeat',
        ...common,
        hwHealthStatus: message.hwHealthStatus,
        batteryPct: volts === undefined ? undefined : voltsToPercent(volts, BATTERY_EMPTY_V, BATTERY_FULL_V),
        batteryV: volts,
        batteryHealth: volts === undefined ? undefined : batteryHealth(volts, message.temperatureC),
        temperatureC: message.temperatureC,
      });
    }
    // A startup (reboot, rejoin) says the sensor is alive; keep why it restarted.
    return ok({ type: 'heartbeat', event: 'startup', ...common, firmwareVersion: message.firmwareVersion, resetCause: message.resetCause });
  },
});
