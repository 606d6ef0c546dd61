// A local stand-in for the chat platforms (the only things outside this machine): one HTTP server that
// answers like WeCom, DingTalk, Feishu and a generic webhook receiver, and checks each request's shape and
// signature with its own code (not shaobing's), as the real platforms would. It also enforces the robots'
// 20-messages-a-minute limit the way WeCom does (HTTP 200 with errcode 45009). The notify tests use it, and so
// does the scenario runner, to check a scenario's `notifications:` against what really arrived.
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Received {
  platform: 'wecom' | 'dingtalk' | 'feishu' | 'webhook';
  robot: string;
  body: Record<string, unknown>;
  text: string;
  at: number;
  accepted: boolean;
  error?: string;
}

export interface ReceiverOptions {
  secrets?: Record<string, string>; // robot id → secret
  perMinute?: number;
  /** The rate window, 60 s like the platforms; tests may scale it down together with the sender's pacing. */
  windowMs?: number;
  /** Fail the next N requests with HTTP 500 (outage). */
  failNext?: number;
}

export class RobotReceiver {
  readonly received: Received[] = [];
  private server?: Server;
  private windows = new Map<string, number[]>();
  failNext: number;

  constructor(private readonly opts: ReceiverOptions = {}) {
    this.failNext = opts.failNext ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  /** Where each platform's robot posts: /wecom/send?key=ROBOT, /dingtalk/send?access_token=ROBOT, /feishu/ROBOT, /webhook/ROBOT */
  robotUrl(platform: Received['platform'], robot: string): string {
    if (platform === 'wecom') return `${this.url}/wecom/send?key=${robot}`;
    if (platform === 'dingtalk') return `${this.url}/dingtalk/send?access_token=${robot}`;
    return `${this.url}/${platform}/${robot}`;
  }

  accepted(platform?: Received['platform']): Received[] {
    return this.received.filter((r) => r.accepted && (!platform || r.platform === platform));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const [, platform, rest] = url.pathname.split('/') as [string, Received['platform'], string];
        const robot = platform === 'wecom' ? url.searchParams.get('key') ?? '' : platform === 'dingtalk' ? url.searchParams.get('access_token') ?? '' : rest;
        const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (this.failNext > 0) {
          this.failNext--;
          return reply(500, { error: 'outage' });
        }
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw);
        } catch {
          return reply(400, { errcode: 40001, errmsg: 'invalid json' });
        }
        const record = (accepted: boolean, text: string, error?: string) =>
          this.received.push({ platform, robot, body, text, at: Date.now(), accepted, error });
        const check = this.check(platform, robot, url, req.headers, raw, body);
        if ('error' in check) {
          record(false, '', check.error);
          // Chat platforms answer 200 with an error code; a plain webhook receiver answers 401.
          return reply(platform === 'webhook' ? 401 : 200, check.answer);
        }
        // Rate limit per robot: WeCom/DingTalk allow 20 messages a minute.
        const limit = this.opts.perMinute ?? 20;
        const now = Date.now();
        const window = (this.windows.get(robot) ?? []).filter((t) => now - t < (this.opts.windowMs ?? 60_000));
        if (window.length >= limit) {
          record(false, check.text, 'rate limited');
          return reply(200, platform === 'feishu' ? { code: 11232, msg: 'frequency limited' } : { errcode: 45009, errmsg: 'api freq out of limit' });
        }
        window.push(now);
        this.windows.set(robot, window);
        record(true, check.text);
        reply(200, platform === 'feishu' ? { code: 0, msg: 'success' } : platform === 'webhook' ? { ok: true } : { errcode: 0, errmsg: 'ok' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  private check(
    platform: string,
    robot: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    raw: string,
    body: Record<string, unknown>,
  ): { text: string } | { error: string; answer: unknown } {
    const secret = this.opts.secrets?.[robot];
    const bad = (error: string, answer: unknown) => ({ error, answer });
    if (platform === 'wecom') {
      const text = body.text as { content?: unknown; mentioned_mobile_list?: unknown } | undefined;
      if (body.msgtype !== 'text' || typeof text?.content !== 'string') return bad('wecom: not a text message', { errcode: 40008, errmsg: 'invalid message type' });
      if (Buffer.byteLength(text.content) > 2048) return bad('wecom: content over 2048 bytes', { errcode: 40058, errmsg: 'content exceed max length' });
      if (text.mentioned_mobile_list !== undefined && !Array.isArray(text.mentioned_mobile_list)) return bad('wecom: bad mentions', { errcode: 40035, errmsg: 'invalid parameter' });
      return { text: text.content };
    }
    if (platform === 'dingtalk') {
      if (secret) {
        const ts = Number(url.searchParams.get('timestamp'));
        const sign = url.searchParams.get('sign') ?? '';
        const expected = createHmac('sha256', secret).update(ts + '\n' + secret).digest('base64');
        if (!ts || Math.abs(Date.now() - ts) > 3_600_000) return bad('dingtalk: timestamp outside one hour', { errcode: 310000, errmsg: 'sign not match' });
        if (sign !== expected) return bad('dingtalk: sign mismatch', { errcode: 310000, errmsg: 'sign not match' });
      }
      const md = body.markdown as { title?: unknown; text?: unknown } | undefined;
      if (body.msgtype !== 'markdown' || typeof md?.title !== 'string' || typeof md?.text !== 'string') return bad('dingtalk: not markdown', { errcode: 40035, errmsg: 'bad body' });
      const at = body.at as { atMobiles?: string[] } | undefined;
      for (const m of at?.atMobiles ?? []) if (!md.text.includes(`@${m}`)) return bad(`dingtalk: @${m} missing from text`, { errcode: 40035, errmsg: 'mention not in text' });
      return { text: md.text };
    }
    if (platform === 'feishu') {
      if (secret) {
        const ts = Number(body.timestamp);
        const expected = createHmac('sha256', `${ts}\n${secret}`).update('').digest('base64');
        if (!ts || Math.abs(Date.now() / 1000 - ts) > 3600) return bad('feishu: timestamp outside one hour', { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
        if (body.sign !== expected) return bad('feishu: sign mismatch', { code: 19021, msg: 'sign match fail' });
      }
      const content = body.content as { text?: unknown } | undefined;
      if (body.msg_type !== 'text' || typeof content?.text !== 'string') return bad('feishu: not text', { code: 9499, msg: 'Bad Request' });
      if (Buffer.byteLength(raw) > 20 * 1024) return bad('feishu: body over 20 KB', { code: 9499, msg: 'Bad Request' });
      return { text: content.text };
    }
    if (platform === 'webhook') {
      const ts = Number(headers['x-shaobing-timestamp']);
      const sig = String(headers['x-shaobing-signature'] ?? '');
      if (secret) {
        const expected = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex');
        if (sig !== expected) return bad('webhook: signature mismatch', { error: 'bad signature' });
        if (Math.abs(Date.now() - ts) > 300_000) return bad('webhook: stale timestamp', { error: 'stale' });
      }
      if (!Array.isArray(body.notifications)) return bad('webhook: no notifications', { error: 'bad body' });
      return { text: (body.notifications as Array<{ title: string }>).map((n) => n.title).join('\n') };
    }
    return bad(`unknown platform ${platform}`, { error: 'unknown' });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
