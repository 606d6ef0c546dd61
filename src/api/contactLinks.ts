// The one-tap page texted to a family (已联系上，平安 / 联系不上) or to a duty phone (确认接警): <publicUrl>/c/<code>.
// A short random code (a platform's template variable is short), kept in contact_links with the alert, who it
// was sent to (masked), an expiry in wall time, and single use. GET only shows the page — phones and chat apps
// fetch links to preview them — the buttons POST.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PhoneNotifier, LinkAnswer } from '../notify/phone/index.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · 哨兵</title><style>body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:24px;background:#f4f5f7;color:#1f2329}
main{max-width:420px;margin:auto;background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 4px #0002}h1{font-size:20px;margin:0 0 12px}p{margin:6px 0;font-size:16px}
button{width:100%;padding:16px;font-size:20px;border:0;border-radius:10px;color:#fff;margin-top:14px}.safe{background:#389e0d}.no{background:#d4380d}.ack{background:#1677ff}</style></head>
<body><main>${body}</main></body></html>`);
}

const DONE: Record<LinkAnswer, string> = {
  safe: '已记录：已联系上，平安。谢谢您！',
  unreachable: '已记录：联系不上。社区已安排人员上门查看。',
  ack: '已确认接警，请尽快到场处置。',
};

export function contactLinksApi(phone: () => PhoneNotifier) {
  return async function contactLinkRoutes(app: FastifyInstance): Promise<void> {
    app.get<{ Params: { code: string } }>('/c/:code', { schema: { hide: true, params: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Za-z0-9]{6,16}$' } } } } }, async (req, reply) => {
      const info = phone().linkInfo(req.params.code);
      if (!info) return page(reply, 404, '链接无效', '<h1>链接无效</h1><p>请联系社区。</p>');
      if (info.expired) return page(reply, 410, '链接已过期', '<h1>链接已过期</h1><p>请联系社区。</p>');
      const head = `<h1>${esc(info.alert.title)}</h1>`;
      if (info.used) return page(reply, 200, info.alert.title, `${head}<p>此链接已使用。</p>`);
      const action = (a: LinkAnswer) => `${encodeURIComponent(req.params.code)}/${a}`;
      if (info.purpose === 'ack')
        return page(reply, 200, info.alert.title, `${head}<form method="post" action="${action('ack')}"><button class="ack" type="submit">确认接警</button></form>`);
      return page(
        reply,
        200,
        info.alert.title,
        `${head}<p>请先打电话或上门联系老人，再告诉我们结果：</p>
<form method="post" action="${action('safe')}"><button class="safe" type="submit">已联系上，平安</button></form>
<form method="post" action="${action('unreachable')}"><button class="no" type="submit">联系不上</button></form>`,
      );
    });

    app.post<{ Params: { code: string; answer: LinkAnswer } }>(
      '/c/:code/:answer',
      { schema: { hide: true, params: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Za-z0-9]{6,16}$' }, answer: { enum: ['safe', 'unreachable', 'ack'] } } } } },
      async (req, reply) => {
        const r = phone().answer(req.params.code, req.params.answer);
        if (r.ok) return page(reply, 200, '已记录', `<h1>${esc(DONE[req.params.answer])}</h1><p>${esc(r.alert.title)}</p>`);
        if (r.reason === 'used') return page(reply, 409, '此链接已使用', '<h1>此链接已使用</h1>');
        if (r.reason === 'expired') return page(reply, 410, '链接已过期', '<h1>链接已过期</h1>');
        return page(reply, 404, '链接无效', '<h1>链接无效</h1>');
      },
    );
  };
}
