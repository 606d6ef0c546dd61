// The outbox survives a crash: killed between the commit of the alert (and its queued notification) and the
// send, the message goes out once after restart. A real child process, real SQLite, a local robot receiver.
import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectDevice, tempDir, waitFor, ADMIN_TOKEN } from '../helpers.js';
import { startChild, killChildren, type Child } from '../child.js';
import { RobotReceiver } from '../robotReceiver.js';
import { PhoneReceiver } from '../phoneReceiver.js';
import { sampleReceiverOptions, samplePhoneSettings } from '../../simulators/lib/phoneSample.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  killChildren();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** 王婆婆's smoke detector alarms over MQTT; returns the alert once the child has committed it. */
async function smokeAlarm(child: Child): Promise<Array<{ title: string }>> {
  const secrets = (await import('../../config/sample-secrets.json', { with: { type: 'json' } })).default as { devices: Record<string, string> };
  const client = await connectDevice(child.mqttUrl, 'gh-sd-6-302', secrets.devices['gh-sd-6-302']);
  await client.publishAsync('iot/guihuayuan/gh-sd-6-302/up', JSON.stringify({ type: 'alarm', smokePct: 50, ts: Date.parse('2025-03-01T08:00:00+08:00') }), { qos: 1 });
  client.end(true);
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  return waitFor(async () => {
    const items = ((await (await fetch(`${child.httpUrl}/api/alerts?kind=smoke`, { headers })).json()) as { items: Array<{ title: string }> }).items;
    return items.length === 1 && items;
  }, 'alert committed');
}

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
    const alerts = await smokeAlarm(first);
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
  }, 90_000); // two child processes start (tsx compiles each): 22 s alone, over 40 s on a loaded machine

  it('texts and calls too: queued with the alert, killed before sending, sent once after restart; the log has no number and no key', async () => {
    const rx = await new PhoneReceiver(sampleReceiverOptions()).start();
    const dir = tempDir('shaobing-phone-crash-');
    cleanups.push(() => rx.stop(), () => dir.remove());
    const settings = join(dir.path, 'settings.yaml');
    const phone = {
      ...samplePhoneSettings(rx, dir.path),
      // At once, so the rows are committed with the alert: the duty phone is called, the family texted.
      routes: { smoke: [{ afterMinutes: 0, to: ['duty'], by: 'call' }, { afterMinutes: 0, to: ['contacts'], relations: ['family'], by: 'sms' }] },
    };
    // JSON is YAML: the settings file carries the phone section as written.
    writeFileSync(settings, JSON.stringify({ clock: 'event', communities: [resolve('config/communities/guihuayuan.yaml')], notify: { phone } }));
    const env = { SHAOBING_CONFIG: settings };
    const first = await startChild(join(dir.path, 'data'), 'notify.afterCommit', env);
    await smokeAlarm(first);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.records.filter((r) => r.action === 'SendSms' || r.action === 'SingleCallByTts')).toEqual([]); // held by the failpoint
    first.proc.kill('SIGKILL');
    await first.exited;

    rx.failNext = 1; // the first send after restart meets an outage: logged (masked) and retried
    const second = await startChild(join(dir.path, 'data'), '', env);
    await waitFor(() => rx.calls('13800000110').length === 1 && rx.sms('13800009667').length === 1, 'sent after restart', 10_000);
    await new Promise((r) => setTimeout(r, 1500)); // several delivery passes: nothing goes out twice
    expect(rx.calls()).toHaveLength(1);
    expect(rx.sms()).toHaveLength(1);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const log = [...first.stdout, ...second.stdout].join('\n');
    expect(log).toContain('phone notifications on');
    expect(log).toMatch(/"to":"138\*\*\*\*(0110|9667)"/);
    expect(log).not.toMatch(/1380000\d{4}/);
    expect(log).not.toContain(rx.opts.aliyun!.accessKeySecret);
    expect(log).not.toContain(rx.opts.tencent!.secretKey);
  }, 90_000); // two child processes start (tsx compiles each): 22 s alone, over 40 s on a loaded machine
});
