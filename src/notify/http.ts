// One HTTP POST to a notification destination over a kept-alive connection (issue 11, the alarm fast lane).
// A smoke alarm's request should not first pay for a TCP (and TLS) handshake: Node's agents with `keepAlive`
// keep a destination's sockets open between requests, for as long as the other side keeps them, so the next
// alarm goes out on a warm connection. (Global fetch pools too, but closes a socket after 4 s idle unless the
// server says otherwise.) Idle sockets send TCP keep-alive probes, which keep NAT and firewall state and find
// dead peers; a request that fails because the server had just closed a reused socket is sent once more on a
// fresh one (the case Node's http docs describe under `request.reusedSocket`).
import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  status: number;
  text: string;
}

/** The most of an answer read: robots answer with a few bytes of JSON; the rest is not needed. */
const MAX_ANSWER_BYTES = 64 * 1024;

export class KeepAliveClient {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 8, scheduling: 'lifo' }),
    'https:': new https.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 8, scheduling: 'lifo' }),
  };

  async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
    try {
      return await this.once(url, headers, body, timeoutMs);
    } catch (err) {
      const e = err as Error & { code?: string; reusedSocket?: boolean };
      if (!e.reusedSocket || (e.code !== 'ECONNRESET' && e.code !== 'EPIPE')) throw err;
      return this.once(url, headers, body, timeoutMs);
    }
  }

  private once(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
    const u = new URL(url);
    const agent = this.agents[u.protocol as 'http:' | 'https:'];
    if (!agent) return Promise.reject(new Error(`unsupported protocol ${u.protocol}`));
    const data = Buffer.from(body);
    return new Promise((resolve, reject) => {
      const req = (u.protocol === 'https:' ? https : http).request(
        u,
        { method: 'POST', agent, headers: { ...headers, 'content-length': String(data.length) }, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_ANSWER_BYTES) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(data);
    });
  }

  /** Close the kept sockets (at stop, so the process can exit). */
  close(): void {
    for (const a of Object.values(this.agents)) a.destroy();
  }
}
