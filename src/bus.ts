// A typed event bus: one event map, listeners registered and removed by owner, and a listener's error is
// logged with its owner's name instead of breaking the emitter (after zigbee2mqtt lib/eventBus.ts).
import type { Logger } from 'pino';
import type { Reading, Rejection } from './ingest/reading.js';
import type { DeviceState } from './state/deviceState.js';
import type { AlertView, LotCounts } from './alerts/types.js';

export interface EventMap {
  /** A reading was processed and committed. */
  reading: Reading;
  /** A payload was rejected and committed to the rejections table. */
  rejection: Rejection;
  /** A device's live state changed (committed). */
  deviceState: DeviceState;
  /** A device connected (true) or disconnected (false). */
  deviceConnection: { deviceId: string; connected: boolean; at: number };
  /** An alert was opened or changed (committed): the Alert JSON of CONTRACT.md. */
  alert: AlertView;
  /** A parking lot's live counts changed (committed). */
  parking: LotCounts;
}

type Listener<K extends keyof EventMap> = (payload: EventMap[K]) => void;

export class EventBus {
  private readonly listeners = new Map<keyof EventMap, Array<{ owner: string; fn: Listener<never> }>>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof EventMap>(event: K, owner: string, fn: Listener<K>): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ owner, fn: fn as Listener<never> });
    this.listeners.set(event, list);
  }

  removeOwner(owner: string): void {
    for (const [event, list] of this.listeners) this.listeners.set(event, list.filter((l) => l.owner !== owner));
  }

  hasListeners(event: keyof EventMap): boolean {
    return (this.listeners.get(event)?.length ?? 0) > 0;
  }

  emit<K extends keyof EventMap>(event: K, payload: EventMap[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const { owner, fn } of list) {
      try {
        (fn as Listener<K>)(payload);
      } catch (err) {
        this.log.error({ err, owner, event }, 'event listener failed');
      }
    }
  }
}
