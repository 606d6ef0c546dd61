// 臻识 Vzenith LPR camera `AlarmInfoPlate`: mirrors devices/smart-gate/decoders/vzenith.ts. The HTTP push body
// (http://note.szymzh.com/docs/ym/ym-1fe4gk0ghhjsh) by default; the vzicloud MQTT `ivs_result` envelope with a
// base64 `license` and `imagePath` (https://open.vzicloud.com/doc/mqtt/车牌识别/订阅识别结果.html) with
// `{ wrapping: 'envelope' }`; heartbeats as `{"heartbeat":{countid, serialno, timeStamp}}`.
// The push does not say which way the car went: `channel` is reserved and sent as 0, as in both vendor samples,
// and the service takes the direction from the camera's lane (ctx.lane). A direction the lane does not give (no
// lane known, or the other way) goes in a top-level "direction", as a relay that knows better would add it.
import { compact, EncodeError, json, tsMs, type Encoder } from '../types.js';

/** szymzh colorType: 1 blue, 2 yellow, 3 white, 4 black, 5 green (0 unknown). */
const COLOR_TYPES: Record<string, number> = { blue: 1, yellow: 2, white: 3, black: 4, green: 5 };
/** szymzh plate `type`: 1 blue small car; 19 new-energy (green) small car. */
const DEFAULT_PLATE_TYPE: Record<string, number> = { green: 19 };

function timeval(ms: number | undefined): { Timeval: { sec: number; usec: number } } | undefined {
  if (ms === undefined) return undefined;
  return { Timeval: { sec: Math.floor(ms / 1000), usec: (ms % 1000) * 1000 } };
}

/** A serial number in the camera's "xxxxxxxx-xxxxxxxx" style, stable per device id. */
export function serialFor(deviceId: string): string {
  let h1 = 2166136261;
  let h2 = 5381;
  for (let i = 0; i < deviceId.length; i++) {
    h1 = Math.imul(h1 ^ deviceId.charCodeAt(i), 16777619) >>> 0;
    h2 = (Math.imul(h2, 33) + deviceId.charCodeAt(i)) >>> 0;
  }
  return `${h1.toString(16).padStart(8, '0')}-${h2.toString(16).padStart(8, '0')}`;
}

/** The camera's snapshot path: picture/{channel}/{serial}/{yyyymmdd}/{hh}/{yyyymmdd_hhmmss_mmm}.jpg (China time). */
export function imagePathFor(channel: number, serial: string, ms: number): string {
  const d = new Date(ms + 8 * 3_600_000).toISOString();
  const day = d.slice(0, 10).replace(/-/g, '');
  const hh = d.slice(11, 13);
  return `picture/${channel}/${serial}/${day}/${hh}/${day}_${d.slice(11, 19).replace(/:/g, '')}_${d.slice(20, 23)}.jpg`;
}

export const encoder: Encoder = {
  kind: 'smart-gate',
  format: 'vzenith',
  carriesTime: true,
  // The push has no lane name, signal or battery fields.
  lostFields: () => ['lane', 'rssi', 'batteryPct'],
  encode(p, ctx) {
    const ms = tsMs(p.ts);
    const serial = typeof p.serialNo === 'string' ? p.serialNo : serialFor(ctx.deviceId);
    if (p.type === 'heartbeat') return json({ heartbeat: compact({ countid: ctx.seq, serialno: serial, timeStamp: timeval(ms) }) });
    if (p.type !== 'plate') throw new EncodeError(`Vzenith has no message for '${p.type}'`);
    if (typeof p.plate !== 'string') throw new EncodeError('a Vzenith plate result needs the plate');
    const direction = typeof p.direction === 'string' ? p.direction : undefined;
    const channel = typeof p.channel === 'number' ? p.channel : 0; // reserved (szymzh HTTP push)
    const envelope = ctx.options?.wrapping === 'envelope';
    const color = typeof p.plateColor === 'string' ? p.plateColor : undefined;
    const imagePath = typeof p.imageUrl === 'string' ? p.imageUrl : undefined;
    const alarm = {
      AlarmInfoPlate: {
        channel,
        serialno: serial,
        result: {
          PlateResult: compact({
            license: envelope ? Buffer.from(p.plate, 'utf8').toString('base64') : p.plate,
            colorType: color ? (COLOR_TYPES[color] ?? 0) : 0,
            confidence: p.confidence,
            type: typeof p.plateType === 'number' ? p.plateType : (DEFAULT_PLATE_TYPE[color ?? ''] ?? 1),
            plateid: typeof p.plateid === 'number' ? p.plateid : ctx.seq,
            isoffline: p.offline === true ? 1 : 0,
            imagePath: imagePath && envelope ? Buffer.from(imagePath, 'utf8').toString('base64') : imagePath,
            timeStamp: timeval(ms),
          }),
        },
      },
    };
    const relayed = direction !== undefined && direction !== ctx.lane?.direction ? { direction } : {};
    if (!envelope) return json({ ...relayed, ...alarm });
    return json({
      ...relayed,
      id: `${serial.slice(0, 8)}${ctx.seq.toString(36).padStart(8, '0')}`,
      sn: serial,
      name: 'ivs_result',
      version: '1.0',
      timestamp: ms === undefined ? undefined : Math.floor(ms / 1000),
      payload: alarm,
    });
  },
};
