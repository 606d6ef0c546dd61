// The Things Stack (v3) webhook integration: the application server POSTs one JSON message per event to the
// webhook's base URL (+ the path configured per message type), with the headers configured on the webhook.
// Which device: `end_device_ids.device_id` (the TTS end device id) and `end_device_ids.dev_eui`. Only uplink
// messages (`uplink_message`) are device data; join-accepts, downlink events, service data and location
// solutions are answered and dropped. https://www.thethingsindustries.com/docs/integrations/data-formats/ and
// https://www.thethingsindustries.com/docs/integrations/webhooks/
import { isObject, parseJsonObject } from '../../../devices/shared/json.js';
import type { IntegrationAdapter } from './index.js';

/** The message keys TTS sends besides uplink_message (data-formats page), named in the "ignored" answer. */
const OTHER_MESSAGES = ['join_accept', 'downlink_ack', 'downlink_nack', 'downlink_sent', 'downlink_failed', 'downlink_queued',
  'downlink_queue_invalidated', 'location_solved', 'service_data', 'uplink_normalized'];

export const tts: IntegrationAdapter = {
  type: 'tts-v3',
  description: 'The Things Stack v3 webhook (JSON): uplink messages of end devices, named by end_device_ids.device_id or dev_eui',
  identify(body) {
    const parsed = parseJsonObject(body);
    if (!parsed.ok) return { kind: 'invalid', reason: `not a The Things Stack message: ${parsed.message}` };
    const msg = parsed.value;
    const ids = msg.end_device_ids;
    if (!isObject(ids)) return { kind: 'invalid', reason: 'not a The Things Stack message: no end_device_ids' };
    if (!isObject(msg.uplink_message)) {
      const other = OTHER_MESSAGES.find((k) => k in msg);
      return { kind: 'ignored', reason: `${other ?? 'a message other than uplink_message'} is not device data` };
    }
    const devEui = typeof ids.dev_eui === 'string' && /^[0-9A-Fa-f]{16}$/.test(ids.dev_eui) ? ids.dev_eui.toUpperCase() : undefined;
    const deviceId = typeof ids.device_id === 'string' && ids.device_id !== '' ? ids.device_id : undefined;
    if (!devEui && !deviceId) return { kind: 'invalid', reason: 'The Things Stack uplink names no device (end_device_ids.device_id, dev_eui)' };
    return { kind: 'device', ref: { devEui, deviceId } };
  },
};
