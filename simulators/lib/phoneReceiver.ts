// A local stand-in for the SMS and voice platforms (the only things outside this machine): one HTTP server that
// answers like Alibaba Cloud Dysmsapi/Dyvmsapi (RPC API, 2017-05-25) and Tencent Cloud SMS (API 3.0,
// 2021-01-11), and checks every request's signature with its own implementation of the vendors' published
// algorithms — not the SDKs' code, not shaobing's:
//   Alibaba RPC signature: help.aliyun.com/document_detail/315526 — percent-encode (RFC 3986) and sort the
//     parameters, StringToSign = METHOD & %2F & encode(query), Signature = base64(HMAC-SHA1(secret + "&", …)).
//   Tencent TC3-HMAC-SHA256: cloud.tencent.com/document/api/382/52072 — canonical request, credential scope
//     date/service/tc3_request, the signing key derived by HMAC-SHA256 chain from "TC3" + SecretKey.
// It plays the people at the other end too: a number answers its calls or not, a text is delivered or not,
// and the platforms' per-number limits answer as they do (isv.BUSINESS_LIMIT_CONTROL,
// LimitExceeded.PhoneNumberDailyLimit …). Receipts are served by polling (QuerySendDetails,
// QueryCallDetailByCallId, PullSmsSendStatus — the last hands each receipt out once, as Tencent's does).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type Vendor = 'aliyun' | 'tencent';

export interface PhoneRecord {
  vendor: Vendor;
  action: string;
  /** Accepted by the platform (for SendSms/SingleCallByTts: a text or call went out). */
  ok: boolean;
  code: string;
  number?: string;
  template?: string;
  params?: Record<string, string> | string[];
  /** The text as the phone shows it (templates registered with the receiver), or the call's words. */
  text?: string;
  ref?: string;
  outId?: string;
  at: number;
}

export interface Person {
  call?: 'answer' | 'no_answer' | 'busy' | 'off';
  sms?: 'deliver' | 'fail';
}

export interface PhoneReceiverOptions {
  aliyun?: { accessKeyId: string; accessKeySecret: string };
  tencent?: { secretId: string; secretKey: string; smsSdkAppId: string };
  /** Approved sign names (签名). */
  signNames?: string[];
  /** Approved templates: Alibaba code → text with ${var}; Tencent id → text with {1}, {2}. */
  templates?: Record<string, string>;
  /** The platform's own per-number limits (texts and calls each). */
  limits?: { perHour?: number; perDay?: number };
  /** How long before a receipt is final (a call rings, a text reaches the phone). */
  receiptDelayMs?: number;
}

const ALIYUN_VERSION = '2017-05-25';
const TENCENT_VERSION = '2021-01-11';

