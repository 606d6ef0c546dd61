// Each channel's request against a local receiver that checks the platform's body shape and recomputes the
// signature with its own code; and the judging of answers (a 200 with a non-zero errcode is a failure).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { channels, type Notice, type Destination } from '../../src/notify/channels/index.js';
import { RobotReceiver } from '../robotReceiver.js';

const secrets = { 'ding-1': 'SEC0123456789abcdef', 'fs-1': 'feishu-secret-1', 'wh-1': 'webhook-key-1' };
let rx: RobotReceiver;
beforeAll(async () => {
  rx = await new RobotReceiver({ secrets }).start();
});
afterAll(() => rx.stop());

const notice: Notice = {
  title: '【紧急】桂花园 6号楼302 烟感报警',
  lines: ['位置：桂花园 6号楼 302（独居老人）', '级别：紧急', '时间：11月22日 09:41'],
  severity: 'critical',
  mentionMobiles: ['13800000001'],
  ackUrl: 'http://localhost:8080/ack/abc',
  alertId: 1,
};

async function send(dest: Destination, notices: Notice[], now = Date.now()) {
  const ch = channels[dest.type];
  const req = ch.build(dest, notices, now);
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  return ch.judge(res.status, await res.text());
}

describe('notification channels', () => {
  it('WeCom: a text message mentioning by mobile', async () => {
    expect(await send({ id: 'wc-1', type: 'wecom', url: rx.robotUrl('wecom', 'wc-1') }, [notice])).toEqual({ ok: true });
    const got = rx.accepted('wecom').at(-1)!;
    expect(got.body).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: ['13800000001'] } });
    expect(got.text).toContain('6号楼302 烟感报警');
    expect(got.text).toContain('一键确认：http://localhost:8080/ack/abc');
  });

  it('DingTalk: signed markdown whose text carries the @mobile', async () => {
    expect(await send({ id: 'ding-1', type: 'dingtalk', url: rx.robotUrl('dingtalk', 'ding-1'), secret: secrets['ding-1'] }, [notice, { ...notice, title: '第二条' }])).toEqual({ ok: true });
    const got = rx.accepted('dingtalk').at(-1)!;
    expect(got.text).toContain('@13800000001');
    expect((got.body.markdown as { title: string }).title).toContain('等2条');
    // A wrong secret is refused by the receiver's own check, and the 200 + errcode answer counts as failure.
    const wrong = await send({ id: 'ding-1', type: 'dingtalk', url: rx.robotUrl('dingtalk', 'ding-1'), secret: 'SECwrong' }, [notice]);
    expect(wrong).toMatchObject({ ok: false, retryable: false });
    expect(rx.received.at(-1)!.error).toBe('dingtalk: sign mismatch');
  });

  it('Feishu: signed text (seconds, key = timestamp + newline + secret)', async () => {
    expect(await send({ id: 'fs-1', type: 'feishu', url: rx.robotUrl('feishu', 'fs-1'), secret: secrets['fs-1'] }, [notice])).toEqual({ ok: true });
    const stale = await send({ id: 'fs-1', type: 'feishu', url: rx.robotUrl('feishu', 'fs-1'), secret: secrets['fs-1'] }, [notice], Date.now() - 2 * 3_600_000);
    expect(stale).toMatchObject({ ok: false });
    expect(rx.received.at(-1)!.error).toBe('feishu: timestamp outside one hour');
  });

  it('webhook: JSON with an HMAC-SHA256 signature header over timestamp and body', async () => {
    expect(await send({ id: 'wh-1', type: 'webhook', url: rx.robotUrl('webhook', 'wh-1'), secret: secrets['wh-1'] }, [notice])).toEqual({ ok: true });
    const got = rx.accepted('webhook').at(-1)!;
    expect(got.body).toMatchObject({ source: 'shaobing', notifications: [{ alertId: 1, severity: 'critical' }] });
    const forged = await send({ id: 'wh-1', type: 'webhook', url: rx.robotUrl('webhook', 'wh-1'), secret: 'not-the-key' }, [notice]);
    expect(forged).toEqual({ ok: false, retryable: false, reason: 'HTTP 401' });
    expect(rx.received.at(-1)!.error).toBe('webhook: signature mismatch');
  });

  it('judges answers: errcode 45009 is a retryable failure, 5xx retryable, 4xx not', () => {
    expect(channels.wecom.judge(200, '{"errcode":45009,"errmsg":"api freq out of limit"}')).toMatchObject({ ok: false, retryable: true });
    expect(channels.wecom.judge(200, '{"errcode":93000,"errmsg":"invalid webhook url"}')).toMatchObject({ ok: false, retryable: false });
    expect(channels.feishu.judge(200, '{"code":19021,"msg":"sign match fail"}')).toMatchObject({ ok: false, retryable: false });
    expect(channels.dingtalk.judge(503, '')).toMatchObject({ ok: false, retryable: true });
    expect(channels.webhook.judge(404, '')).toMatchObject({ ok: false, retryable: false });
  });
});
