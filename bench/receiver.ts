// The webhook receiver of bench/notify.ts in a process of its own, so the time a request arrives is taken on
// an event loop that shaobing does not share. Sends {url} once listening, then {at, deviceIds} per accepted
// request (at = Date.now() when the request's body had arrived).
import { RobotReceiver } from '../simulators/lib/robotReceiver.js';

const rx = await new RobotReceiver({ perMinute: 1_000_000 }).start();
process.send?.({ url: rx.robotUrl('webhook', 'ops') });
let seen = 0;
setInterval(() => {
  for (; seen < rx.received.length; seen++) {
    const r = rx.received[seen];
    if (!r.accepted) continue;
    const notes = (r.body.notifications as Array<{ alert?: { deviceId?: string } }> | undefined) ?? [];
    process.send?.({ at: r.at, deviceIds: notes.map((n) => n.alert?.deviceId).filter(Boolean) });
  }
}, 2);
process.on('disconnect', () => process.exit(0));
