// The outbox survives a crash: killed between the commit of the alert (and its queued notification) and the
// send, the message goes out once after restart. A real child process, real SQLite, a local robot receiver.
import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectDevice, tempDir, waitFor, ADMIN_TOKEN } from '../helpers.js';
import { startChild, killChildren } from '../child.js';
import { RobotReceiver } from '../robotReceiver.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  killChildren();
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('durable outbox', () => {
  it('sends, after a SIGKILL between commit and send, the queued notification exactly once', async () => {
    const rx = await new RobotReceiver().start();
    const dir = tempDir('shaobing-notify-crash-');
    cleanups.push(() => rx.stop(), () => dir.remove());
    const settings = join(dir.path, 'settings.yaml');
    writeFileSync(
      settings,
      [
        'clock: event',
        'communities:',
        `  - ${resolve('config/communities/guihuayuan.yaml')}`,
        'notify:',
        '  destinations:',
        `    - { id: gh-duty, type: wecom, url: "${rx.robotUrl('wecom', 'gh-duty')}", reaches: { roles: [property_duty] } }`,
      ].join('\n') + '\n',
    );
    const env = { SHAOBING_CONFIG: settings };
    const first = await startChild(join(dir.path, 'data'), 'notify.afterCommit', env);
    const secrets = (await import('../../config/sample-secrets.json', { with: { type: 'json' } })).default as { devices: Record<string, string> };
    const client = await connectDevice(first.mqttUrl, 'gh-sd-6-302', secrets.devices['gh-sd-6-302']);
    await client.publishAsync('iot/guihuayuan/gh-sd-6-302/up', JSON.stringify({ type: 'alarm', smokePct: 50, ts: Date.parse('2025-03-01T08:00:00+08:00') }), { qos: 1 });
    client.end(true);
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const alerts = await waitFor(async () => {
      const items = ((await (await fetch(`${first.httpUrl}/api/alerts?kind=smoke`, { headers })).json()) as { items: Array<{ title: string }> }).items;
      return items.length === 1 && items;
    }, 'alert committed');
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.received).toEqual([]); // queued, held by the failpoint, not sent
    first.proc.kill('SIGKILL');
    await first.exited;

    const second = await startChild(join(dir.path, 'data'), '', env);
    await waitFor(() => rx.accepted('wecom').length === 1, 'sent after restart', 10_000);
    await new Promise((r) => setTimeout(r, 4000)); // more than one pacing interval: nothing goes out twice
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0].text).toContain(alerts[0].title);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 40_000);
});
