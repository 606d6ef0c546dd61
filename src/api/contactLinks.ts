// The one-tap page texted to a family (已联系上，平安 / 联系不上) or to a duty phone (确认接警): <publicUrl>/c/<code>.
// A short random code (a platform's template variable is short), kept in contact_links with the alert, who it
// was sent to (masked), an expiry in wall time, and single use. GET only shows the page — phones and chat apps
// fetch links to preview them — the buttons POST.
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import { esc, page } from './ack.js';
import type { PhoneNotifier, LinkAnswer } from '../notify/phone/index.js';

const DONE: Record<LinkAnswer, string> = {
  safe: '已记录：已联系上，平安。谢谢您！',
  unreachable: '已记录：联系不上。社区已安排人员上门查看。',
  ack: '已确认接警，请尽快到场处置。',
};

export function contactLinksApi(phone: () => PhoneNotifier) {
  return async function contactLinkRoutes(app: FastifyInstance): Promise<void> {
    app.withTypeProvider<SchemaTypes>().get('/c/:code', { schema: { hide: true, params: { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^[A-Za-z0-9]{6,16}$' } } } } }, async (req, reply) => {
      const info = phone().linkInfo(req.params.code);
      if (!info) return page(reply, 404, '链接无效', '<h1>链接无效</h1><p>请联系社区。</p>');
      if (info.expired) return page(reply, 410, '链接已过期', '<h1>链接已过期</h1><p>请联系社区。</p>');
      const head = `<h1>${esc(info.alert.title)}</h1>`;
      if (info.used) return page(reply, 200, info.alert.title, `${head}<p>此链接已使用。</p>`);
      const action = (a: LinkAnswer) => `${encodeURIComponent(req.params.code)}/${a}`;
      if (info.purpose === 'ack')
        return page(reply, 200, info.alert.title, `${head}<form method="post" action="${action('ack')}"><button type="submit">确认接警</button></form>`);
      return page(
        reply,
        200,
        info.alert.title,
        `${head}<p>请先打电话或上门联系老人，再告诉我们结果：</p>
<form method="post" action="${action('safe')}"><button style="background:#389e0d" type="submit">已联系上，平安</button></form>
<form method="post" action="${action('unreachable')}"><button style="background:#d4380d" type="submit">联系不上</button></form>`,
      );
    });

    app.withTypeProvider<SchemaTypes>().post(
      '/c/:code/:answer',
      { schema: { hide: true, params: { type: 'object', required: ['code', 'answer'], properties: { code: { type: 'string', pattern: '^[A-Za-z0-9]{6,16}$' }, answer: { enum: ['safe', 'unreachable', 'ack'] } } } } },
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
