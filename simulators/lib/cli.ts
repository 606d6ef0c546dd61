// The entry of each simulator command: run `main` when the file is the process entry (not when imported by a
// test), exit with its code, and answer a failure with its message, not a crash dump.
import { pathToFileURL } from 'node:url';

export function runAsCli(moduleUrl: string, main: () => Promise<number>, opts: { stack?: boolean } = {}): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(opts.stack ? (err.stack ?? err.message) : err.message);
      process.exit(1);
    },
  );
}
