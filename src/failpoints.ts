// Fault injection for crash tests, in the manner of database failpoints: SHAOBING_FAILPOINTS="ingest.afterInbox"
// (comma-separated names) makes the named step stop where a crash would. Never set in production; the names
// in use are listed here so a typo does not silently test nothing.
// `ingest.poison`: processing a message whose payload contains POISON_MARKER throws after its rules ran (tests
// of the quarantine, src/ingest/pipeline.ts). `telemetry.afterCommit`: the InfluxDB sink queues points with
// their readings but sends none (crash tests, src/telemetry/influx.ts). `externalBroker.hold`: uplinks taken
// from an external broker are held before ingest, never acknowledged — a crash before the inbox commit
// (src/transport/externalBroker.ts). `externalBroker.holdAck`: an uplink from an external broker is committed and
// its PUBACK never sent — a crash between the two (exactly once across a crash, src/ingest/pipeline.ts).
const KNOWN = ['ingest.afterInbox', 'notify.afterCommit', 'ingest.poison', 'telemetry.afterCommit', 'externalBroker.hold', 'externalBroker.holdAck'] as const;
export const POISON_MARKER = '__shaobing_failpoint_poison__';
export type FailpointName = (typeof KNOWN)[number];

export class Failpoints {
  private readonly on: Set<string>;
  constructor(spec = '') {
    this.on = new Set(spec.split(',').map((s) => s.trim()).filter(Boolean));
    for (const name of this.on)
      if (!(KNOWN as readonly string[]).includes(name)) throw new Error(`unknown failpoint '${name}' (known: ${KNOWN.join(', ')})`);
  }
  active(name: FailpointName): boolean {
    return this.on.size > 0 && this.on.has(name);
  }
}
