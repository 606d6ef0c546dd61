// npm run scenario -- <file.yaml>… [--url http://host:8080 --token <admin token> [--mqtt mqtt://host:1883]]
//     [--secrets config/sample-secrets.json] [--settings config/settings.yaml] [--log-level warn]
// Runs each scenario against a fresh in-process shaobing on the event clock (default), or against a running
// one; prints the report; exits 0 when everything passed (pending ones are skipped), 1 on any mismatch or
// error, 64 on bad usage, 65 on an invalid scenario file.
import { parseArgs } from 'node:util';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadScenarioFile, ScenarioError, type Scenario } from './loader.js';
import { runScenario, type ScenarioResult } from './runner.js';
import { formatResult, formatSummary } from './report.js';
import { remoteTarget, startLocal, type Target } from './target.js';
import { formatDuration } from '../lib/time.js';
import { runAsCli } from '../lib/cli.js';

const USAGE = `usage: npm run scenario -- <file.yaml | folder>… [options]

  (no --url)            start shaobing in this process on the event clock (temp data dir, ports 0)
  --url <http url>      run against a running shaobing instead (it must use clock: event)
  --token <token>       its admin token (needed with --url)
  --mqtt <mqtt url>     its broker (default mqtt://<host of --url>:1883)
  --secrets <file>      device secrets (default config/sample-secrets.json)
  --settings <file>     settings file for the in-process service (default config/settings.yaml)
  --log-level <level>   the in-process service's log level (default silent)`;

/** Files named on the command line; a folder means every *.yaml in it. */
export function scenarioFiles(args: string[]): string[] {
  return args.flatMap((a) =>
    existsSync(a) && statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
          .sort()
          .map((f) => join(a, f))
      : [a],
  );
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        mqtt: { type: 'string' },
        secrets: { type: 'string' },
        settings: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  if (values.url && !values.token) {
    console.error('--url needs --token (an admin token: the replay clock and provisioning need one)');
    return 64;
  }

  // Load every file first: an invalid one stops the run before any service starts.
  const scenarios: Scenario[] = [];
  let invalid = false;
  for (const file of scenarioFiles(positionals)) {
    try {
      const s = loadScenarioFile(file);
      s.file = relative(process.cwd(), file) || file;
      scenarios.push(s);
    } catch (err) {
      invalid = true;
      console.error(err instanceof ScenarioError ? err.message : `${file}: ${(err as Error).message}`);
    }
  }
  if (invalid) return 65;

  const results: ScenarioResult[] = [];
  const tty = process.stderr.isTTY;
  for (const s of scenarios) {
    let target: Target | undefined;
    try {
      if (!s.pending) {
        target = values.url
          ? remoteTarget({ url: values.url, token: values.token!, mqttUrl: values.mqtt, secretsPath: values.secrets })
          : await startLocal({
              settings: s.settings,
              settingsPath: values.settings,
              secretsPath: values.secrets,
              logLevel: values['log-level'],
              notifications: s.notifications,
              phones: s.phones,
            });
        if (values.url && s.settings) console.error(`note: ${s.file}: 'settings:' apply only to the in-process service; the running one keeps its own`);
      }
      const r = await runScenario(s, target as Target, {
        onProgress: (p) => {
          const line = `  … ${s.name}: +${formatDuration(p.at)} of +${formatDuration(p.end)}, step ${p.step}/${p.steps}, ${(p.wallMs / 1000).toFixed(1)} s`;
          if (tty) process.stderr.write(`\r${line}\x1b[K`);
          else if (p.wallMs > 5000) console.error(line);
        },
      });
      if (tty) process.stderr.write('\r\x1b[K');
      results.push(r);
      console.log(formatResult(r));
    } catch (err) {
      const r: ScenarioResult = {
        name: s.name,
        file: s.file,
        status: 'error',
        error: (err as Error).message,
        checks: [],
        alerts: [],
        stats: { messages: 0, clockSteps: 0, virtualMs: 0, wallMs: 0 },
      };
      results.push(r);
      console.log(formatResult(r));
    } finally {
      await target?.stop();
    }
  }
  console.log(formatSummary(results));
  return results.some((r) => r.status === 'failed' || r.status === 'error') ? 1 : 0;
}

runAsCli(import.meta.url, main, { stack: true });
