// One-tap acknowledge from a phone: the link in a WeCom/DingTalk/Feishu message opens a small Chinese page
// with one button. GET never acknowledges by itself — chat apps fetch links to build previews — the button
// POSTs. The link is signed, expires, and works once (its id is recorded in ack_tokens_used).
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiDeps } from './index.js';
import type { RuleEngine } from '../alerts/engine.js';
import { verifyAck } from '../notify/ackLinks.js';
import { AppError, toAppError } from '../errors.js';

const SEVERITY: Record<string, string> = { critical: '紧急', major: '重要', minor: '一般', info: '提示' };
const STATUS: Record<string, string> = { open: '待确认', acknowledged: '已确认', dispatched: '已派单', accepted: '已接单', resolved: '已办结' };

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The small Chinese page of a one-tap link (this one, and the pages texted to phones: ./contactLinks.ts). */
export function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · 哨兵</title><style>body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:24px;background:#f4f5f7;color:#1f2329}
main{max-width:420px;margin:auto;background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 4px #0002}h1{font-size:20px;margin:0 0 12px}
p{margin:6px 0;font-size:16px}.code{color:#8f959e;font-size:12px}.sev-critical{color:#d4380d;font-weight:700}button{width:100%;padding:16px;font-size:20px;border:0;border-radius:10px;background:#1677ff;color:#fff;margin-top:16px}</style></head>
<body><main>${body}</main></body></html>`);
}

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } as const;

export function ackApi(engine: RuleEngine, signingKey: () => string) {
  return async function ackRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
    const tokens = deps.store.ackTokens;

    const check = (token: string) => {
      const v = verifyAck(signingKey(), token, Date.now()); // links expire in real time (see Notifier.ackUrl)
      if (!v.ok) return { error: v.message };
      const alert = engine.alerts.get(v.claims.alertId);
      if (!alert) return { error: '告警不存在' };
      return { claims: v.claims, alert, used: tokens.used(v.claims.jti) };
    };

    app.withTypeProvider<SchemaTypes>().get('/ack/:token', { schema: { hide: true, params: tokenParams } }, async (req, reply) => {
      const c = check(req.params.token);
      if ('error' in c) return page(reply, 410, c.error ?? '链接无效', `<h1>${esc(c.error ?? '链接无效')}</h1><p>请打开哨兵控制台处理。</p>`);
      const a = c.alert;
      const info = `<h1 class="sev-${a.severity}">${esc(a.title)}</h1><p>级别：${SEVERITY[a.severity]}</p><p>状态：${STATUS[a.status]}</p>`;
      if (c.used || a.status !== 'open') return page(reply, 200, a.title, `${info}<p>${c.used ? '此链接已使用。' : '已有人处理。'}</p>`);
      return page(reply, 200, a.title, `${info}<form method="post"><button type="submit">确认接警</button></form>`);
    });

    // The page's button submits an HTML form: application/x-www-form-urlencoded with nothing in it that is read.
    // Without this parser Fastify refused the click with 415 (issue #13), and the alert stayed open.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, _body, done) => done(null, {}));
    // A person on a phone reads a Chinese page, never a JSON error.
    app.setErrorHandler((err, req, reply) => {
      const e = toAppError(err);
      if (e.statusCode >= 500) req.log.error({ err, route: req.routeOptions.url }, 'acknowledge page failed');
      const title = e.statusCode >= 500 ? '系统繁忙，请稍后重试' : '无法处理此请求';
      return page(reply, e.statusCode, title, `<h1>${title}</h1><p>请打开哨兵控制台处理。</p><p class="code">${esc(e.code)}</p>`);
    });

    app.withTypeProvider<SchemaTypes>().post('/ack/:token', { schema: { hide: true, params: tokenParams } }, async (req, reply) => {
      const c = check(req.params.token);
      if ('error' in c) return page(reply, 410, c.error ?? '链接无效', `<h1>${esc(c.error ?? '链接无效')}</h1>`);
      if (c.used) return page(reply, 409, '此链接已使用', `<h1>此链接已使用</h1><p>${esc(c.alert.title)}</p>`);
      // Single use: the first POST claims the link, whether or not the alert still needs acknowledging.
      if (!tokens.use(c.claims.jti, Date.now())) return page(reply, 409, '此链接已使用', '<h1>此链接已使用</h1>');
      try {
        const a = engine.transition(c.alert.id, 'ack', c.claims.personId, {});
        return page(reply, 200, '已确认', `<h1>已确认</h1><p>${esc(a.title)}</p><p>请尽快到场处置。</p>`);
      } catch (err) {
        if (err instanceof AppError && err.statusCode === 409)
          return page(reply, 200, '已有人处理', `<h1>已有人处理</h1><p>${esc(c.alert.title)}</p><p>状态：${STATUS[engine.alerts.get(c.alert.id)?.status ?? 'open']}</p>`);
        throw err;
      }
    });
  };
}
