// topic → device → decoder → schema → Reading | Rejection, in batches.
//
// Durability (DESIGN.md "Nothing acknowledged is lost"): a device transport (src/transport/transport.ts; the
// embedded broker calls it before it writes PUBACK) hands each message to `submit` with an ack callback, held
// until the message is in the inbox table; all messages that arrive in one turn of the event loop share one inbox transaction (group
// commit). Processing then runs in a second transaction that writes the device state, the readings, the
// rejections and every handler's work, and deletes the inbox rows. A crash between the two leaves inbox rows,
// which `start()` processes again. QoS0 messages skip the inbox.
//
// One bad message never stops the others (DESIGN.md; issue 11). Validation bounds every time and number and
// the depth of JSON before anything uses them (src/ingest/validate.ts, devices/shared/json.ts). If processing
// a batch still throws for a reason that is about the data (not a busy or full store, see
// isTransientStoreError), the batch is rolled back — memory with it: device states, the rule engine's caches,
// the event clock — and processed again with each message under its own savepoint; the message that throws
// there is rolled back alone and kept as a `processing_failed` rejection with its bytes and the error, and
// the rest commit. A busy or full store instead pauses the whole batch and retries it in order.
//
// Exactly once across a crash (issue 16): a message from an external broker's persistent session comes with its
// delivery (session, packet id, DUP flag). The commit that makes it durable — the inbox row, or the fast lane's
// processing — also records (session, packet id, hash of topic and payload) through the store's `deliveries`. An instance that
// dies after that commit and before its PUBACK reached the broker has the message sent again, flagged DUP, to
// whoever resumes the session; `submit` finds the record and acknowledges it without processing it twice. Only a
// record among the session's last DELIVERY_WINDOW matches: the broker numbers a session's packets in turn and
// reuses a number only after its acknowledgement, so an older record with the same number is of another message.
import type { DeviceInbound, Delivery } from '../transport/transport.js';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DeliveryRecord, Store } from '../store/store.js';
import type { DeviceInfo, Directory } from '../config/inventory.js';
import type { Clock } from '../clock/clock.js';
import type { EventBus } from '../bus.js';
import type { Metrics } from '../metrics.js';
import type { DeviceStates, DeviceState } from '../state/deviceState.js';
import type { Decoder, DeviceKindDef } from './types.js';
import { compileValidators, plainJsonProblem, type PayloadValidator } from './validate.js';
import { eventTime, MAX_FUTURE_MS, type Reading, type Rejection } from './reading.js';
import { POISON_MARKER, type Failpoints } from '../failpoints.js';

/**
 * Work done for each accepted reading inside the processing transaction (rules, telemetry, …). Every attempt
 * at a batch ends in exactly one of `committed` or `rolledBack` (a rolled-back batch is tried again, message by
 * message, and that attempt is told too), explicitly (in the style of Node-RED's `done`):
 * a handler never infers the outcome from events or timing.
 */
export interface ReadingHandler {
  name: string;
  handle(reading: Reading, state: DeviceState): void;
  /** End of the batch, inside its transaction: write what was kept back (write-behind state). */
  flush?(): void;
  /** The savepoint of the reading handled last (and flushed since) rolled back: forget what it did. */
  undo?(): void;
  /** The batch transaction committed: what it wrote is durable. `readings`: the batch's accepted readings, in
   *  order (after the bus has carried each one), without any a savepoint set aside. */
  committed?(readings: readonly Reading[]): void;
  /** The batch transaction rolled back (it will be tried again): forget what memory holds beyond the store. */
  rolledBack?(): void;
}

export interface IngestDeps {
  store: Store;
  directory: Directory;
  kinds: readonly DeviceKindDef[];
  clock: Clock;
  log: Logger;
  bus: EventBus;
  metrics: Metrics;
  states: DeviceStates;
  failpoints: Failpoints;
  settings: { batchMax: number; rejectionsMax: number; maxPayloadBytes: number; stuckAfterSeconds: number };
  /** Tell the device why a payload was refused (its transport's errors channel). */
  publishError(device: DeviceInfo, body: string): void;
}

interface Pending {
  device: DeviceInfo;
  topic: string;
  payload: Buffer;
  receivedAt: number;
  t0: number;
  inboxId?: number;
  done?: (err?: Error) => void;
  /** An external broker's delivery, recorded with the commit (exactly once across a crash). */
  delivery?: DeliveryRecord;
}

