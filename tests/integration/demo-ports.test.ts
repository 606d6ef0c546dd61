// `npm run demo` honours the SHAOBING_* ports like `npm start` (issue #13 item 9): with 1883/8080 taken by
// something else, a user sets SHAOBING_MQTT_PORT / SHAOBING_HTTP_PORT and the demo listens there.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ADMIN_TOKEN } from '../helpers.js';

const procs: ChildProcess[] = [];
afterAll(() => procs.forEach((p) => p.exitCode === null && p.kill('SIGKILL')));

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('npm run demo', () => {
  it('listens on SHAOBING_MQTT_PORT and SHAOBING_HTTP_PORT and prints the console there', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const proc = spawn(process.execPath, ['--import', 'tsx', 'simulators/demo.ts', '--hours', '0.01', '--speed', '600'], {
      env: { ...process.env, SHAOBING_MQTT_PORT: String(mqttPort), SHAOBING_HTTP_PORT: String(httpPort), SHAOBING_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => out.includes('MQTT ') && (clearInterval(timer), resolve()), 50);
      proc.once('exit', (code) => (clearInterval(timer), reject(new Error(`demo exited ${code}: ${out}`))));
    });
    expect(out).toContain(`console    http://localhost:${httpPort}/`);
    expect(out).toContain(`mqtt://127.0.0.1:${mqttPort}`);
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/alerts`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    proc.kill('SIGINT');
  }, 60_000);
});
