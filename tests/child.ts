// The service as a real child process (crash tests): started with `node --import tsx src/main.ts`, its chosen
// ports read from the start-up log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN } from './helpers.js';

export interface Child {
  proc: ChildProcess;
  mqttUrl: string;
  httpUrl: string;
  exited: Promise<number | null>;
  /** Everything it has written to stdout (its log), from the start. */
  stdout: string[];
}

export const children: ChildProcess[] = [];

/** Kill what a test left running. */
export function killChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
}

export function startChild(dataDir: string, failpoints = '', env: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      SHAOBING_CONFIG: 'config/settings.yaml',
      SHAOBING_DATA_DIR: dataDir,
      SHAOBING_MQTT_PORT: '0',
      SHAOBING_HTTP_PORT: '0',
      SHAOBING_ADMIN_TOKEN: ADMIN_TOKEN,
      SHAOBING_LOG_LEVEL: 'info',
      SHAOBING_FAILPOINTS: failpoints,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    const stdout: string[] = [];
    lines.on('line', (line) => {
      stdout.push(line);
      if (!line.includes('shaobing listening')) return;
      const { mqtt, http } = JSON.parse(line) as { mqtt: number; http: number };
      resolve({ proc, mqttUrl: `mqtt://127.0.0.1:${mqtt}`, httpUrl: `http://127.0.0.1:${http}`, exited, stdout });
    });
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening: ${stderr}`)));
  });
}
