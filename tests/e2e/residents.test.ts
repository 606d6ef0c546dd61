// Residents end to end in Debian's Chromium (issue 17 "Done means"): at phone size, with WeChat's user agent, a
// resident opens the household's invite link, files a 随手拍 report with a photo; the grid head sees it arrive
// live in the console with the photo and dispatches it; the grid member accepts it and resolves it with a photo
// of the fix; the resident sees the fix and rates it; the console shows the rating. Screenshots go to
// test-artifacts/ for a person to look at.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, sampleSecrets, type TestApp } from '../helpers.js';
import { requireChromium, launchChromium, artifactsDir } from './browser.js';

const run = requireChromium('the residents end-to-end test');
const PHONE = { width: 390, height: 844 };
const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

describe.skipIf(!run)('residents in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const shots = run ? artifactsDir() : '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startApp(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function open(path: string, opts: { phone?: boolean } = {}): Promise<Page> {
    const ctx = await browser.newContext({
      viewport: opts.phone ? PHONE : { width: 1440, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      ...(opts.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2, userAgent: WECHAT_UA } : {}),
    });
    contexts.push(ctx);
    ctx.setDefaultTimeout(5000);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    await page.goto(`${t.httpUrl}${path}`);
    return page;
  }
  const staff = async (personId: string, view = '') => {
    const page = await open(`/#token=${encodeURIComponent(sampleSecrets.people[personId])}`);
    await page.locator('[data-live="true"]').waitFor();
    if (view) await page.evaluate((v) => (location.hash = v), view);
    return page;
  };
  const naturalWidth = (img: ReturnType<Page['locator']>) => img.evaluate((e) => (e as HTMLImageElement).naturalWidth);

  it('a report with a photo, from the invite link to the rating', async () => {
    // The grid head prints the invites: each household's card has its QR code.
    const head = await staff('gh-head-g1', '#/invites');
    const card = head.locator('li.invite-card[data-household="gh-5-101"]');
    await card.waitFor();
    expect(await naturalWidth(card.locator('img'))).toBeGreaterThan(0);
    expect(await card.innerText()).toContain('5号楼 101室');
    const link = (await card.locator('a.invite-link').getAttribute('href'))!;
    const path = link.slice(link.indexOf('/r/'));
    expect(path).toMatch(/^\/r\/#sbi1\./);
    await head.evaluate(() => (location.hash = '#/alerts'));

    // The resident scans it with WeChat.
    const phone = await open(path, { phone: true });
    await phone.getByText('5号楼 101 室').waitFor();
    expect(phone.url()).not.toContain('sbi1'); // the token leaves the address bar (kept in the browser)
    const form = phone.getByTestId('file-report');
    await form.locator('[data-category="parking"]').tap();
    await form.locator('textarea').fill('消防通道停了一辆白色轿车，挡住了出口');
    await form.locator('select').selectOption('gh-lot-1');
    const picture = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#8a5' } }).jpeg().toBuffer();
    await form.locator('input[type=file]').setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: picture });
    await phone.screenshot({ path: join(shots, 'resident-phone-form.png') });
    const sent = Date.now();
    await form.getByRole('button', { name: '提交' }).click();
    const order = phone.getByTestId('order');
    await order.waitFor();
    await phone.getByText('已提交，网格员会尽快处理').waitFor();
    const id = await order.getAttribute('data-order');
    await expect.poll(() => naturalWidth(order.locator('figure.photo img').first())).toBeGreaterThan(0);

    // The grid head sees it arrive live, with the photo, and dispatches it to a grid member.
    const row = head.locator(`li.alert-row[data-alert-id="${id}"]`);
    await row.waitFor({ timeout: 3000 });
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(await row.innerText()).toContain('随手拍：乱停放');
    await row.click();
    const detail = head.getByTestId('alert-detail');
    await expect.poll(() => naturalWidth(detail.getByTestId('photos').locator('img').first())).toBeGreaterThan(0);
    expect(await detail.innerText()).toContain('消防通道停了一辆白色轿车');
    await detail.getByTestId('assignee').selectOption('gh-member-g1-1');
    await detail.locator('[data-action="dispatch"]').click();
    await detail.locator('[data-testid="detail-status"][data-status="dispatched"]').waitFor();

    // The member accepts it and resolves it with a photo of the fix.
    const member = await staff('gh-member-g1-1', `#/alerts/${id}`);
    const mDetail = member.getByTestId('alert-detail');
    await mDetail.locator('[data-action="accept"]').click();
    await mDetail.locator('[data-testid="detail-status"][data-status="accepted"]').waitFor();
    const fixed = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#ddd' } }).jpeg().toBuffer();
    await mDetail.getByTestId('fix-photo').setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: fixed });
    await mDetail.getByLabel('办结说明').fill('已联系车主挪车，通道畅通');
    await mDetail.locator('[data-action="resolve"]').click();
    await mDetail.locator('[data-testid="detail-status"][data-status="resolved"]').waitFor();
    await expect.poll(() => mDetail.getByTestId('photos').locator('figure').count()).toBe(2);
    expect(await mDetail.locator('[data-action="rate"]').count()).toBe(0); // not the member's to rate
    await detail.locator('[data-testid="detail-status"][data-status="resolved"]').waitFor();
    expect(await detail.locator('[data-action="rate"]').count()).toBe(0); // nor the head's: the resident's

    // The resident opens the page again (the link is kept), sees the fix with its photo and rates it.
    await phone.reload();
    await phone.locator('[data-tab="mine"]').tap();
    const mine = phone.locator(`button.order[data-order="${id}"]`);
    await mine.waitFor();
    expect(await mine.innerText()).toContain('请评价');
    await mine.tap();
    await phone.getByTestId('resolution').getByText('已联系车主挪车').waitFor();
    await expect.poll(() => naturalWidth(phone.getByTestId('fix-photo').locator('img'))).toBeGreaterThan(0);
    const rate = phone.getByTestId('rate');
    await rate.locator('[data-score="4"]').tap();
    await rate.locator('input[name=comment]').fill('挪得很快，谢谢');
    await rate.getByRole('button', { name: '提交评价' }).click();
    await phone.getByTestId('rated').getByText('★★★★☆ 挪得很快，谢谢').waitFor();
    await phone.screenshot({ path: join(shots, 'resident-phone-rated.png') });

    // The console shows the resident's rating on the alert.
    await head.reload();
    await head.evaluate((v) => (location.hash = v), `#/alerts/${id}`);
    await head.getByTestId('alert-detail').getByText('★★★★☆ 挪得很快，谢谢').waitFor();
    await head.screenshot({ path: join(shots, 'console-resident-report.png') });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
