// Issue 17 end to end: a Hikvision camera's ISAPI push (multipart: the EventNotificationAlert XML and its JPEG)
// over HTTP to the real service opens the right alert — 烟火报警 for the e-bike shed, critical — and the property
// duty's console, open in Debian's Chromium, shows it arrive live with the snapshot (fetched with the console's
// token and shown from a blob: URL), and the timeline says the snapshot was kept.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { startApp, provisionCamera, sampleSecrets, type TestApp } from '../helpers.js';
import { requireChromium, launchChromium, artifactsDir } from './browser.js';

const run = requireChromium('the AI-camera end-to-end test');
const CAM = 'cj-cam-shed-e2e';

/** A camera push as its HTTP listening setting sends it: the XML part, then the picture part. */
function hikvisionPush(picture: Buffer, at: string): Buffer {
  const xml = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\r\n<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">\r\n<ipAddress>10.1.99.8</ipAddress>\r\n<portNo>80</portNo>\r\n<protocol>HTTP</protocol>\r\n<macAddress>a4:4c:62:22:d7:3c</macAddress>\r\n<channelID>1</channelID>\r\n<dateTime>${at}</dateTime>\r\n<activePostCount>1</activePostCount>\r\n<eventType>smokeAndFireDetection</eventType>\r\n<eventState>active</eventState>\r\n<eventDescription>smokeAndFireDetection alarm</eventDescription>\r\n<channelName>电动车棚</channelName>\r\n</EventNotificationAlert>`,
  );
  return Buffer.concat([
    Buffer.from(`--MIME_boundary\r\nContent-Disposition: form-data; name="smokeAndFireDetection"\r\nContent-Type: application/xml; charset="UTF-8"\r\nContent-Length: ${xml.length}\r\n\r\n`),
    xml,
    Buffer.from(`\r\n--MIME_boundary\r\nContent-Disposition: form-data; name="smokeAndFireDetection"; filename="smokeAndFireDetection.jpg"\r\nContent-Type: image/jpeg\r\nContent-Length: ${picture.length}\r\n\r\n`),
    picture,
    Buffer.from('\r\n--MIME_boundary--\r\n'),
  ]);
}

describe.skipIf(!run)('an AI camera event in the console', () => {
  let t: TestApp;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startApp(), launchChromium()]);
    await provisionCamera(t, CAM, '3号楼旁 电动车棚');
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function console_(personId: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    ctx.setDefaultTimeout(5000);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    await page.goto(`${t.httpUrl}/#token=${encodeURIComponent(sampleSecrets.people[personId])}`);
    await page.locator('[data-live="true"]').waitFor();
    return page;
  }

  it('a Hikvision fire push over HTTP opens 烟火报警 live in the console, with its snapshot', async () => {
    const duty = await console_('cj-duty-1');
    // A recognisable picture: 320×180, flame orange.
    const picture = await sharp({ create: { width: 320, height: 180, channels: 3, background: '#ff5a00' } }).jpeg({ quality: 80 }).toBuffer();
    const res = await fetch(`${t.httpUrl}/ingest/cj-cams?device=${CAM}&key=${sampleSecrets.integrations['cj-cams']}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=MIME_boundary' },
      body: new Uint8Array(hikvisionPush(picture, new Date().toISOString())),
    });
    expect(res.status).toBe(202);

    const row = duty.locator('li.alert-row').filter({ hasText: '3号楼旁 电动车棚 烟火报警' });
    await row.waitFor({ timeout: 5000 });
    await row.click();
    const detail = duty.getByTestId('alert-detail');
    const img = detail.getByTestId('photos').locator('figure.photo img').first();
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth), { timeout: 8000 }).toBeGreaterThan(0);
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    expect(await detail.getByTestId('photos').innerText()).toContain('抓拍照片');
    await expect.poll(() => detail.getByTestId('timeline').innerText()).toContain('摄像机抓拍照片已保存');
    expect(await detail.innerText()).toContain('紧急');
    await duty.screenshot({ path: join(artifactsDir(), 'camera-fire-console.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
