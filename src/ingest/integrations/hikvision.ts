// Hikvision ISAPI "HTTP listening" pushes (devices/ai-camera/README.md): a camera or NVR POSTs each event as it
// happens to the URL configured for it (/ISAPI/Event/notification/httpHosts). The body names no device shaobing
// knows (an IP address, a MAC, a channel), and the camera can add no header of its own and authenticates only
// with HTTP Digest or not at all (HttpHostNotification httpAuthenticationMethod "MD5digest,none"), so the URL set
// per camera carries both: `POST /ingest/{integration}?device={device id}&key={integration secret}`. The key in a
// URL is for cameras only (an edge box sends `Authorization: Bearer`); the service never logs query strings.
import type { IntegrationAdapter } from './index.js';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const hikvision: IntegrationAdapter = {
  type: 'hikvision-isapi',
  description:
    'Hikvision ISAPI EventNotificationAlert pushed by a camera (XML, JSON or multipart with its JPEG); the URL names the camera (`?device=`) and, as a camera sends no header of its own, may carry the secret (`&key=`)',
  secretInQuery: true,
  identify(body, query) {
    const device = query.device;
    if (typeof device !== 'string' || !DEVICE_ID.test(device))
      return { kind: 'invalid', reason: 'a camera push names its camera in the URL: ?device=<device id> (set one URL per camera in its HTTP listening settings)' };
    if (body.length === 0) return { kind: 'invalid', reason: 'empty body: no EventNotificationAlert' };
    return { kind: 'device', ref: { deviceId: device } };
  },
};