/** How many of a session's latest deliveries a redelivery is matched against (far fewer than 65535 packet ids). */
export const DELIVERY_WINDOW = 1000;

const deliveryHash = (topic: string, payload: Buffer) => createHash('sha256').update(topic).update('\0').update(payload).digest('base64url').slice(0, 22);

type Outcome = { reading: Reading } | { rejection: Rejection; device: DeviceInfo | null; raw: Buffer };

const REJECTED_BYTES_KEPT = 4096;
/** How often the inbox is looked at for messages waiting too long (for the log; healthz and metrics look when asked). */
const WATCH_MS = 5000;

/** What is received and not yet processed (GET /healthz, shaobing_inbox_depth, shaobing_inbox_oldest_seconds). */
export interface Backlog {
  depth: number;
  oldestSeconds: number;
  /** The oldest has waited longer than settings.ingest.stuckAfterSeconds. */
  stuck: boolean;
}

export class Ingest implements DeviceInbound {
  readonly handlers: ReadingHandler[] = [];
  private pending: Pending[] = [];
  private scheduled = false;
  private stopped = false;
  private rejectionsSincePrune = 0;
  private decoders = new Map<string, Decoder>();
  private urgentKinds = new Set<string>();
  /** Kinds whose messages may be larger than the settings' limit (DeviceKindDef.maxPayloadBytes). */
  private payloadLimits = new Map<string, number>();
  private validators = new Map<string, PayloadValidator>();
  private inboxTx!: (items: Pending[]) => void;
  private processTx!: (items: Pending[]) => Outcome[];
  /** The same work with a savepoint per message (after processTx threw). */
  private isolatedTx!: (items: Pending[]) => Outcome[];
  private messageTx!: (m: Pending) => Outcome;
  private quarantineTx!: (o: Extract<Outcome, { rejection: Rejection }>, m: Pending) => void;
  private dropTx!: (m: Pending) => void;
  /** Set when processOne got as far as the handlers (so an undo has something to undo). */
  private reachedHandlers = false;
  /** Messages acknowledged whose processing the failpoint ingest.afterInbox holds (they count as waiting). */
  private held: Pending[] = [];
  private watchTimer?: NodeJS.Timeout;
  private stuckSince = 0;
  private stuckLoggedAt = 0;

  constructor(private readonly deps: IngestDeps) {}

  start(): void {
    const { store, kinds } = this.deps;
    for (const def of kinds) for (const d of def.decoders) this.decoders.set(`${def.kind}/${d.format}`, d);
    for (const def of kinds) if (def.urgent) this.urgentKinds.add(def.kind);
    for (const def of kinds) if (def.maxPayloadBytes) this.payloadLimits.set(def.kind, Math.max(def.maxPayloadBytes, this.deps.settings.maxPayloadBytes));
    this.validators = compileValidators(kinds);
    // The units of work (src/store/store.ts): one per batch; a savepoint per message when isolating one.
    this.inboxTx = (items) =>
      store.transaction(() => {
        for (const m of items) {
          m.inboxId = store.inbox.add({ deviceId: m.device.id, topic: m.topic, payload: m.payload, receivedAt: m.receivedAt });
          if (m.delivery) store.deliveries.record(m.delivery);
        }
      });
    this.processTx = (items) =>
      store.transaction(() => {
        this.recordFastLaneDeliveries(items);
        const out: Outcome[] = [];
        for (const m of items) out.push(this.processOne(m));
        for (const h of this.handlers) h.flush?.();
        this.stateChanges = this.deps.states.flush(this.deps.clock.now());
        return out;
      });
    this.isolatedTx = (items) =>
      store.transaction(() => {
        // What changed before the batch (connections) is written first, outside every message's savepoint, so
        // that a rolled-back message leaves memory and store agreeing (DeviceStates.restore).
        this.stateChanges = this.deps.states.flush(this.deps.clock.now());
        this.recordFastLaneDeliveries(items);
        const out: Outcome[] = [];
        for (const m of items) out.push(this.isolate(m));
        return out;
      });
    // Nested inside isolatedTx, each of these is a savepoint.
    this.messageTx = (m) =>
      store.transaction(() => {
        const o = this.processOne(m);
        for (const h of this.handlers) h.flush?.();
        this.stateChanges.push(...this.deps.states.flush(this.deps.clock.now()));
        return o;
      });
    this.quarantineTx = (o, m) =>
      store.transaction(() => {
        this.storeRejection(o);
        if (m.inboxId !== undefined) store.inbox.remove(m.inboxId);
        this.stateChanges.push(...this.deps.states.flush(this.deps.clock.now()));
      });
    this.dropTx = (m) =>
      store.transaction(() => {
        if (m.inboxId !== undefined) store.inbox.remove(m.inboxId);
      });
    this.deps.metrics.probes.inbox = () => this.backlog();
    this.recover();
    this.watchTimer = setInterval(() => this.watch(), Math.min(WATCH_MS, this.deps.settings.stuckAfterSeconds * 500));
    this.watchTimer.unref();
  }

