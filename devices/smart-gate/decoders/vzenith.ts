// 臻识 Vzenith LPR camera plate result (DOMAIN.md §4), in two wrappings:
// - HTTP push {"AlarmInfoPlate":{channel, serialno, result:{PlateResult:{license, colorType, confidence, type,
//   plateid, isoffline, imagePath, timeStamp:{Timeval:{sec, usec}}}}}} — http://note.szymzh.com/docs/ym/ym-1fe4gk0ghhjsh
// - the vzicloud MQTT envelope {id, sn, name:"ivs_result", version, timestamp, payload:{AlarmInfoPlate…}}, where
//   `license` is base64 ("6LWjR1o3UzEz" = 赣GZ7S13) — https://open.vzicloud.com/doc/mqtt/车牌识别/订阅识别结果.html
// and a heartbeat {"heartbeat":{…}} / {"Heartbeat":{…}} (shape not verified against a vendor document; any
// object under that key is taken as "alive").
// The camera does not know whether its lane is an entry or an exit: the push's `direction` is the car's motion in
// the picture (0 unknown, 1 left, 2 right, 3 up, 4 down), and `channel` is documented as reserved — both vendor
// samples carry 0, whatever the lane. So `direction` comes from configuration: the lane of the gate the camera
// watches (inventory parkingLots[].gates[].lanes[], passed in as ctx.lane), unless the body carries a top-level
// "direction":"in"|"out" (added by a relay that knows better), which wins. Neither → decode_failed, saying so.
import { defineDecoder, fail, ok } from '../../shared/decoder.js';
import { base64ToText, toNumber } from '../../shared/encoding.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { epochSecondsToMs } from '../../shared/time.js';

/** colorType (szymzh): 0 unknown, 1 blue, 2 yellow, 3 white, 4 black, 5 green. Unknown → field omitted. */
const PLATE_COLORS: Record<number, string> = { 1: 'blue', 2: 'yellow', 3: 'white', 4: 'black', 5: 'green' };

/** `timeStamp.Timeval.{sec,usec}` → epoch ms, or undefined. */
function timevalMs(holder: unknown): number | undefined {
  const tv = isObject(holder) && isObject(holder.timeStamp) ? holder.timeStamp.Timeval : undefined;
  const sec = isObject(tv) ? toNumber(tv.sec) : undefined;
  return isObject(tv) && sec !== undefined && sec > 0 ? epochSecondsToMs(sec, toNumber(tv.usec) ?? 0) : undefined;
}

/** The plate text: as is from the HTTP push; base64-decoded from the MQTT envelope (undefined if it is not base64 text). */
export function decodeLicense(license: unknown, base64: boolean): string | undefined {
  if (typeof license !== 'string') return undefined;
  return base64 ? base64ToText(license) : license;
}

export const decoder = defineDecoder({
  format: 'vzenith',
  description: '臻识 Vzenith LPR camera AlarmInfoPlate: HTTP push JSON or vzicloud MQTT ivs_result envelope (base64 license)',
  decode(raw, ctx) {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return fail(parsed.message);
    const body = parsed.value;

    const heartbeat = body.heartbeat ?? body.Heartbeat;
    if (isObject(heartbeat)) {
      return ok({ type: 'heartbeat', ts: timevalMs(heartbeat), serialNo: heartbeat.serialno });
    }

    const envelope = isObject(body.payload) ? body : undefined;
    const alarm: unknown = (envelope ? (body.payload as JsonObject) : body).AlarmInfoPlate;
    if (!isObject(alarm)) return fail('no AlarmInfoPlate in payload');
    const result = isObject(alarm.result) ? alarm.result.PlateResult : undefined;
    if (!isObject(result)) return fail('no AlarmInfoPlate.result.PlateResult in payload');

    const plate = decodeLicense(result.license, envelope !== undefined);
    if (envelope && typeof result.license === 'string' && plate === undefined) {
      return fail('envelope license is not base64 text');
    }
    const direction = body.direction === 'in' || body.direction === 'out' ? body.direction : ctx.lane?.direction;
    if (!direction) {
      return fail(
        `which way did the car go? camera '${ctx.deviceId}' watches no configured lane (inventory parkingLots[].gates[].lanes[].cameras); Vzenith's channel is reserved and says nothing`,
      );
    }
    const channel = toNumber(alarm.channel);
    const imagePath = typeof result.imagePath === 'string' && result.imagePath !== '' ? result.imagePath : undefined;
    const envelopeSec = envelope ? toNumber(envelope.timestamp) : undefined;
    return ok({
      type: 'plate',
      ts: timevalMs(result) ?? (envelopeSec ? epochSecondsToMs(envelopeSec) : undefined),
      plate,
      direction,
      lane: ctx.lane?.name,
      plateColor: PLATE_COLORS[toNumber(result.colorType) ?? 0],
      confidence: toNumber(result.confidence),
      // vzicloud says its image paths are base64 cloud-storage paths; decode only when it really is base64 text.
      imageUrl: imagePath && envelope ? (base64ToText(imagePath) ?? imagePath) : imagePath,
      plateid: result.plateid, // the camera's record id: dedupe replays of its offline backlog by it (DOMAIN.md §4)
      plateType: result.type,
      offline: result.isoffline === 1 ? true : undefined,
      channel,
      serialNo: alarm.serialno ?? envelope?.sn,
    });
  },
});
