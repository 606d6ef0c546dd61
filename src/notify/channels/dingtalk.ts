// DingTalk custom robot. Docs: open.dingtalk.com/document/robots/custom-robot-access (DOMAIN.md §5).
// POST …/robot/send?access_token=T&timestamp=MS&sign=S where
//   S = urlEncode(base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret))), timestamp in ms.
// Markdown body; a mention renders only when the text contains "@mobile" and at.atMobiles lists it.
import { createHmac } from 'node:crypto';
import { judgeErrcode, noticeText, type Channel } from './types.js';

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export const dingtalk: Channel = {
  type: 'dingtalk',
  maxBytes: 4000,
  build(dest, notices, now) {
    const mobiles = [...new Set(notices.flatMap((n) => n.mentionMobiles))];
    const url = new URL(dest.url);
    if (dest.secret) {
      url.searchParams.set('timestamp', String(now));
      url.searchParams.set('sign', dingtalkSign(dest.secret, now));
    }
    const text =
      notices.map((n) => `#### ${n.title}\n${noticeText({ ...n, title: '' }).trim().split('\n').map((l) => `- ${l}`).join('\n')}`).join('\n\n') +
      (mobiles.length ? `\n\n${mobiles.map((m) => `@${m}`).join(' ')}` : '');
    return {
      url: url.toString(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        msgtype: 'markdown',
        markdown: { title: notices.length === 1 ? notices[0].title : `${notices[0].title} 等${notices.length}条`, text },
        at: { atMobiles: mobiles, atUserIds: [], isAtAll: false },
      }),
    };
  },
  judge(status, body) {
    // 130101: sending too fast (the robot is throttled for 10 minutes) — retry later.
    return judgeErrcode(status, body, [130101]);
  },
};