  /** Received and not yet processed: the queue in memory (QoS1 rows are in the inbox table too) and held rows. */
  backlog(): Backlog {
    const depth = this.pending.length + this.held.length;
    const first = Math.min(this.pending[0]?.t0 ?? Infinity, this.held[0]?.t0 ?? Infinity);
    const oldestSeconds = depth ? Math.max(0, (performance.now() - first) / 1000) : 0;
    return { depth, oldestSeconds, stuck: oldestSeconds > this.deps.settings.stuckAfterSeconds };
  }

  /** Say in the log when messages wait too long, again every minute while they do, and when it clears. */
  private watch(): void {
    const b = this.backlog();
    const now = Date.now();
    if (b.stuck) {
      if (!this.stuckSince) this.stuckSince = now;
      if (now - this.stuckLoggedAt >= 60_000) {
        this.stuckLoggedAt = now;
        this.deps.log.error(
          { depth: b.depth, oldestSeconds: Math.round(b.oldestSeconds), stuckForSeconds: Math.round((now - this.stuckSince) / 1000) },
          'ingest inbox is stuck: messages received and not processed',
        );
      }
    } else if (this.stuckSince) {
      this.deps.log.warn({ depth: b.depth, stuckForSeconds: Math.round((now - this.stuckSince) / 1000) }, 'ingest inbox is moving again');
      this.stuckSince = 0;
      this.stuckLoggedAt = 0;
    }
  }

  private stateChanges: DeviceState[] = [];

