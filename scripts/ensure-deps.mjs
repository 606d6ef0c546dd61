// Runs before `npm start` and `npm test`: installs npm packages when a fresh clone has none,
// so a new user needs only the two commands. It never downloads anything but npm packages.
import { existsSync, statSync } from 'node:fs';
import { execSync } from 'node:child_process';

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

if (needInstall) {
  console.error('[shaobing] installing npm packages (first run; better-sqlite3 compiles, about two minutes)…');
  execSync('npm install --no-audit --no-fund', { stdio: 'inherit' });
} else if (!sqliteOk) {
  console.error('[shaobing] rebuilding better-sqlite3 for this Node.js…');
  execSync('npm rebuild better-sqlite3', { stdio: 'inherit' });
}