/** RFC 3986 percent-encoding as the Alibaba signature wants it: unreserved bytes stay, the rest %XX (upper case). */
export function rfc3986(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function aliyunSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k])}`)
    .join('&');
  const stringToSign = `${method}&${rfc3986('/')}&${rfc3986(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, msg: string) => createHmac('sha256', key).update(msg).digest();

export function tc3Signature(o: { method: string; path: string; query: string; headers: Record<string, string>; signedHeaders: string[]; payload: string; timestamp: number; date: string; service: string; secretKey: string }): string {
  const canonicalHeaders = o.signedHeaders.map((h) => `${h}:${(o.headers[h] ?? '').trim().toLowerCase()}\n`).join('');
  const canonicalRequest = [o.method, o.path, o.query, canonicalHeaders, o.signedHeaders.join(';'), sha256hex(o.payload)].join('\n');
  const scope = `${o.date}/${o.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(o.timestamp), scope, sha256hex(canonicalRequest)].join('\n');
  const kDate = hmac(`TC3${o.secretKey}`, o.date);
  const kService = hmac(kDate, o.service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const requestId = () => randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5').toUpperCase();
const chinaStamp = (t: number) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

interface Sent {
  vendor: Vendor;
  kind: 'sms' | 'call';
  number: string;
  ref: string;
  outId?: string;
  template: string;
  at: number;
  pulled?: boolean;
}

export class PhoneReceiver {
  readonly records: PhoneRecord[] = [];
  private readonly sent: Sent[] = [];
  private readonly people = new Map<string, Person>();
  private readonly nonces = new Set<string>();
  private server?: Server;
  private seq = 1;
  /** Answer the next N requests with HTTP 503 and a non-JSON page (an outage). */
  failNext = 0;

  constructor(readonly opts: PhoneReceiverOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  get aliyunSmsEndpoint(): string {
    return `${this.url}/aliyun/dysmsapi`;
  }
  get aliyunVoiceEndpoint(): string {
    return `${this.url}/aliyun/dyvmsapi`;
  }
  /** Tencent requests arrive at / with Host: sms.tencentcloudapi.com. */
  get tencentEndpoint(): string {
    return this.url;
  }

  /** How the person at this number behaves (default: answers, texts are delivered). */
  person(number: string, p: Person): this {
    this.people.set(digits(number), { ...this.people.get(digits(number)), ...p });
    return this;
  }

  /** Texts the platform accepted (to this number). */
  sms(number?: string): PhoneRecord[] {
    return this.records.filter((r) => r.ok && (r.action === 'SendSms') && (!number || r.number === digits(number)));
  }
  /** Calls the platform placed (to this number). */
  calls(number?: string): PhoneRecord[] {
    return this.records.filter((r) => r.ok && r.action === 'SingleCallByTts' && (!number || r.number === digits(number)));
  }
  /** Requests refused (bad signature, limit, template …). */
  refused(): PhoneRecord[] {
    return this.records.filter((r) => !r.ok);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://x');
        const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(body));
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>503 Service Temporarily Unavailable</body></html>');
          return;
        }
        try {
          if (url.pathname.startsWith('/aliyun/')) {
            const { status, body } = this.aliyun(req.method ?? 'GET', url, raw, req.headers);
            return send(status, body);
          }
          return send(200, { Response: { ...this.tencent(req.method ?? 'GET', url, raw, req.headers), RequestId: requestId() } });
        } catch (err) {
          return send(500, { error: (err as Error).message });
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  // ── Alibaba Cloud RPC ─────────────────────────────────────────────────────────────────────────────────

  private aliyun(method: string, url: URL, raw: string, headers: IncomingHttpHeaders): { status: number; body: Record<string, unknown> } {
    const product = url.pathname.split('/')[2];
    const params: Record<string, string> = {};
    const source = method === 'POST' && String(headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') ? new URLSearchParams(raw) : url.searchParams;
    for (const [k, v] of source) params[k] = v;
    const err = (status: number, code: string, message: string, action = params.Action ?? '?') => {
      this.records.push({ vendor: 'aliyun', action, ok: false, code, number: params.PhoneNumbers ?? params.CalledNumber, at: Date.now() });
      return { status, body: { RequestId: requestId(), Code: code, Message: message, Recommend: 'https://api.aliyun.com/troubleshoot' } };
    };
    const creds = this.opts.aliyun;
    if (!creds || params.AccessKeyId !== creds.accessKeyId) return err(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') return err(400, 'InvalidParameter', 'SignatureMethod/SignatureVersion');
    const ts = Date.parse(params.Timestamp ?? '');
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '') || !Number.isFinite(ts)) return err(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    if (Math.abs(Date.now() - ts) > 15 * 60_000) return err(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    const expected = aliyunSignature(method, params, creds.accessKeySecret);
    if (!params.Signature || !same(params.Signature, expected)) return err(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    if (!params.SignatureNonce || this.nonces.has(params.SignatureNonce)) return err(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    this.nonces.add(params.SignatureNonce);
    if (params.Version !== ALIYUN_VERSION) return err(400, 'InvalidVersion', `Specified parameter Version is not valid.`);
    const actions: Record<string, string[]> = { dysmsapi: ['SendSms', 'QuerySendDetails'], dyvmsapi: ['SingleCallByTts', 'QueryCallDetailByCallId'] };
    if (!actions[product]?.includes(params.Action)) return err(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method.`);
    const ok = (body: Record<string, unknown>) => ({ status: 200, body: { RequestId: requestId(), Code: 'OK', Message: 'OK', ...body } });

    if (params.Action === 'SendSms' || params.Action === 'SingleCallByTts') {
      const sms = params.Action === 'SendSms';
      const number = sms ? params.PhoneNumbers : params.CalledNumber;
      const template = sms ? params.TemplateCode : params.TtsCode;
      if (!number || !/^1[3-9]\d{9}$/.test(number)) return err(200, 'isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
      if (sms && !(this.opts.signNames ?? []).includes(params.SignName)) return err(200, 'isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
      const text = this.opts.templates?.[template];
      if (text === undefined) return err(200, sms ? 'isv.SMS_TEMPLATE_ILLEGAL' : 'isv.TTS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');
      let values: Record<string, string>;
      try {
        values = JSON.parse((sms ? params.TemplateParam : params.TtsParam) ?? '{}') as Record<string, string>;
      } catch {
        return err(200, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
      }
      const missing = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]).filter((v) => typeof values[v] !== 'string' || values[v] === '');
      if (missing.length) return err(200, 'isv.TEMPLATE_MISSING_PARAMETERS', `模板变量缺少对应参数值: ${missing.join(',')}`);
      const limit = this.overLimit('aliyun', sms ? 'sms' : 'call', number);
      if (limit) return err(200, 'isv.BUSINESS_LIMIT_CONTROL', limit === 'hour' ? '触发小时级流控Permits:' + this.hourLimit : '触发天级流控Permits:' + this.dayLimit);
      const ref = sms ? `${900000000000000 + this.seq++}^0` : `${116000000000 + this.seq++}^${100000000000 + this.seq}`;
      const rendered = text.replace(/\$\{(\w+)\}/g, (_, v: string) => values[v]);
      this.sent.push({ vendor: 'aliyun', kind: sms ? 'sms' : 'call', number, ref, outId: params.OutId, template, at: Date.now() });
      this.records.push({ vendor: 'aliyun', action: params.Action, ok: true, code: 'OK', number, template, params: values, text: sms ? `【${params.SignName}】${rendered}` : rendered, ref, outId: params.OutId, at: Date.now() });
      return ok(sms ? { BizId: ref } : { CallId: ref });
    }
    if (params.Action === 'QuerySendDetails') {
      for (const p of ['PhoneNumber', 'SendDate', 'PageSize', 'CurrentPage']) if (!params[p]) return err(400, 'MissingParameter', `${p} is mandatory for this action.`);
      const list = this.sent.filter((s) => s.kind === 'sms' && s.number === params.PhoneNumber && (!params.BizId || s.ref === params.BizId) && chinaStamp(s.at).slice(0, 10).replace(/-/g, '') === params.SendDate);
      this.records.push({ vendor: 'aliyun', action: 'QuerySendDetails', ok: true, code: 'OK', number: params.PhoneNumber, at: Date.now() });
      return ok({
        TotalCount: list.length,
        SmsSendDetailDTOs: {
          SmsSendDetailDTO: list.map((s) => {
            const done = Date.now() - s.at >= (this.opts.receiptDelayMs ?? 0);
            const fail = this.people.get(s.number)?.sms === 'fail';
            return {
              PhoneNum: s.number,
              SendStatus: !done ? 1 : fail ? 2 : 3,
              ErrCode: !done ? '' : fail ? 'IB:0008' : 'DELIVERED',
              TemplateCode: s.template,
              OutId: s.outId ?? '',
              SendDate: chinaStamp(s.at),
              ReceiveDate: done ? chinaStamp(s.at + (this.opts.receiptDelayMs ?? 0)) : '',
            };
          }),
        },
      });
    }
    // QueryCallDetailByCallId
    const s = this.sent.find((x) => x.kind === 'call' && x.ref === params.CallId);
    this.records.push({ vendor: 'aliyun', action: 'QueryCallDetailByCallId', ok: true, code: 'OK', at: Date.now() });
    // A wrong product id or a day that does not hold the call: no data (as documented).
    if (!s || params.ProdId !== '11000000300006' || Math.abs(Number(params.QueryDate) - s.at) > 86_400_000) return ok({ Data: null });
    if (Date.now() - s.at < (this.opts.receiptDelayMs ?? 0)) return ok({ Data: '' });
    const behaviour = this.people.get(s.number)?.call ?? 'answer';
    const state = { answer: '200000', no_answer: '200003', busy: '200002', off: '200010' }[behaviour];
    const answered = behaviour === 'answer';
    return ok({
      Data: JSON.stringify({
        caller: '',
        callee: s.number,
        state,
        stateDesc: state,
        duration: answered ? 18 : 0,
        gmtCreate: chinaStamp(s.at),
        startDate: answered ? chinaStamp(s.at + 5000) : '',
        endDate: answered ? chinaStamp(s.at + 23_000) : '',
      }),
    });
  }

  // ── Tencent Cloud API 3.0 ─────────────────────────────────────────────────────────────────────────────

  private tencent(method: string, url: URL, raw: string, headers: IncomingHttpHeaders): Record<string, unknown> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : (v ?? '');
    const action = h['x-tc-action'] ?? '?';
    const err = (code: string, message: string, number?: string) => {
      this.records.push({ vendor: 'tencent', action, ok: false, code, number, at: Date.now() });
      return { Error: { Code: code, Message: message } };
    };
    const creds = this.opts.tencent;
    const auth = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d\d-\d\d)\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(h.authorization ?? '');
    if (!auth) return err('AuthFailure.InvalidAuthorization', 'Authorization header is not TC3-HMAC-SHA256');
    const [, secretId, date, service, signed, signature] = auth;
    if (!creds || secretId !== creds.secretId) return err('AuthFailure.SecretIdNotFound', 'The SecretId is not found.');
    const timestamp = Number(h['x-tc-timestamp']);
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return err('AuthFailure.SignatureExpire', 'Signature expired.');
    if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date) return err('AuthFailure.InvalidAuthorization', 'the credential date is not the UTC date of X-TC-Timestamp');
    if (service !== 'sms' || h.host !== 'sms.tencentcloudapi.com') return err('AuthFailure.InvalidAuthorization', `service ${service} at host ${h.host}`);
    const signedHeaders = signed.split(';');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('content-type')) return err('AuthFailure.InvalidAuthorization', 'content-type and host must be signed');
    const expected = tc3Signature({ method, path: url.pathname, query: url.search.slice(1), headers: h, signedHeaders, payload: raw, timestamp, date, service, secretKey: creds.secretKey });
    if (!same(signature, expected)) return err('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
    if (h['x-tc-version'] !== TENCENT_VERSION) return err('InvalidParameterValue', 'X-TC-Version');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return err('InvalidParameter', 'body is not JSON');
    }
    if (body.SmsSdkAppId !== creds.smsSdkAppId) return err('FailedOperation.SmsSdkAppIdVerifyFail', 'SmsSdkAppId 校验失败');
    if (action === 'SendSms') {
      const set = body.PhoneNumberSet as string[] | undefined;
      if (!Array.isArray(set) || !set.length || set.length > 200) return err('InvalidParameterValue.IncorrectPhoneNumber', 'PhoneNumberSet');
      if (!(this.opts.signNames ?? []).includes(String(body.SignName))) return err('FailedOperation.SignatureIncorrectOrUnapproved', '签名未审批或格式错误');
      const text = this.opts.templates?.[String(body.TemplateId)];
      if (text === undefined) return err('FailedOperation.TemplateIncorrectOrUnapproved', '模板未审批或内容不匹配');
      const values = (body.TemplateParamSet as string[] | undefined) ?? [];
      const wanted = new Set([...text.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]))).size;
      if (values.length !== wanted || values.some((v) => typeof v !== 'string')) return err('FailedOperation.TemplateParamSetNotMatchApprovedTemplate', '请求内容与审核通过的模板内容不匹配');
      const statuses = set.map((e) => {
        const number = e.replace(/^\+86/, '');
        const base = { PhoneNumber: e, SessionContext: String(body.SessionContext ?? ''), IsoCode: 'CN', Fee: 0, SerialNo: '' };
        if (!/^\+861[3-9]\d{9}$/.test(e)) {
          this.records.push({ vendor: 'tencent', action, ok: false, code: 'InvalidParameterValue.IncorrectPhoneNumber', number, at: Date.now() });
          return { ...base, Code: 'InvalidParameterValue.IncorrectPhoneNumber', Message: '手机号格式错误' };
        }
        const limit = this.overLimit('tencent', 'sms', number);
        if (limit) {
          const code = limit === 'hour' ? 'LimitExceeded.PhoneNumberOneHourLimit' : 'LimitExceeded.PhoneNumberDailyLimit';
          this.records.push({ vendor: 'tencent', action, ok: false, code, number, at: Date.now() });
          return { ...base, Code: code, Message: limit === 'hour' ? '单个手机号1小时内下发短信条数超过设定的上限' : '单个手机号日下发短信条数超过设定的上限' };
        }
        const ref = `5000:${104571066915705365 + this.seq++}`;
        const rendered = text.replace(/\{(\d+)\}/g, (_, i: string) => values[Number(i) - 1] ?? '');
        this.sent.push({ vendor: 'tencent', kind: 'sms', number, ref, outId: String(body.SessionContext ?? ''), template: String(body.TemplateId), at: Date.now() });
        this.records.push({ vendor: 'tencent', action, ok: true, code: 'Ok', number, template: String(body.TemplateId), params: values, text: `【${String(body.SignName)}】${rendered}`, ref, outId: String(body.SessionContext ?? ''), at: Date.now() });
        return { ...base, Fee: 1, SerialNo: ref, Code: 'Ok', Message: 'send success' };
      });
      return { SendStatusSet: statuses };
    }
    if (action === 'PullSmsSendStatus') {
      const limit = Number(body.Limit ?? 0);
      if (!(limit >= 1 && limit <= 100)) return err('InvalidParameterValue', 'Limit must be 1..100');
      const ready = this.sent.filter((s) => s.vendor === 'tencent' && !s.pulled && Date.now() - s.at >= (this.opts.receiptDelayMs ?? 0)).slice(0, limit);
      for (const s of ready) s.pulled = true;
      this.records.push({ vendor: 'tencent', action, ok: true, code: 'Ok', at: Date.now() });
      return {
        PullSmsSendStatusSet: ready.map((s) => {
          const fail = this.people.get(s.number)?.sms === 'fail';
          return {
            UserReceiveTime: Math.floor((s.at + (this.opts.receiptDelayMs ?? 0)) / 1000),
            CountryCode: '86',
            SubscriberNumber: s.number,
            PhoneNumber: `+86${s.number}`,
            SerialNo: s.ref,
            ReportStatus: fail ? 'FAIL' : 'SUCCESS',
            Description: fail ? '用户关机' : '用户短信送达成功',
            SessionContext: s.outId ?? '',
          };
        }),
      };
    }
    return err('InvalidAction', `action ${action} not found`);
  }

  private get hourLimit(): number {
    return this.opts.limits?.perHour ?? 5;
  }
  private get dayLimit(): number {
    return this.opts.limits?.perDay ?? 10;
  }

  /** The platform's per-number flow control over what it accepted. */
  private overLimit(vendor: Vendor, kind: 'sms' | 'call', number: string): 'hour' | 'day' | null {
    const now = Date.now();
    const mine = this.sent.filter((s) => s.vendor === vendor && s.kind === kind && s.number === number);
    if (mine.filter((s) => now - s.at < 3_600_000).length >= this.hourLimit) return 'hour';
    if (mine.filter((s) => now - s.at < 86_400_000).length >= this.dayLimit) return 'day';
    return null;
  }
}

function digits(n: string): string {
  return n.replace(/[\s-]/g, '').replace(/^\+86/, '');
}
