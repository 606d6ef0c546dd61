// npm run provision -- --id cj-sd-9-101 --kind smoke-detector --community chunjiang [--format milesight-gs524n]
//     [--household cj-9-101 | --space ID | --gate ID] [--building ID] [--area 楼道]
// npm run provision -- --token        (a new staff token and the tokenHash to put in people[] of an inventory)
// npm run provision -- --secret       (a new HTTP integration secret and the secretHash for integrations[])
// npm run provision -- --password     (reads a console password from stdin, prints the passwordHash for people[])
// Provisions a device into the data dir's database, or the PostgreSQL store when settings store.postgresUrl is
// set (the running service picks it up on the device's first connect), and prints its secret once — after the
// commit. Only the hash is stored.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config/load.js';
import { Directory } from '../config/inventory.js';
import { openDb } from '../store/db.js';
import { DevicesRepo } from '../store/devicesRepo.js';
import { openPgStore } from '../store/pg/index.js';
import { provisionDevice } from '../broker/provision.js';
import { hashSecret, newSecret } from '../broker/secrets.js';
import { hashPassword, PASSWORD_MIN_LENGTH } from '../api/passwords.js';
import { createInterface } from 'node:readline';
import { AppError } from '../errors.js';
import { deviceKinds } from '../../devices/index.js';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    kind: { type: 'string' },
    community: { type: 'string' },
    format: { type: 'string' },
    household: { type: 'string' },
    space: { type: 'string' },
    gate: { type: 'string' },
    building: { type: 'string' },
    area: { type: 'string' },
    token: { type: 'boolean' },
    secret: { type: 'boolean' },
    password: { type: 'boolean' },
    json: { type: 'boolean' },
  },
});

function fail(message: string): never {
  process.stderr.write(`provision: ${message}\n`);
  process.exit(2);
}

if (values.token) {
  const token = newSecret();
  process.stdout.write(`token:     ${token}\ntokenHash: ${hashSecret(token)}\n(the token is shown this once; put tokenHash in the person's entry)\n`);
  process.exit(0);
}
if (values.secret) {
  const secret = newSecret();
  process.stdout.write(
    `secret:     ${secret}\nsecretHash: ${hashSecret(secret)}\n(the secret is shown this once; put secretHash in the integration's entry, the secret in the sender's header)\n`,
  );
  process.exit(0);
}
/** The first line of stdin; on a terminal, asked for without echoing it. */
async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  if (process.stdin.isTTY) {
    process.stderr.write('password: ');
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

if (values.password) {
  const password = await readPassword();
  if (password.length < PASSWORD_MIN_LENGTH) fail(`a password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  process.stdout.write(`passwordHash: ${hashPassword(password)}\n(put it and a username in the person's entry of the inventory)\n`);
  process.exit(0);
}
if (!values.id || !values.kind || !values.community) fail('--id, --kind and --community are required (or --token, --secret, or --password)');

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const pgUrl = config.settings.store.postgresUrl;
const pgStore = pgUrl
  ? await openPgStore({ url: pgUrl }).catch((err: Error) => fail(`cannot open the PostgreSQL store: ${err.message}`))
  : undefined;
const db = pgStore ? undefined : openDb({ dataDir: config.settings.dataDir, synchronous: config.settings.store.synchronous });
try {
  const { device, secret } = provisionDevice(
    { directory: new Directory(config.communities), repo: pgStore ? pgStore.devices : new DevicesRepo(db!), kinds: deviceKinds, now: Date.now() },
    {
      id: values.id,
      kind: values.kind,
      communityId: values.community,
      format: values.format,
      householdId: values.household,
      spaceId: values.space,
      gateId: values.gate,
      buildingId: values.building,
      area: values.area,
    },
  );
  await pgStore?.durable(); // the secret is shown only for a device that is stored
  if (values.json) process.stdout.write(JSON.stringify({ id: device.id, secret, topic: device.uplinkTopic }) + '\n');
  else
    process.stdout.write(
      `device:   ${device.id} (${device.kind}, format ${device.format}, grid ${device.gridId})\n` +
        `username: ${device.id}\nclientId: ${device.id}\npassword: ${secret}\ntopic:    ${device.uplinkTopic}\n` +
        '(the secret is shown this once; only its hash is stored)\n',
    );
} catch (err) {
  if (err instanceof AppError) fail(`${err.code}: ${err.message}`);
  throw err;
} finally {
  db?.close();
  await pgStore?.close();
}
