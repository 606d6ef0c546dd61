// The console on a kiosk (issue #13 item 8): the big screen shows its 设备 panel whole at 1920×1080 and
// 1366×768; a browser on UTC shows the community's time (UTC+8), on the board, in the alert list and on the
// water chart; device status is the server's 正常 / 迟报 / 离线; the chart's unit reads left to right.
// Debian's Chromium against the real service, on the wall clock.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { startApp, connectDevice, sampleSecrets, type TestApp } from '../helpers.js';
import { requireChromium, launchChromium, artifactsDir } from './browser.js';

const run = requireChromium('the big-screen and time-zone tests');
const pad = (n: number) => String(n).padStart(2, '0');
/** HH:MM in UTC+8 of epoch ms `t`. */
const beijing = (t: number) => {
  const d = new Date(t + 8 * 3_600_000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

describe.skipIf(!run)('console on a kiosk whose clock is UTC', () => {
  let t: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const clients: MqttClient[] = [];
  const shots = run ? artifactsDir() : '';

  beforeAll(async () => {
    [t, browser] = await Promise.all([startApp(), launchChromium()]);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.stop();
  });

  async function open(person: string, viewport: { width: number; height: number }, path = '/', view?: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'UTC' });
    contexts.push(ctx);
    ctx.setDefaultTimeout(5000);
    const page = await ctx.newPage();
    await page.goto(`${t.httpUrl}${path}#token=${encodeURIComponent(sampleSecrets.people[person])}`);
    await page.locator('[data-live="true"]').waitFor();
    if (view) await page.evaluate((v) => (location.hash = v), view);
    return page;
  }

  it('shows the whole 设备 panel at 1920×1080 and 1366×768, and the community\'s time', async () => {
    // An alarm, so the board has something to list, and an opened time to show.
    const sd = await connectDevice(t.mqttUrl, 'gh-sd-6-302');
    clients.push(sd);
    await sd.publishAsync('iot/guihuayuan/gh-sd-6-302/up', JSON.stringify({ type: 'alarm', smokePct: 30 }), { qos: 1 });
    for (const viewport of [{ width: 1920, height: 1080 }, { width: 1366, height: 768 }]) {
      const board = await open('gh-duty-1', viewport, '/?mode=big');
      const panel = board.getByTestId('board-devices');
      await panel.locator('.board-health').waitFor();
      const box = (await panel.boundingBox())!;
      expect(box.y, `${viewport.width}×${viewport.height}`).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height, `${viewport.width}×${viewport.height}: the 设备 panel ends inside the screen`).toBeLessThanOrEqual(viewport.height);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      expect(await panel.innerText()).toMatch(/正常[\s\S]*迟报[\s\S]*离线[\s\S]*电量低/);
      // The browser says UTC; the board says Beijing time.
      const shown = (await board.getByTestId('board-time').innerText()).slice(0, 5);
      const now = Date.now();
      expect([beijing(now - 2000), beijing(now), beijing(now + 2000)]).toContain(shown);
      await board.screenshot({ animations: 'disabled', path: join(shots, `console-big-${viewport.width}x${viewport.height}.png`) });
    }
  });

  it('lists an alert at its community time and a meter that reported and hung up as 正常', async () => {
    const meter = 'gh-wm-6-302';
    const wm = await connectDevice(t.mqttUrl, meter);
    const now = Date.now();
    const hour = 3_600_000;
    const intervals = [2, 1].map((h) => ({ start: new Date(now - h * hour).toISOString(), end: new Date(now - (h - 1) * hour).toISOString(), litres: 5 * h }));
    await wm.publishAsync(`iot/guihuayuan/${meter}/up`, JSON.stringify({ type: 'reading', ts: now, totalM3: 3.2, intervals }), { qos: 1 });
    await new Promise<void>((r) => wm.end(false, {}, () => r())); // NB style: upload and hang up

    const page = await open('gh-duty-1', { width: 1440, height: 900 }, '/', '#/devices');
    await page.getByLabel(/只看迟报、离线和电量低的设备/).uncheck();
    const line = page.locator(`[data-device-id="${meter}"]`);
    await expect.poll(() => line.locator('[data-status]').getAttribute('data-status')).toBe('ok');
    expect(await line.innerText()).toContain('正常');

    // The alert's opened time in the alert detail is Beijing time.
    await page.evaluate(() => (location.hash = '#/alerts'));
    await page.locator('.alert-row').first().click();
    const detail = await page.getByTestId('alert-detail').innerText();
    expect(detail).toMatch(new RegExp(beijing(now).slice(0, 2) + ':\\d\\d'));

    // The water chart: hours in Beijing time, its unit in a caption, no axis label on its side.
    await page.evaluate(() => (location.hash = '#/water/gh-6-302'));
    const chart = page.getByTestId('water-chart');
    await chart.locator('canvas').waitFor();
    expect(await page.getByTestId('water-unit').innerText()).toBe('用水量（升）');
    // Hover the last bar: the legend names its hour, in Beijing time (this hour, or the one before).
    const box = (await chart.locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.97, box.y + box.height / 2);
    const legend = await chart.locator('.u-legend').innerText();
    const hours = [now, now - hour].map((x) => `${beijing(x).slice(0, 2)}:00`);
    expect(hours.some((h) => legend.includes(h)), `${legend} names ${hours.join(' or ')}`).toBe(true);
    await page.screenshot({ animations: 'disabled', path: join(shots, 'console-water-utc.png') });
  });
});
