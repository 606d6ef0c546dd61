// Devices' connects and disconnects on an external broker (issue 16), which shaobing, a client of that broker,
// does not see by itself. EMQX 5 tells it through a rule and an HTTP action (README "Running on EMQX"):
//
//   SELECT * FROM "$events/client_connected", "$events/client_disconnected"  →  POST /hooks/emqx/events
//
// The action's default body is the event's columns as JSON (EMQX's emqx_rule_events): `event`
// ("client.connected" | "client.disconnected"), `clientid`, `username`, `connected_at` (ms, both events: the
// connection's start), `disconnected_at` and `reason` (a disconnect), `node`, `timestamp`, and more we do not use.
//
// Events come over several HTTP connections from several EMQX nodes, so they can arrive out of order: a device
// that reconnects to another node (its old connection `takenover`, or `kicked`) may have the new connection's
// `client.connected` delivered before the old one's `client.disconnected`. A connection is named by its
// `connected_at`; a disconnect counts only if it ends the latest connection seen, a connect only if it is not
// older than that. (Two connections of one device in the same millisecond are not told apart.)
//
// mosquitto 2 publishes no per-client events (its $SYS tree has counts only), so behind mosquitto `connected`
// stays as it was; devices' liveness (late/offline) comes from their messages either way (src/state/cadence.ts).

export type ConnectionEvent = { deviceId: string; connected: boolean; connectedAt: number };

export class ConnectionTracker {
  /** deviceId → the latest connection seen (its connected_at) and whether it has ended. */
  private readonly latest = new Map<string, { at: number; ended: boolean }>();

  constructor(private readonly max = 100_000) {}

  /** Does this event change the device's connection state (and record it)? False for a stale or repeated event. */
  accept(e: ConnectionEvent): boolean {
    const seen = this.latest.get(e.deviceId);
    if (seen) {
      if (e.connectedAt < seen.at) return false;
      if (e.connectedAt === seen.at && (seen.ended || e.connected)) return false;
    }
    if (!seen && this.latest.size >= this.max) this.latest.delete(this.latest.keys().next().value as string);
    this.latest.set(e.deviceId, { at: e.connectedAt, ended: !e.connected });
    return true;
  }
}
