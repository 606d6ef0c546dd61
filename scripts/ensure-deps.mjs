// Runs before `npm start` and `npm test`: installs npm packages when a fresh clone has none,
// so a new user needs only the two commands. It never downloads anything but npm packages.
//
// It says what it does while it does it: npm's own progress and the install scripts' output (better-sqlite3
// downloads a prebuilt binary or compiles from source, which takes minutes on a busy machine and used to print
// nothing), and a line every 20 s with the time so far.
import { existsSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';

const say = (msg) => console.error(`[shaobing] ${msg}`);
/** How often to say it is still at work (SHAOBING_INSTALL_TICK_SECONDS; tests shorten it). */
const TICK_MS = (Number(process.env.SHAOBING_INSTALL_TICK_SECONDS) || 20) * 1000;
const stamp = 'node_modules/.package-lock.json';
const needInstall =
  !existsSync('node_modules') ||
  !existsSync(stamp) ||
  (existsSync('package-lock.json') && statSync('package-lock.json').mtimeMs > statSync(stamp).mtimeMs + 1000);

let sqliteOk = false;
if (!needInstall) {
  try {
    const { default: Database } = await import('better-sqlite3');
    new Database(':memory:').close();
    sqliteOk = true;
  } catch {
    sqliteOk = false;
  }
}

/** Run npm with its output shown, a progress line every 20 s; exits like npm when it fails. */
function npm(args, what) {
  const started = Date.now();
  const secs = () => Math.round((Date.now() - started) / 1000);
  say(`${what}: npm ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { stdio: 'inherit' });
    const ticker = setInterval(() => say(`still ${what.toLowerCase()}… ${secs()} s so far`), TICK_MS);
    child.on('exit', (code, signal) => {
      clearInterval(ticker);
      if (code === 0) {
        say(`${what}: done in ${secs()} s`);
        resolve();
      } else {
        say(`${what} failed (${signal ?? `exit ${code}`}) after ${secs()} s; see npm's output above`);
        process.exit(code || 1);
      }
    });
  });
}

if (needInstall) {
  say('first run: installing npm packages. better-sqlite3 then fetches a prebuilt binary or compiles from source');
  say('(compiling takes about 2 min, up to 5 on a busy machine; its compiler output shows below)');
  await npm(['install', '--no-audit', '--no-fund', '--progress=true', '--foreground-scripts'], 'Installing npm packages');
} else if (!sqliteOk) {
  say('better-sqlite3 does not load in this Node.js; rebuilding it (compiling better-sqlite3, ~2 min)…');
  await npm(['rebuild', 'better-sqlite3', '--foreground-scripts'], 'Rebuilding better-sqlite3');
}
