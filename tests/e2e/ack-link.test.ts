// The one-tap acknowledge link as a duty officer meets it: a smoke alarm reaches the property group's robot
// (a local receiver), the link in that message is opened in a real Chromium, the page's button is clicked,
// and the alert is acknowledged with a Chinese confirmation — not a raw JSON error (issue #13 item 1).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startApp, connectDevice, auth, waitFor, type TestApp } from '../helpers.js';
import { RobotReceiver } from '../robotReceiver.js';
import { requireChromium, launchChromium, artifactsDir } from './browser.js';

const run = requireChromium('the one-tap acknowledge link test');
const SMOKE = 'gh-sd-6-302';

describe.skipIf(!run)('one-tap acknowledge link in Chromium', () => {
  let t: TestApp;
  let rx: RobotReceiver;
  let browser: Browser;

  beforeAll(async () => {
    rx = await new RobotReceiver().start();
    const notify = {
      destinations: [{ id: 'gh-duty', type: 'wecom', url: rx.robotUrl('wecom', 'gh-duty'), reaches: { communities: ['guihuayuan'], roles: ['property_duty'] } }],
    };
    [t, browser] = await Promise.all([startApp({ notify }), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await rx?.stop();
  });

  it('opens the link from the chat message, clicks 确认接警, and the alert is acknowledged', async () => {
    const sd = await connectDevice(t.mqttUrl, SMOKE);
    await sd.publishAsync(`iot/guihuayuan/${SMOKE}/up`, JSON.stringify({ type: 'alarm', smokePct: 40 }), { qos: 1 });
    sd.end(true);
    const message = await waitFor(() => rx.accepted('wecom').find((r) => r.text.includes('烟感报警')), 'the robot message', 8000);
    const link = new URL(/一键确认：(\S+)/.exec(message.text)![1]);
    // The message's base URL is settings.http.publicUrl; the test server listens on a free port.
    const url = `${t.httpUrl}${link.pathname}`;
    const list = await t.app.api.inject({ url: `/api/alerts?kind=smoke&deviceId=${SMOKE}`, headers: auth() });
    const alert = (list.json() as { items: Array<{ id: number; status: string }> }).items[0];
    expect(alert.status).toBe('open');

    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    ctx.setDefaultTimeout(5000);
    const page = await ctx.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: '确认接警' }).click();
    await page.getByRole('heading', { name: '已确认' }).waitFor();
    const body = await page.locator('body').innerText();
    expect(body).toContain('6号楼302 烟感报警');
    expect(body).toContain('请尽快到场处置');
    expect(body).not.toMatch(/FST_ERR|statusCode|Unsupported Media Type/);
    await page.screenshot({ path: join(artifactsDir(), 'ack-link-confirmed.png') });

    const after = await t.app.api.inject({ url: `/api/alerts/${alert.id}`, headers: auth() });
    const acked = after.json() as { status: string; timeline: Array<{ type: string; actor: string }> };
    expect(acked.status).toBe('acknowledged');
    expect(acked.timeline.find((e) => e.type === 'acknowledged')?.actor).toBe('link:gh-duty');

    // Reloading the page (the browser offers to resend the form) does not acknowledge twice: the link is used.
    await page.goto(url);
    expect(await page.locator('body').innerText()).toContain('此链接已使用');
    await ctx.close();
  });
});
