// Feishu/Lark custom bot. Docs: open.larkoffice.com … /ucTM5YjL3ETO24yNxkjN (DOMAIN.md §5).
// Body {"timestamp": "<seconds>", "sign", "msg_type": "text", "content": {"text"}} where
//   sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")) — the key is the string, the
//   message is empty, and the timestamp is in seconds: not DingTalk's scheme.
// Success is {"code":0}; 19021 sign/time, 19022 IP, 19024 keyword, 9499 bad request, 11232 throttled.
import { createHmac } from 'node:crypto';
import { judgeStatus, noticeText, type Channel } from './types.js';

export function feishuSign(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}

export const feishu: Channel = {
  type: 'feishu',
  maxBytes: 18_000,
  build(dest, notices, now) {
    const timestamp = Math.floor(now / 1000);
    const text = notices.map(noticeText).join('\n\n');
    const body: Record<string, unknown> = { msg_type: 'text', content: { text } };
    if (dest.secret) Object.assign(body, { timestamp: String(timestamp), sign: feishuSign(dest.secret, timestamp) });
    return { url: dest.url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  },
  judge(status, body) {
    const bad = judgeStatus(status);
    if (bad) return bad;
    try {
      const parsed = JSON.parse(body) as { code?: number; StatusCode?: number; msg?: string };
      const code = parsed.code ?? parsed.StatusCode;
      if (code === 0) return { ok: true };
      return { ok: false, retryable: code === 11232 || code === 9499, reason: `code ${code}: ${parsed.msg ?? ''}` };
    } catch {
      return { ok: false, retryable: true, reason: 'answer is not JSON' };
    }
  },
};
