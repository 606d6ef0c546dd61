// Hikvision ISAPI event notifications (EventNotificationAlert), as a camera pushes them to an "HTTP listening"
// host (/ISAPI/Event/notification/httpHosts): XML, its JSON form, or multipart/form-data with the XML (or JSON)
// part and JPEG picture parts. devices/ai-camera/README.md lists the documents and samples this follows.
import type { CanonicalPayload, DecodeContext, DecodeResult } from '../../../src/ingest/types.js';
import { defineDecoder, fail } from '../../shared/decoder.js';
import { isObject, parseJsonObject, type JsonObject } from '../../shared/json.js';
import { isMultipart, splitMultipart, type Part } from '../../shared/multipart.js';
import { child, descendants, parseXml, type XmlElement } from '../../shared/xml.js';

/** eventType values (compared case-insensitively) for fire and smoke: the thermal and AI camera manuals. */
const FIRE = new Set(['firedetection', 'smokedetection', 'smokeandfiredetection', 'fireandsmokedetection']);
/** Intrusion-type smart events (Device Network SDK "Behavior Analysis" guide, XML_EventTrigger remarks). */
const INTRUSION = new Set(['fielddetection', 'regionentrance', 'linedetection', 'regionexiting', 'loitering']);
/** detectionTarget values read as an e-bike (non-motor vehicle). Not confirmed from a published sample: see README. */
const EBIKE_TARGETS = new Set(['nonmotorvehicle', 'non_motor_vehicle', 'electricbicycle', 'electrombile', 'ebike', 'twowheelvehicle', 'bicycle']);
/** A place the camera watches that is a lift car (inventory `area`). */
const LIFT = /电梯|轿厢|\blift\b|elevator/i;

/** What an EventNotificationAlert says, whichever form it came in. */
interface Alert {
  eventType: string;
  eventState?: string;
  dateTime?: string;
  activePostCount?: number;
  channelId?: number;
  channelName?: string;
  mac?: string;
  targets: string[];
  regions: string[];
  fireMaxC?: number;
}

const int = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
};
const str = (v: unknown, max = 64): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);

function fromXml(root: XmlElement): Alert {
  if (root.name !== 'EventNotificationAlert') throw new Error(`expected <EventNotificationAlert>, got <${root.name}>`);
  const text = (name: string) => child(root, name)?.text;
  const eventType = text('eventType');
  if (!eventType) throw new Error('EventNotificationAlert has no eventType');
  const temps = descendants(root, 'fireMaxTemperature').map((e) => Number(e.text)).filter(Number.isFinite);
  const celsius = descendants(root, 'temperatureUnit').every((e) => e.text.toLowerCase() === 'celsius');
  return {
    eventType,
    eventState: text('eventState'),
    dateTime: text('dateTime'),
    activePostCount: int(text('activePostCount')),
    channelId: int(text('channelID') ?? text('dynChannelID')),
    channelName: str(text('channelName')),
    mac: str(text('macAddress'), 17),
    targets: descendants(root, 'detectionTarget').map((e) => e.text),
    regions: descendants(root, 'regionID').map((e) => e.text),
    fireMaxC: temps.length && celsius ? Math.max(...temps) : undefined,
  };
}

function fromJson(o: JsonObject): Alert {
  const a = isObject(o.EventNotificationAlert) ? o.EventNotificationAlert : o;
  const eventType = str(a.eventType);
  if (!eventType) throw new Error('EventNotificationAlert (JSON) has no eventType');
  const targets: string[] = [];
  const regions: string[] = [];
  const list = Array.isArray(a.DetectionRegionList) ? a.DetectionRegionList : [];
  for (const r of list) {
    const e = isObject(r) && isObject(r.DetectionRegionEntry) ? r.DetectionRegionEntry : r;
    if (!isObject(e)) continue;
    if (typeof e.detectionTarget === 'string') targets.push(e.detectionTarget);
    if (e.regionID !== undefined) regions.push(String(e.regionID));
  }
  return {
    eventType,
    eventState: str(a.eventState),
    dateTime: str(a.dateTime),
    activePostCount: int(a.activePostCount),
    channelId: int(a.channelID ?? a.dynChannelID),
    channelName: str(a.channelName),
    mac: str(a.macAddress, 17),
    targets,
    regions,
  };
}