  /** Called by the broker for every authorised PUBLISH from a device. */
  submit(device: DeviceInfo, topic: string, payload: Buffer, qos: number, done: (err?: Error) => void, delivery?: Delivery): void {
    if (this.stopped) return done(new Error('shutting down'));
    const m: Pending = { device, topic, payload, receivedAt: 0, t0: 0 };
    this.stampReceipt(m);
    if (delivery && qos > 0) {
      m.delivery = { session: delivery.session, packetId: delivery.packetId, hash: deliveryHash(topic, payload) };
      // Committed already (a redelivery after a crash between the commit and the PUBACK)? A message still queued
      // here (a reconnect after a failed commit) is not committed: it must go on.
      if (delivery.dup && this.deps.store.deliveries.recorded(m.delivery, DELIVERY_WINDOW)) {
        this.deps.log.info({ deviceId: device.id, session: delivery.session, packetId: delivery.packetId }, 'redelivery of a message committed before a crash: acknowledged, not processed again');
        return done();
      }
    }
    if (qos > 0) m.done = done;
    else done();
    this.pending.push(m);
    if (this.urgentKinds.has(device.kind)) this.flushUrgent();
    else if (this.pending.length >= this.deps.settings.batchMax) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * A message's receipt times. On the wall clock they are read once per burst the broker hands over in one go
   * (one socket read's messages, one broker-thread frame) and kept until the next microtask checkpoint:
   * Date.now() and performance.now() cost ~0.2 µs each on a VM's clock, per message (issue 18). The event clock
   * is read for every message (processing an alarm at once may move it between two messages of a burst).
   */
  private stampReceipt(m: Pending): void {
    const clock = this.deps.clock;
    if (clock.mode === 'event') {
      m.receivedAt = clock.now();
      m.t0 = performance.now();
      return;
    }
    if (this.burstAt < 0) {
      this.burstAt = clock.now();
      this.burstT0 = performance.now();
      queueMicrotask(this.endBurst);
    }
    m.receivedAt = this.burstAt;
    m.t0 = this.burstT0;
  }
  private burstAt = -1;
  private burstT0 = 0;
  private readonly endBurst = (): void => {
    this.burstAt = -1;
  };

  /** The fast lane commits processing without an inbox row first: its deliveries are recorded in that unit. */
  private recordFastLaneDeliveries(items: Pending[]): void {
    for (const m of items) if (m.delivery && m.inboxId === undefined && m.done) this.deps.store.deliveries.record(m.delivery);
  }

  /** A device's connection changed: state is written with the next batch (or now, if none is coming). */
  /** Before an external broker's session is resumed here: its delivery records, as the last holder committed them. */
  resume(session: string): Promise<void> {
    return this.deps.store.deliveries.load(session);
  }

  markConnected(deviceId: string, connected: boolean): void {
    const s = this.deps.states.setConnected(deviceId, connected);
    this.deps.bus.emit('deviceState', s);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * The alarm fast lane: a message from a kind that carries life-safety alarms (DeviceKindDef.urgent, the smoke
   * detector) is processed at once, not at the end of the event-loop turn with whatever bulk arrived with it.
   * On the wall clock it goes ahead of the bulk, with every message queued from urgent devices (each device's
   * own order is kept); on the event clock, where message order is time, the whole queue is processed in order.
   */
  private flushUrgent(): void {
    if (this.deps.clock.mode === 'event' || Date.now() < this.pausedUntil) return this.flush();
    const urgent: Pending[] = [];
    const rest: Pending[] = [];
    for (const m of this.pending) (this.urgentKinds.has(m.device.kind) ? urgent : rest).push(m);
    this.pending = rest;
    // One commit, not two: urgent messages are processed and committed first and acknowledged after — no inbox
    // row of their own before (a commit and an fsync more on the alarm's path: up to ~10 ms at p99 on a shared
    // disk). As durable as the ordinary path: a QoS 1 alarm is acknowledged only once its processing is
    // committed; if that transaction fails, the messages go back to the queue unacknowledged and take the
    // ordinary path (inbox, acknowledgement, processing). With processing held by the failpoint: ordinary path.
    if (this.deps.failpoints.active('ingest.afterInbox')) this.run(urgent);
    else if (this.process(urgent)) this.acknowledge(urgent);
    if (this.pending.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    if (Date.now() < this.pausedUntil) return this.retryLater();
    const batch = this.pending;
    this.pending = [];
    this.run(batch);
  }

  /** Store what must be durable in the inbox (then acknowledge it), and process the batch. */
  private run(batch: Pending[]): void {
    // Durable messages not yet in the inbox (a batch put back after a failure is in it already).
    const fresh = batch.filter((m) => m.done);
    if (fresh.length) {
      try {
        this.inboxTx(fresh);
      } catch (err) {
        // Not stored, so not acknowledged: the device keeps the message and sends it again.
        this.deps.log.error({ err, count: fresh.length }, 'inbox write failed; QoS1 messages not acknowledged');
        for (const m of fresh) m.done!(err as Error);
        batch = batch.filter((m) => !m.done);
      }
      this.acknowledge(batch);
      if (this.deps.failpoints.active('ingest.afterInbox')) {
        this.deps.log.warn({ count: fresh.length }, 'failpoint ingest.afterInbox: acknowledged, processing held');
        this.held = this.held.concat(batch);
        return;
      }
    }
    this.process(batch);
  }

  /**
   * Acknowledge the messages that wait for it, once what was just written for them is committed: at once on
   * SQLite (`durable()` is undefined, no promise); an adapter that commits asynchronously hands back a promise
   * (docs/seams.md "Store"), and a failed commit is not acknowledged (the device sends the message again).
   */
  private acknowledge(batch: Pending[]): void {
    const committed = this.deps.store.durable();
    if (!committed) {
      for (const m of batch) {
        const done = m.done;
        m.done = undefined;
        done?.();
      }
      return;
    }
    const dones: Array<(err?: Error) => void> = [];
    for (const m of batch) {
      if (m.done) dones.push(m.done);
      m.done = undefined;
    }
    committed.then(
      () => {
        for (const done of dones) done();
      },
      (err: Error) => {
        for (const done of dones) done(err);
      },
    );
  }

  private pausedUntil = 0;
  private retryTimer?: NodeJS.Timeout;

  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, Math.max(10, this.pausedUntil - Date.now()));
  }

  /** Process and commit a batch; false if it was put back to be tried again (nothing of it committed). */
  private process(batch: Pending[]): boolean {
    let outcomes: Outcome[];
    const clockAt = this.deps.clock.now();
    try {
      outcomes = this.processTx(batch);
    } catch (err) {
      this.rollbackMemory(clockAt);
      if (this.deps.store.isTransient(err)) {
        this.retryBatch(batch, err);
        return false;
      }
      // About the data: one (or more) of these messages cannot be processed. Find it, with a savepoint each.
      this.deps.log.warn({ err, count: batch.length }, 'processing a batch failed; processing its messages one by one to set aside the one that fails');
      try {
        outcomes = this.isolatedTx(batch);
      } catch (err2) {
        this.rollbackMemory(clockAt);
        this.retryBatch(batch, err2);
        return false;
      }
    }
    const { metrics, bus } = this.deps;
    const accepted: Reading[] = [];
    const t1 = performance.now();
    // Accepted messages counted once per run of one kind (a batch is mostly one kind), not one inc() each.
    let runKind: string | null = null;
    let run = 0;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i];
      metrics.processing.observe((t1 - batch[i].t0) / 1000);
      if ('reading' in o) {
        if (o.reading.kind !== runKind) {
          if (run) this.counter(runKind!, 'accepted').inc(run);
          runKind = o.reading.kind;
          run = 0;
        }
        run++;
        bus.emit('reading', o.reading);
        accepted.push(o.reading);
      } else {
        this.counter(o.device?.kind ?? 'unknown', 'rejected').inc();
        this.deps.log.warn(
          { deviceId: o.rejection.deviceId, code: o.rejection.code, reason: o.rejection.message, bytes: o.rejection.payloadBytes },
          'payload rejected',
        );
        bus.emit('rejection', o.rejection);
        if (o.device)
          this.deps.publishError(
            o.device,
            JSON.stringify({ error: o.rejection.code, message: o.rejection.message, at: new Date(o.rejection.receivedAt).toISOString() }),
          );
      }
    }
    if (run) this.counter(runKind!, 'accepted').inc(run);
    for (const h of this.handlers) h.committed?.(accepted);
    for (const s of this.stateChanges) bus.emit('deviceState', s);
    this.stateChanges = [];
    if (this.rejectionsSincePrune > 500) this.pruneRejections();
    return true;
  }

