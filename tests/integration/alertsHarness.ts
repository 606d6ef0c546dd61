// End-to-end helpers for the alert tests: the real app on the event clock, real MQTT clients with the sample
// devices' credentials, and the API through `inject`. Message times (`ts`) drive the clock; POST
// /api/replay/clock moves it past deadlines.
import { expect } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startApp, connectDevice, waitFor, auth, sampleSecrets, type TestApp } from '../helpers.js';
import type { AlertView, TimelineEntry } from '../../src/alerts/types.js';
import type { AppOptions } from '../../src/app.js';

export const T0 = Date.parse('2025-03-01T08:00:00+08:00');
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const GH = 'guihuayuan';

export interface AlertsEnv {
  t: TestApp;
  device(id: string): Promise<Device>;
  alerts(query?: Record<string, string>, token?: string): Promise<AlertView[]>;
  alert(id: number, token?: string): Promise<AlertView & { timeline: TimelineEntry[] }>;
  /** Poll until an alert matching `where` exists. */
  waitAlert(where: Partial<AlertView>, what?: string): Promise<AlertView>;
  /** Poll until alert `id` has `status`. */
  waitStatus(id: number, status: AlertView['status']): Promise<AlertView>;
  advance(now: number): Promise<{ now: string; fired: number }>;
  post(url: string, body?: unknown, token?: string): Promise<{ statusCode: number; body: any }>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface Device {
  id: string;
  /** Publish a canonical payload at QoS 1 and wait until it has been processed. */
  send(payload: Record<string, unknown>): Promise<void>;
  /** Publish raw bytes (say, a payload that will be rejected) and wait until processed. */
  sendRaw(payload: string): Promise<void>;
  end(): Promise<void>;
}

export async function startAlertsApp(dataDir?: string, overrides: Record<string, unknown> = {}, opts: AppOptions = {}): Promise<AlertsEnv> {
  const t = await startApp({ clock: 'event', ...overrides }, dataDir, opts);
  const clients: MqttClient[] = [];
  const inject = async (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) => {
    const res = await t.app.api.inject({ method, url, headers: auth(token), payload: payload as object });
    return { statusCode: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const env: AlertsEnv = {
    t,
    async device(id) {
      const client = await connectDevice(t.mqttUrl, id, sampleSecrets.devices[id]);
      clients.push(client);
      const topic = `iot/${t.app.directory.devices.get(id)!.communityId}/${id}/up`;
      const processed = async () => {
        const res = await inject('GET', `/api/devices/${id}`);
        return (res.body.state.accepted as number) + (res.body.state.rejected as number);
      };
      const sendRaw = async (payload: string) => {
        const before = await processed();
        await new Promise<void>((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
        // PUBACK means stored; wait until it is processed too, so the next step sees its effects.
        await waitFor(async () => (await processed()) > before, `${id} processed ${payload}`);
      };
      return {
        id,
        send: (payload) => sendRaw(JSON.stringify(payload)),
        sendRaw,
        end: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
      };
    },
    async alerts(query = {}, token) {
      const res = await inject('GET', `/api/alerts?${new URLSearchParams(query)}`, token);
      expect(res.statusCode).toBe(200);
      return res.body.items as AlertView[];
    },
    async alert(id, token) {
      const res = await inject('GET', `/api/alerts/${id}`, token);
      expect(res.statusCode).toBe(200);
      return res.body;
    },
    waitAlert(where, what = JSON.stringify(where)) {
      return waitFor(async () => {
        const items = await env.alerts({ ...(where.kind ? { kind: where.kind } : {}) });
        return items.find((a) => Object.entries(where).every(([k, v]) => (a as unknown as Record<string, unknown>)[k] === v));
      }, `alert ${what}`);
    },
    waitStatus(id, status) {
      return waitFor(async () => {
        const a = await env.alert(id);
        return a.status === status ? a : undefined;
      }, `alert ${id} ${status}`);
    },
    async advance(now) {
      const res = await inject('POST', '/api/replay/clock', undefined, { now: new Date(now).toISOString() });
      expect(res.statusCode).toBe(200);
      return res.body;
    },
    post: (url, body = {}, token) => inject('POST', url, token, body),
    async close(opts) {
      await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
      await t.stop(opts);
    },
  };
  return env;
}

export const at = (t: number) => new Date(t).toISOString();
