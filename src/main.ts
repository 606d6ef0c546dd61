// Process entry: load config, build the app, start, stop gracefully on SIGINT/SIGTERM.
// The only process.exit in the code base.
import { loadConfig, ConfigError } from './config/load.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`shaobing: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = buildApp(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      app.log.error('graceful stop took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await app.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      // A problem only start-up can see (a person naming a destination that does not exist): still a config error.
      process.stderr.write(`shaobing: ${err.message}\n`);
      await app.stop().catch(() => undefined);
      process.exit(78);
    }
    const e = err as NodeJS.ErrnoException;
    app.log.fatal({ code: e.code, message: e.message }, 'start-up failed');
    process.stderr.write(`shaobing: start-up failed: ${e.code ? `${e.code} ` : ''}${e.message}\n`);
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
