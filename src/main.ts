// Process entry: load config, build the app, start, stop gracefully on SIGINT/SIGTERM.
// The only process.exit in the code base.
import { loadConfig, ConfigError } from './config/load.js';
import { buildApp, type App } from './app.js';
import type { Config } from './config/load.js';
import { sampleSecretsInUse, productionRefusal } from './config/samples.js';
import { relative } from 'node:path';
import { STARTUP_ERRORS } from './errors.js';
import { UnitStartError } from './units.js';

/** For the person who typed `npm start` (stderr; the log stays JSON lines on stdout): where the console is and,
 *  when the public sample secrets open anything, a warning nobody can miss. */
function greet(app: App, config: Config): void {
  const s = config.settings;
  const host = ['0.0.0.0', '::', ''].includes(s.http.host) ? 'localhost' : s.http.host.includes(':') ? `[${s.http.host}]` : s.http.host;
  const base = `http://${host}:${app.ports.http}/`;
  process.stderr.write(`shaobing: console at ${base}  (big screen ${base}?mode=big, API ${base}docs, MQTT port ${app.ports.mqtt})\n`);
  const samples = sampleSecretsInUse(app.directory, s.adminToken);
  if (!samples) return;
  const what = [
    samples.devices && `${samples.devices} device secrets`,
    samples.people && `${samples.people} people's API tokens (and their sample passwords)`,
    samples.adminToken && 'the admin token',
  ].filter(Boolean);
  const bar = '!'.repeat(100);
  process.stderr.write(
    [
      bar,
      `!! WARNING: the PUBLIC SAMPLE SECRETS are in use: ${what.join(', ')} from config/sample-secrets.json.`,
      '!! Anyone who has read this repository can connect as these devices and sign in as these people.',
      '!! Fine for a demo on this machine; never on a network. Use your own inventory (npm run provision -- …, new',
      '!! tokenHash/passwordHash for people) and your own SHAOBING_ADMIN_TOKEN.',
      bar,
      '',
    ].join('\n'),
  );
  app.log.warn({ sampleDevices: samples.devices, samplePeople: samples.people, sampleAdminToken: samples.adminToken }, 'the public sample secrets are in use');
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`shaobing: ${err.message}\n`);
      process.exit(STARTUP_ERRORS.SB_CONFIG_INVALID.exit); // EX_CONFIG
    }
    throw err;
  }
  // A fatal condition after start (the PostgreSQL store refused a commit): stop and exit 1 for the supervisor.
  let fatal: ((err: Error) => void) | undefined;
  const app = buildApp(config, { onFatal: (err) => fatal?.(err) });
  // Production with secrets anyone can read is refused (exit 78, like any configuration error) unless it is a demo.
  const refusal = productionRefusal(config, app.directory);
  if (refusal.length) {
    const file = config.settingsPath ? relative(process.cwd(), config.settingsPath) || config.settingsPath : 'settings';
    process.stderr.write(
      [
        `shaobing: refusing to start in production with public secrets (${refusal.length} problem${refusal.length === 1 ? '' : 's'}):`,
        ...refusal.map((r) => `  - ${file}: ${r}`),
        'Anyone who has read this repository knows them. Use your own inventory (npm run provision -- …, new tokenHash and',
        'passwordHash for people) and your own SHAOBING_ADMIN_TOKEN — or, if this is a demo, set SHAOBING_DEMO=1',
        '(settings demo: true). Production is NODE_ENV=production (the Docker image) or settings production: true.',
        '',
      ].join('\n'),
    );
    process.exit(STARTUP_ERRORS.SB_CONFIG_INVALID.exit); // EX_CONFIG
  }
  let stopping = false;
  const stop = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      app.log.error('graceful stop took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    await app.stop();
    process.exit(code);
  };
  fatal = (err) => {
    process.stderr.write(`shaobing: stopping: ${err.message}\n`);
    void stop('fatal', 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await app.start();
    greet(app, config);
  } catch (err) {
    // A unit that fails to start says which it was (src/units.ts); what it threw is the cause.
    const cause = err instanceof UnitStartError ? err.cause : err;
    if (cause instanceof ConfigError) {
      // A problem only start-up can see (a person naming a destination that does not exist): still a config error.
      process.stderr.write(`shaobing: ${cause.message}\n`);
      await app.stop().catch(() => undefined);
      process.exit(STARTUP_ERRORS.SB_CONFIG_INVALID.exit);
    }
    const e = err as NodeJS.ErrnoException;
    app.log.fatal({ code: e.code, message: e.message }, 'start-up failed');
    process.stderr.write(`shaobing: start-up failed: ${e.code ? `${e.code} ` : ''}${e.message}\n`);
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
