// Senders that post device messages over HTTP (The Things Stack webhooks, Hikvision camera pushes), `POST /ingest/{integration}` (src/api/ingest.ts). An integration
// is configured per community (inventory `integrations:`) with its type and a hashed secret; its type says how
// to tell, from a body, which device it is about. The body itself then goes to that device's decoder unchanged,
// exactly like an MQTT payload: inbox → decode → validate → rules.
import type { IntegrationType } from '../../config/schema.js';
import { tts } from './tts.js';
import { hikvision } from './hikvision.js';

/** How a sender names the device: by LoRaWAN DevEUI and/or by an id that should equal shaobing's device id. */
export interface DeviceRef {
  devEui?: string;
  deviceId?: string;
}

export type Identified =
  | { kind: 'device'; ref: DeviceRef }
  /** Not device data (a TTS join-accept, a downlink event…): answered 200 and dropped, so the sender does not retry. */
  | { kind: 'ignored'; reason: string }
  /** Not this sender's format at all: answered 400, as no device can be named to keep it under. */
  | { kind: 'invalid'; reason: string };

export interface IntegrationAdapter {
  type: IntegrationType;
  /** One line for the README and the OpenAPI description. */
  description: string;
  /** The sender cannot set a header (a camera): the secret may come as `?key=` in the URL. */
  secretInQuery?: boolean;
  /** Which device a body is about; `query`: the request URL's query parameters (a camera's URL names it). */
  identify(body: Buffer, query: Record<string, unknown>): Identified;
}

export const integrationAdapters: Readonly<Record<IntegrationType, IntegrationAdapter>> = Object.freeze({ 'tts-v3': tts, 'hikvision-isapi': hikvision });