/** The event document of a body (XML text or JSON), or a reason. */
function readEvent(body: Buffer): Alert {
  const text = body.toString('utf8').replace(/^\uFEFF/, '').trim();
  if (text.startsWith('{')) {
    const parsed = parseJsonObject(Buffer.from(text));
    if (!parsed.ok) throw new Error(parsed.message);
    return fromJson(parsed.value);
  }
  if (text.startsWith('<')) return fromXml(parseXml(text));
  throw new Error('neither an XML nor a JSON EventNotificationAlert');
}

const isPicture = (p: Part) => p.contentType === 'image/jpeg' || p.contentType === 'image/jpg' || /\.jpe?g$/i.test(p.filename ?? '');
const isEvent = (p: Part) =>
  p.contentType === 'application/xml' || p.contentType === 'text/xml' || p.contentType === 'application/json' || /^\s*[<{]/.test(p.body.subarray(0, 64).toString('latin1'));

/** The canonical type of an alert, or why it has none here. */
function typeOf(a: Alert, ctx: DecodeContext): { type: string } | { error: string } {
  const t = a.eventType.toLowerCase();
  // "active" when the alarm is raised, "inactive" in heartbeats and when a durative event ends (EventNotificationAlert).
  if ((a.eventState ?? 'active').toLowerCase() === 'inactive') return { type: 'heartbeat' };
  if (FIRE.has(t)) return { type: 'fire_smoke' };
  if (INTRUSION.has(t)) {
    const target = a.targets.find((x) => EBIKE_TARGETS.has(x.toLowerCase().replace(/[\s-]/g, '')));
    if (target) return { type: ctx.area && LIFT.test(ctx.area) ? 'ebike_in_lift' : 'ebike_indoor' };
    return { error: `${a.eventType} with detectionTarget ${a.targets.join(',') || '(none)'} is not an event shaobing acts on` };
  }
  return { error: `eventType '${a.eventType}' is not an event shaobing acts on (README: mapped types)` };
}

export const decoder = defineDecoder({
  format: 'hikvision-isapi',
  description:
    'Hikvision ISAPI EventNotificationAlert pushed to an HTTP listening host: XML, JSON, or multipart/form-data with the event part and JPEG pictures',
  decode(raw, ctx): DecodeResult {
    let event: Alert;
    let pictures: Part[] = [];
    if (isMultipart(raw)) {
      const parts = splitMultipart(raw);
      const doc = parts.find((p) => !isPicture(p) && isEvent(p));
      if (!doc) return fail('multipart body has no EventNotificationAlert part');
      event = readEvent(doc.body);
      pictures = parts.filter(isPicture);
    } else event = readEvent(raw);
    const t = typeOf(event, ctx);
    if ('error' in t) return fail(t.error);
    const payload: CanonicalPayload = {
      type: t.type,
      ...(event.dateTime ? { ts: event.dateTime } : {}),
      event: event.eventType.slice(0, 64),
      ...(event.activePostCount && event.activePostCount > 0 ? { eventCount: event.activePostCount } : {}),
      ...(event.channelId !== undefined ? { channelId: event.channelId } : {}),
      ...(event.channelName ? { channelName: event.channelName } : {}),
      ...(event.regions.length ? { region: event.regions.join(',').slice(0, 64) } : {}),
      ...(event.fireMaxC !== undefined ? { temperatureC: event.fireMaxC } : {}),
      ...(event.mac ? { mac: event.mac } : {}),
    };
    if (!pictures.length) return { ok: true, payload };
    const picture = pictures[0].body;
    return { ok: true, payload: { ...payload, pictures: pictures.length, snapshotBytes: picture.length }, picture };
  },
});
