// Hikvision ISAPI EventNotificationAlert as a camera's HTTP listening push (devices/ai-camera/decoders/
// hikvision-isapi.ts run backwards): the XML document, or multipart/form-data with the XML part and JPEG picture
// parts when the payload has a snapshot (`snapshotBytes`, `pictures`). fire_smoke → fireDetection (or the payload's
// own `event`), an e-bike → fielddetection with a non-motor-vehicle target, heartbeat → videoloss, inactive.
// Thrown objects and garbage have no Hikvision event the decoder maps: encoding them throws.
import { EncodeError, tsMs, type Encoder } from '../types.js';
import { snapshotOf } from './snapshot.js';

const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
const iso = (ms: number) => {
  const d = new Date(ms + 8 * 3_600_000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
};

export const encoder: Encoder = {
  kind: 'ai-camera',
  format: 'hikvision-isapi',
  carriesTime: true,
  // Without the camera's area (a lift or not) an e-bike event decodes as ebike_indoor.
  typeAs: { ebike_in_lift: 'ebike_indoor' },
  lostFields: (p) => Object.keys(p).filter((k) => ['confidence', 'rssi', 'batteryPct'].includes(k)),
  encode(p, ctx) {
    const t = String(p.type);
    const eventType =
      typeof p.event === 'string'
        ? p.event
        : t === 'fire_smoke'
          ? 'fireDetection'
          : t === 'ebike_in_lift' || t === 'ebike_indoor'
            ? 'fielddetection'
            : t === 'heartbeat'
              ? 'videoloss'
              : undefined;
    if (!eventType) throw new EncodeError(`Hikvision ISAPI has no event for '${t}' that shaobing maps (devices/ai-camera/README.md)`);
    const ms = tsMs(p.ts);
    const regions = typeof p.region === 'string' ? p.region.split(',') : t.startsWith('ebike') ? ['1'] : [];
    const entries = regions.map((id) => {
      const target = t.startsWith('ebike') ? '<detectionTarget>nonMotorVehicle</detectionTarget>' : '';
      const fire = typeof p.temperatureC === 'number' ? `<FireDetection><temperatureUnit>celsius</temperatureUnit><fireMaxTemperature>${p.temperatureC}</fireMaxTemperature></FireDetection>` : '';
      return `<DetectionRegionEntry><regionID>${esc(id)}</regionID>${target}${fire}</DetectionRegionEntry>`;
    });
    const xml = [
      '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">',
      p.mac ? `<macAddress>${esc(String(p.mac))}</macAddress>` : '',
      p.channelId !== undefined ? `<channelID>${p.channelId}</channelID>` : '',
      ms !== undefined ? `<dateTime>${typeof p.ts === 'string' ? esc(p.ts) : iso(ms)}</dateTime>` : '',
      `<activePostCount>${typeof p.eventCount === 'number' ? p.eventCount : 0}</activePostCount>`,
      `<eventType>${esc(eventType)}</eventType>`,
      `<eventState>${t === 'heartbeat' ? 'inactive' : 'active'}</eventState>`,
      `<eventDescription>${esc(eventType)} alarm</eventDescription>`,
      entries.length ? `<DetectionRegionList>${entries.join('')}</DetectionRegionList>` : '',
      p.channelName ? `<channelName>${esc(String(p.channelName))}</channelName>` : '',
      '</EventNotificationAlert>',
    ].join('');
    if (typeof p.snapshotBytes !== 'number') return Buffer.from(xml);
    const x = Buffer.from(xml);
    const parts: Buffer[] = [Buffer.from(`--boundary\r\nContent-Disposition: form-data; name="${eventType}"\r\nContent-Type: application/xml; charset="UTF-8"\r\nContent-Length: ${x.length}\r\n\r\n`), x];
    const n = typeof p.pictures === 'number' ? p.pictures : 1;
    for (let i = 0; i < n; i++) {
      const pic = snapshotOf(p.snapshotBytes + (i ? 0 : 0));
      parts.push(Buffer.from(`\r\n--boundary\r\nContent-Disposition: form-data; name="${eventType}"; filename="${eventType}.jpg";\r\nContent-Type: image/jpeg\r\nContent-Length: ${pic.length}\r\n\r\n`), pic);
    }
    parts.push(Buffer.from('\r\n--boundary--\r\n'));
    void ctx;
    return Buffer.concat(parts);
  },
};
