// WeCom (企业微信) group robot. Docs: developer.work.weixin.qq.com/document/path/91770 (DOMAIN.md §5).
// POST …/cgi-bin/webhook/send?key=KEY with {"msgtype":"text","text":{"content","mentioned_mobile_list"}}.
// Text, not markdown: only text messages can @ someone by mobile. Content ≤ 2048 bytes UTF-8. Not signed.
// Rate limit: 20 messages a minute per robot; over it the answer is HTTP 200 {"errcode":45009}.
import { judgeErrcode, noticeText, type Channel } from './types.js';

export const wecom: Channel = {
  type: 'wecom',
  maxBytes: 2048,
  build(dest, notices) {
    const mobiles = [...new Set(notices.flatMap((n) => n.mentionMobiles))];
    const content = notices.map(noticeText).join('\n\n');
    return {
      url: dest.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'text', text: { content, mentioned_mobile_list: mobiles } }),
    };
  },
  judge(status, body) {
    // 45009: api freq out of limit — wait and retry. Other codes (bad key, bad body) will not heal.
    return judgeErrcode(status, body, [45009]);
  },
};