  /**
   * The transaction rolled back (SQLITE_BUSY, a full disk…). Nothing newer may overtake these messages — an
   * old smoke alarm replayed after its all-clear would re-open the alert — so the batch goes back to the front
   * of the queue and is tried again after a pause (memory was already put back as the store has it).
   */
  private retryBatch(batch: Pending[], err: unknown): void {
    this.deps.log.error({ err, count: batch.length }, 'processing transaction failed; retrying in 1 s');
    this.pending = batch.concat(this.pending);
    this.pausedUntil = Date.now() + 1000;
    this.retryLater();
  }

  /** After a rolled-back batch: device states read back from the store, the clock and the handlers' memory put back. */
  private rollbackMemory(clockAt: number): void {
    this.deps.states.reload();
    this.deps.clock.restore(clockAt);
    for (const h of this.handlers) h.rolledBack?.();
  }

  /** One message under its own savepoint; if it throws for a reason about the data, it alone is set aside. */
  private isolate(m: Pending): Outcome {
    const clockAt = this.deps.clock.now();
    const snap = this.deps.states.snapshot(m.device.id);
    this.reachedHandlers = false;
    try {
      return this.messageTx(m);
    } catch (err) {
      if (this.deps.store.isTransient(err)) throw err;
      this.deps.clock.restore(clockAt);
      this.deps.states.restore(m.device.id, snap);
      if (this.reachedHandlers) for (const h of this.handlers) h.undo?.();
      return this.quarantine(m, err);
    }
  }

