// Who may connect and what each may publish and subscribe: one set of rules for every broker that carries
// device traffic — the embedded aedes (src/broker/broker.ts) and an external EMQX 5 cluster that asks shaobing
// through its HTTP authentication and authorization hooks (src/api/brokerHooks.ts). CONTRACT.md "MQTT (devices)".
//
//  - a device logs in with its id as username and client id and its secret as password; it publishes only to
//    iot/<community>/<id>/up and subscribes only to its own …/down and …/errors;
//  - the read-only operator login (`shaobing-operator`, password = the admin token) subscribes to iot/… or #
//    and publishes nothing;
//  - the service login (`shaobing-service`, only where settings.brokerHooks.serviceSecretHash is set: the
//    shaobing instances themselves on an external broker) takes device uplinks, plain or by a shared
//    subscription ($share/<group>/iot/<community>/+/up), and publishes devices' …/down and …/errors.
import { timingSafeEqual } from 'node:crypto';
import type { Directory, DeviceInfo } from '../config/inventory.js';
import type { DevicesRepo } from '../store/store.js';
import { verifySecret } from './secrets.js';

/** Username of the read-only operator login (recorder, dashboards); its password is the admin token. */
export const OPERATOR_USERNAME = 'shaobing-operator';
/** Username the shaobing instances log in with on an external broker. */
export const SERVICE_USERNAME = 'shaobing-service';

export type Principal = { device: DeviceInfo } | { operator: true } | { service: true };

export interface AccessDeps {
  directory: Directory;
  repo: Pick<DevicesRepo, 'find'>;
  adminToken?: string;
  /** Hashed password of the service login; absent = no service login (the embedded broker). */
  serviceSecretHash?: string;
}

export type Verdict =
  | { ok: true; who: Principal }
  | { ok: false; returnCode: 2 | 4; reason: 'bad_credentials' | 'client_id'; message: string };

/**
 * The device a username names: the directory, or the store for one provisioned by the CLI while we run (looked
 * up once, then added). A row whose community has left the configuration is refused, never added. Throws when
 * the store fails.
 */
export function findDevice(deps: Pick<AccessDeps, 'directory' | 'repo'>, username: string | undefined): DeviceInfo | undefined {
  if (!username) return undefined;
  const known = deps.directory.devices.get(username);
  if (known) return known;
  const row = deps.repo.find(username);
  return row && deps.directory.communities.has(row.communityId) ? deps.directory.addDevice(row) : undefined;
}

function sameSecret(given: Buffer | string | undefined, expected: string | undefined): boolean {
  if (!expected || given === undefined) return false;
  const a = Buffer.isBuffer(given) ? given : Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Check a CONNECT's credentials (after the throttles). Throws when the store fails. */
export function checkCredentials(
  deps: AccessDeps,
  username: string | undefined,
  password: Buffer | string | undefined,
  clientId: string,
  /** The device found already (a cache hit): skips the lookup, never the secret check. */
  device?: DeviceInfo,
): Verdict {
  const bad: Verdict = { ok: false, returnCode: 4, reason: 'bad_credentials', message: 'Bad username or password' };
  if (username === OPERATOR_USERNAME) return sameSecret(password, deps.adminToken) ? { ok: true, who: { operator: true } } : bad;
  if (username === SERVICE_USERNAME) {
    if (!deps.serviceSecretHash) return bad;
    return verifySecret(password, deps.serviceSecretHash) ? { ok: true, who: { service: true } } : bad;
  }
  const d = device ?? findDevice(deps, username);
  if (!d || !verifySecret(password, d.secretHash)) return bad;
  // The client id must be the device id, so one device cannot take over another's session.
  if (clientId !== d.id) return { ok: false, returnCode: 2, reason: 'client_id', message: 'client id must equal the device id' };
  return { ok: true, who: { device: d } };
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `$share/<group>/<filter>` → the group and the filter; undefined for a plain filter. */
export function sharedFilter(filter: string): { group: string; filter: string } | undefined {
  const m = /^\$share\/([^/+#]+)\/(.+)$/.exec(filter);
  return m ? { group: m[1], filter: m[2] } : undefined;
}

export function mayPublish(who: Principal, topic: string): boolean {
  if ('device' in who) return topic === who.device.uplinkTopic;
  if ('service' in who) {
    const p = topic.split('/');
    return p.length === 4 && p[0] === 'iot' && SEGMENT.test(p[1]) && SEGMENT.test(p[2]) && (p[3] === 'down' || p[3] === 'errors');
  }
  return false;
}

export function maySubscribe(who: Principal, filter: string): boolean {
  if ('operator' in who) return filter === '#' || filter.startsWith('iot/');
  if ('service' in who) {
    const p = (sharedFilter(filter)?.filter ?? filter).split('/');
    return p.length === 4 && p[0] === 'iot' && (p[1] === '+' || SEGMENT.test(p[1])) && p[2] === '+' && p[3] === 'up';
  }
  const d = who.device;
  return filter === `iot/${d.communityId}/${d.id}/down` || filter === `iot/${d.communityId}/${d.id}/errors`;
}