  /** Keep a message whose processing threw as a `processing_failed` rejection: its bytes and the error. */
  private quarantine(m: Pending, err: unknown): Outcome {
    const e = err instanceof Error ? err : new Error(String(err));
    const outcome = this.reject(m, 'processing_failed', `processing failed: ${e.name}: ${e.message}`.slice(0, 500)) as Extract<Outcome, { rejection: Rejection }>;
    this.deps.log.error(
      { err: e, deviceId: m.device.id, inboxId: m.inboxId, bytes: m.payload.length },
      'message set aside: processing it failed; kept as a rejection, the rest of its batch goes on',
    );
    const snap = this.deps.states.snapshot(m.device.id);
    try {
      this.quarantineTx(outcome, m);
    } catch (err2) {
      if (this.deps.store.isTransient(err2)) throw err2;
      // Not even the rejection could be written: the bytes go to the log, and the message leaves the inbox.
      this.deps.states.restore(m.device.id, snap);
      this.deps.log.error(
        { err: err2, deviceId: m.device.id, topic: m.topic, payloadBase64: m.payload.subarray(0, REJECTED_BYTES_KEPT).toString('base64') },
        'could not keep a failed message as a rejection; its bytes are in this log line',
      );
      this.dropTx(m);
    }
    return outcome;
  }

  private processOne(m: Pending): Outcome {
    const outcome = this.decide(m);
    if ('reading' in outcome) {
      const r = outcome.reading;
      this.deps.clock.observe(r.ts);
      const state = this.deps.states.applyReading(r);
      this.reachedHandlers = true;
      // A handler that throws fails this message (and, for a busy or full store, the batch): a reading is
      // accepted with all its work or not at all. The rule engine contains its own rules' failures.
      for (const h of this.handlers) h.handle(r, state);
      if (this.deps.failpoints.active('ingest.poison') && m.payload.includes(POISON_MARKER)) throw new Error('failpoint ingest.poison');
    } else this.storeRejection(outcome);
    if (m.inboxId !== undefined) this.deps.store.inbox.remove(m.inboxId);
    return outcome;
  }

  private storeRejection(outcome: Extract<Outcome, { rejection: Rejection }>): void {
    const rej = outcome.rejection;
    rej.id = this.deps.store.rejections.add({
      deviceId: rej.deviceId,
      communityId: rej.communityId,
      topic: rej.topic,
      code: rej.code,
      message: rej.message,
      payload: outcome.raw.subarray(0, REJECTED_BYTES_KEPT),
      payloadBytes: rej.payloadBytes,
      receivedAt: rej.receivedAt,
    });
    this.rejectionsSincePrune++;
    if (rej.deviceId) this.deps.states.applyRejection(rej.deviceId, rej.receivedAt);
  }

  /** Labelled counter children, cached: prom-client hashes the label set on every inc() otherwise. */
  private readonly counters = new Map<string, { inc(n?: number): void }>();
  /**
   * A message that came for no device we know — an HTTP integration's body naming a device that is not in its
   * community (POST /ingest/{integration} answers 404): kept as an `unknown_device` rejection with its bytes, so
   * a misprovisioned sensor shows up in /api/rejections (the platform's: no device of any community owns the row).
   * One insert of its own: the sender is told synchronously, and this is not the MQTT hot path.
   */
  rejectUnknown(communityId: string, topic: string, payload: Buffer, message: string): Rejection {
    const rejection: Rejection = { deviceId: null, communityId, topic, code: 'unknown_device', message, receivedAt: this.deps.clock.now(), payloadBytes: payload.length };
    const { store } = this.deps;
    rejection.id = store.transaction(() =>
      store.rejections.add({
        deviceId: null,
        communityId,
        topic,
        code: 'unknown_device',
        message,
        payload: payload.subarray(0, REJECTED_BYTES_KEPT),
        payloadBytes: payload.length,
        receivedAt: rejection.receivedAt,
      }),
    );
    this.counter('unknown', 'rejected').inc();
    this.deps.bus.emit('rejection', rejection);
    if (++this.rejectionsSincePrune > 500) this.pruneRejections();
    return rejection;
  }

  private counter(kind: string, result: 'accepted' | 'rejected'): { inc(n?: number): void } {
    const key = `${kind}|${result}`;
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = this.deps.metrics.messages.labels(kind, result)));
    return c;
  }

  private reject(m: Pending, code: Rejection['code'], message: string): Outcome {
    const { device, payload } = m;
    return {
      rejection: { deviceId: device.id, communityId: device.communityId, topic: m.topic, code, message, receivedAt: m.receivedAt, payloadBytes: payload.length },
      device,
      raw: payload,
    };
  }

  /** Each device's decoder, found once (not a `kind/format` key string per message). */
  private readonly deviceDecoders = new WeakMap<DeviceInfo, Decoder | null>();
  private decoderOf(device: DeviceInfo): Decoder | undefined {
    let d = this.deviceDecoders.get(device);
    if (d === undefined) this.deviceDecoders.set(device, (d = this.decoders.get(`${device.kind}/${device.format}`) ?? null));
    return d ?? undefined;
  }

  // Hot path: no closures created per message (tsx's keepNames wraps each one).
  private decide(m: Pending): Outcome {
    const { device, payload, receivedAt } = m;
    const limit = this.payloadLimits.get(device.kind) ?? this.deps.settings.maxPayloadBytes;
    if (payload.length > limit) return this.reject(m, 'payload_too_large', `payload is ${payload.length} bytes; the limit is ${limit}`);
    const decoder = this.decoderOf(device);
    if (!decoder) return this.reject(m, 'unknown_format', `no decoder '${device.format}' for kind ${device.kind}`);
    const res = decoder.decode(payload, { deviceId: device.id, receivedAt, lane: device.lane, area: device.area });
    if (!res.ok) return this.reject(m, res.error, res.message);
    const problem = plainJsonProblem(res.payload);
    if (problem) return this.reject(m, 'invalid_payload', problem);
    const valid = this.validators.get(device.kind)!(res.payload);
    if (!valid.ok) return this.reject(m, valid.code, valid.message);
    // In range now (the schema's eventTime keyword): a Date of it can be formatted.
    const ts = eventTime(res.payload.ts, receivedAt);
    if (!Number.isFinite(ts)) return this.reject(m, 'bad_timestamp', `ts '${String(res.payload.ts)}' is not a time`);
    if (this.deps.clock.mode === 'wall' && ts > receivedAt + MAX_FUTURE_MS)
      return this.reject(m, 'bad_timestamp', `ts ${new Date(ts).toISOString()} is more than 10 minutes ahead of the server clock`);
    return {
      reading: {
        deviceId: device.id,
        kind: device.kind,
        communityId: device.communityId,
        gridId: device.gridId,
        type: res.payload.type,
        ts,
        receivedAt,
        payload: res.payload,
        payloadText: res.text,
        picture: res.picture,
      },
    };
  }

  /** Process inbox rows left by a crash, oldest first, in batches. */
  private recover(): void {
    const { store } = this.deps;
    const rows = store.inbox.left();
    if (!rows.length) return;
    this.deps.log.info({ count: rows.length }, 'processing inbox rows left from the previous run');
    for (let i = 0; i < rows.length; i += this.deps.settings.batchMax) {
      const batch: Pending[] = [];
      for (const row of rows.slice(i, i + this.deps.settings.batchMax)) {
        const device = this.deps.directory.devices.get(row.deviceId);
        if (!device) {
          this.deps.log.error({ deviceId: row.deviceId, inboxId: row.id }, 'inbox row for a device no longer configured; kept as rejection');
          store.transaction(() => {
            store.rejections.add({
              deviceId: row.deviceId,
              communityId: null,
              topic: row.topic,
              code: 'unknown_device',
              message: 'device no longer configured',
              payload: row.payload,
              payloadBytes: row.payload.length,
              receivedAt: row.receivedAt,
            });
            store.inbox.remove(row.id);
          });
          continue;
        }
        // Waiting since it was received (wall clock; on the event clock that time is not wall time).
        const waited = this.deps.clock.mode === 'wall' ? Math.max(0, Date.now() - row.receivedAt) : 0;
        batch.push({ device, topic: row.topic, payload: row.payload, receivedAt: row.receivedAt, t0: performance.now() - waited, inboxId: row.id });
      }
      this.process(batch);
    }
  }

  private pruneRejections(): void {
    this.rejectionsSincePrune = 0;
    // A unit of its own (src/store/store.ts), called outside every transaction; every 500 rejections, not per message.
    this.deps.store.rejections.keepNewest(this.deps.settings.rejectionsMax).catch((err: unknown) => this.deps.log.warn({ err }, 'pruning old rejections failed; tried again after the next 500'));
  }

  /** Process what is queued and refuse new work. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.pending.length) this.flush();
  }
}
