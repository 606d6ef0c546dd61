// The platforms, through their official SDKs: Alibaba Cloud Dysmsapi (SendSms, QuerySendDetails) and Dyvmsapi
// (SingleCallByTts, QueryCallDetailByCallId) with @alicloud/pop-core — the RPC client, HMAC-SHA1 "RPC
// signature" (help.aliyun.com/document_detail/315526), one client for both products (there is no npm SDK for
// Dyvmsapi) — and Tencent Cloud SMS 2021-01-11 (SendSms, PullSmsSendStatus) with tencentcloud-sdk-nodejs-sms,
// TC3-HMAC-SHA256 (cloud.tencent.com/document/api/382/52072).
//
// Each answer is judged into one of: accepted (with the platform's id for the receipt), retry later (5xx,
// throttling, a busy platform, a minute-level per-number limit), limited (the platform's hourly/daily limit for
// that number: waiting an hour is no use for an alarm), rejected (a bad number, template or key: will not
// heal), or unknown (the request went and no answer came: for a call, trying again could ring twice).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import RPCClient from '@alicloud/pop-core';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-sms';
import type { PhoneCredentials, PhoneSettings, Template } from './config.js';
import type { Provider } from './schema.js';

export type SendResult =
  | { ok: true; ref: string }
  | { ok: false; kind: 'retry' | 'limited' | 'rejected' | 'unknown'; code: string; message: string; retryAfterMs?: number };

/** A message's final (or not yet final) state from the platform. */
export type Receipt =
  | { state: 'pending' }
  | { state: 'delivered' | 'undelivered' | 'answered' | 'no_answer'; code: string; at?: number };

export interface PhoneMessage {
  /** Digits as configured; each provider writes it its own way (Alibaba 11 digits, Tencent E.164). */
  number: string;
  template: Template;
  /** Our field values, already cut to the platform's variable length. */
  values: Record<string, string>;
  /** Our id (the outbox row), echoed in the platform's records (OutId / SessionContext). */
  outId: string;
}

export interface PendingReceipt {
  ref: string;
  number: string;
  /** Wall time of the send (the platform files records by day, China time). */
  sentAt: number;
}

export interface PhoneProvider {
  readonly name: Provider;
  sendSms(m: PhoneMessage, signName: string): Promise<SendResult>;
  call?(m: PhoneMessage, opts: { calledShowNumber?: string; playTimes: number }): Promise<SendResult>;
  smsReceipts(pending: PendingReceipt[]): Promise<Map<string, Receipt>>;
  callReceipts?(pending: PendingReceipt[]): Promise<Map<string, Receipt>>;
}

const TIMEOUT_MS = 10_000;

/** 13800006948, with country code and separators removed (Alibaba's mainland format). */
export function nationalNumber(n: string): string {
  const d = n.replace(/[\s-]/g, '');
  return d.startsWith('+86') ? d.slice(3) : d.startsWith('+') ? d.slice(1) : d;
}

/** +8613800006948 (Tencent wants E.164). */
export function e164(n: string): string {
  const d = n.replace(/[\s-]/g, '');
  return d.startsWith('+') ? d : `+86${d}`;
}

/** A template's parameters from our values: Alibaba names them, Tencent takes them in order. */
export function templateParams(t: Template, values: Record<string, string>): Record<string, string> | string[] {
  if (Array.isArray(t.params)) return t.params.map((f) => values[f] ?? '');
  return Object.fromEntries(Object.entries(t.params).map(([name, f]) => [name, values[f] ?? '']));
}

/** yyyyMMdd of a wall time in China (QuerySendDetails files by day). */
function chinaDate(t: number): string {
  return new Date(t + 8 * 3_600_000).toISOString().slice(0, 10).replace(/-/g, '');
}

// ── Alibaba Cloud ─────────────────────────────────────────────────────────────────────────────────────────

interface AliyunError extends Error {
  code?: string;
  data?: { Code?: string; Message?: string };
}

/**
 * Error codes: help.aliyun.com/document_detail/101346 (SMS) and /55085 (voice). isv.BUSINESS_LIMIT_CONTROL is
 * the per-number limit; its message says which window ("触发分钟级流控Permits:1", "小时级", "天级").
 */
export function judgeAliyun(err: unknown, channel: 'sms' | 'call'): SendResult {
  const e = err as AliyunError & { name?: string };
  const code = e.code ?? e.data?.Code ?? e.name ?? 'Error';
  const message = (e.data?.Message ?? e.message ?? '').replace(/, URL: .*$/, '');
  if (code === 'isv.BUSINESS_LIMIT_CONTROL') {
    if (/分钟/.test(message)) return { ok: false, kind: 'retry', code, message, retryAfterMs: 60_000 };
    return { ok: false, kind: 'limited', code, message };
  }
  if (code === 'isv.DAY_LIMIT_CONTROL') return { ok: false, kind: 'limited', code, message };
  if (/^(isp\.|Throttling|ServiceUnavailable|InternalError)/.test(code)) return { ok: false, kind: 'retry', code, message };
  if (/Timeout/i.test(code) || e.name === 'RequestTimeoutError' || e.name === 'ResponseTimeoutError')
    return { ok: false, kind: channel === 'call' ? 'unknown' : 'retry', code: 'Timeout', message: 'no answer from the platform' };
  if (/^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/.test(code)) return { ok: false, kind: 'retry', code, message };
  // A body that is not JSON (a proxy's 502 page) cannot be judged: try again.
  // (pop-core parses with json-bigint, which throws a plain { name: 'SyntaxError' } object.)
  if (err instanceof SyntaxError || e?.name === 'SyntaxError') return { ok: false, kind: 'retry', code: 'BadAnswer', message: 'answer is not JSON' };
  return { ok: false, kind: 'rejected', code, message };
}

/** Voice call states (help.aliyun.com/document_detail/55085): 200000 heard it all, 200001 hung up early. */
const ANSWERED = new Set(['200000', '200001']);

export class AliyunProvider implements PhoneProvider {
  readonly name = 'aliyun' as const;
  private readonly sms: RPCClient;
  private readonly voice: RPCClient;

  constructor(settings: PhoneSettings['aliyun'], creds: NonNullable<PhoneCredentials['aliyun']>) {
    const base = { accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, apiVersion: '2017-05-25' };
    this.sms = new RPCClient({ ...base, endpoint: settings.smsEndpoint });
    this.voice = new RPCClient({ ...base, endpoint: settings.voiceEndpoint });
  }

  // POST: the parameters (phone numbers) go in the body, and pop-core's error messages then carry only the endpoint.
  private request<T>(client: RPCClient, action: string, params: Record<string, unknown>): Promise<T> {
    return client.request<T>(action, params, { method: 'POST', timeout: TIMEOUT_MS, formatParams: false });
  }

  async sendSms(m: PhoneMessage, signName: string): Promise<SendResult> {
    try {
      const res = await this.request<{ Code: string; BizId?: string; Message?: string }>(this.sms, 'SendSms', {
        PhoneNumbers: nationalNumber(m.number),
        SignName: signName,
        TemplateCode: m.template.code,
        TemplateParam: JSON.stringify(templateParams(m.template, m.values)),
        OutId: m.outId,
      });
      return res.BizId ? { ok: true, ref: res.BizId } : { ok: false, kind: 'retry', code: res.Code, message: 'accepted without a BizId' };
    } catch (err) {
      return judgeAliyun(err, 'sms');
    }
  }

  async call(m: PhoneMessage, opts: { calledShowNumber?: string; playTimes: number }): Promise<SendResult> {
    try {
      const res = await this.request<{ Code: string; CallId?: string }>(this.voice, 'SingleCallByTts', {
        CalledNumber: nationalNumber(m.number),
        ...(opts.calledShowNumber ? { CalledShowNumber: opts.calledShowNumber } : {}),
        TtsCode: m.template.code,
        TtsParam: JSON.stringify(templateParams(m.template, m.values)),
        PlayTimes: opts.playTimes,
        OutId: m.outId,
      });
      return res.CallId ? { ok: true, ref: res.CallId } : { ok: false, kind: 'unknown', code: res.Code, message: 'accepted without a CallId' };
    } catch (err) {
      return judgeAliyun(err, 'call');
    }
  }

  async smsReceipts(pending: PendingReceipt[]): Promise<Map<string, Receipt>> {
    const out = new Map<string, Receipt>();
    for (const p of pending) {
      const res = await this.request<{ SmsSendDetailDTOs?: { SmsSendDetailDTO?: Array<{ SendStatus: number; ErrCode?: string; ReceiveDate?: string }> } }>(this.sms, 'QuerySendDetails', {
        PhoneNumber: nationalNumber(p.number),
        BizId: p.ref,
        SendDate: chinaDate(p.sentAt),
        PageSize: 10,
        CurrentPage: 1,
      });
      const d = res.SmsSendDetailDTOs?.SmsSendDetailDTO?.[0];
      // SendStatus: 1 waiting for the carrier's receipt, 2 failed, 3 delivered.
      if (!d || d.SendStatus === 1) out.set(p.ref, { state: 'pending' });
      else out.set(p.ref, { state: d.SendStatus === 3 ? 'delivered' : 'undelivered', code: d.ErrCode ?? String(d.SendStatus), at: chinaTime(d.ReceiveDate) });
    }
    return out;
  }

  async callReceipts(pending: PendingReceipt[]): Promise<Map<string, Receipt>> {
    const out = new Map<string, Receipt>();
    for (const p of pending) {
      // ProdId 11000000300006 = 语音通知; QueryDate picks the day of the call (ms).
      const res = await this.request<{ Data?: string | null }>(this.voice, 'QueryCallDetailByCallId', { CallId: p.ref, ProdId: 11000000300006, QueryDate: p.sentAt });
      type CallDetail = { state?: string; stateDesc?: string; endDate?: string };
      let data: CallDetail | null = null;
      try {
        data = res.Data ? (JSON.parse(res.Data) as CallDetail) : null;
      } catch {
        data = null;
      }
      if (!data?.state) out.set(p.ref, { state: 'pending' });
      else out.set(p.ref, { state: ANSWERED.has(data.state) ? 'answered' : 'no_answer', code: data.state, at: chinaTime(data.endDate) });
    }
    return out;
  }
}

/** "2026-03-02 08:03:10" in China time → epoch ms. */
function chinaTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(`${s.replace(' ', 'T')}+08:00`);
  return Number.isFinite(t) ? t : undefined;
}

// ── Tencent Cloud ─────────────────────────────────────────────────────────────────────────────────────────

const TENCENT_HOST = 'sms.tencentcloudapi.com';

/**
 * The Tencent SDK derives the signed service name from the endpoint's first label and signs the host without
 * its port, so pointing it at "127.0.0.1:port" would sign for service "127". Instead the request keeps naming
 * Host: sms.tencentcloudapi.com (what TC3 binds into the signature) and an agent connects it wherever the
 * settings say — a gateway or a local test receiver.
 */
function connectTo(target: URL): http.Agent {
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (target.protocol === 'https:') {
    return new (class extends https.Agent {
      override createConnection(opts: tls.ConnectionOptions): net.Socket {
        return tls.connect({ ...opts, host: target.hostname, port, servername: TENCENT_HOST });
      }
    })({ keepAlive: true });
  }
  return new (class extends http.Agent {
    override createConnection(): net.Socket {
      return net.connect({ host: target.hostname, port });
    }
  })({ keepAlive: true });
}

/**
 * SendSms per-number codes (cloud.tencent.com/document/product/382/52075): the 30-second limit heals; the
 * hourly and daily ones do not (for an alarm).
 */
export function judgeTencent(code: string, message: string, httpCode?: number): SendResult {
  if (code === 'LimitExceeded.PhoneNumberThirtySecondLimit') return { ok: false, kind: 'retry', code, message, retryAfterMs: 30_000 };
  if (/^LimitExceeded\.(PhoneNumber|DailyLimit|AppDailyLimit)/.test(code)) return { ok: false, kind: 'limited', code, message };
  if (/^(InternalError|RequestLimitExceeded|ResourceUnavailable|FailedOperation\.(ContainSensitiveWord)?Busy)/.test(code)) return { ok: false, kind: 'retry', code, message };
  if (!code && (httpCode === undefined || httpCode >= 500 || httpCode === 429)) return { ok: false, kind: 'retry', code: httpCode ? `HTTP ${httpCode}` : 'NetworkError', message };
  return { ok: false, kind: 'rejected', code: code || `HTTP ${httpCode}`, message };
}

export class TencentProvider implements PhoneProvider {
  readonly name = 'tencent' as const;
  private readonly client: InstanceType<typeof tencentcloud.sms.v20210111.Client>;
  /** Receipts pulled before their send was recorded (a pull racing a send): kept an hour for the next poll. */
  private readonly early = new Map<string, { receipt: Receipt; at: number }>();

  constructor(private readonly settings: PhoneSettings['tencent'], creds: NonNullable<PhoneCredentials['tencent']>) {
    const target = new URL(settings.endpoint);
    const official = target.hostname === TENCENT_HOST;
    this.client = new tencentcloud.sms.v20210111.Client({
      credential: { secretId: creds.secretId, secretKey: creds.secretKey },
      region: settings.region,
      profile: {
        httpProfile: {
          endpoint: TENCENT_HOST,
          protocol: `${target.protocol}//`,
          reqTimeout: TIMEOUT_MS / 1000,
          ...(official ? {} : { agent: connectTo(target) }),
        },
      },
    });
  }

  async sendSms(m: PhoneMessage, signName: string): Promise<SendResult> {
    try {
      const res = await this.client.SendSms({
        PhoneNumberSet: [e164(m.number)],
        SmsSdkAppId: this.settings.smsSdkAppId!,
        SignName: signName,
        TemplateId: m.template.id!,
        TemplateParamSet: templateParams(m.template, m.values) as string[],
        SessionContext: m.outId,
      });
      const s = res.SendStatusSet?.[0];
      if (s?.Code === 'Ok' && s.SerialNo) return { ok: true, ref: s.SerialNo };
      return judgeTencent(s?.Code ?? 'NoStatus', s?.Message ?? 'no send status');
    } catch (err) {
      const e = err as { code?: string; message?: string; httpCode?: number };
      return judgeTencent(e.code ?? '', e.message ?? String(err), e.httpCode);
    }
  }

  /** PullSmsSendStatus hands out each receipt once, for every message of the application; ours are picked by SerialNo. */
  async smsReceipts(pending: PendingReceipt[]): Promise<Map<string, Receipt>> {
    const now = Date.now();
    for (const [ref, e] of this.early) if (now - e.at > 3_600_000) this.early.delete(ref);
    for (let page = 0; page < 10; page++) {
      const res = await this.client.PullSmsSendStatus({ Limit: 100, SmsSdkAppId: this.settings.smsSdkAppId! });
      const set = res.PullSmsSendStatusSet ?? [];
      for (const r of set) {
        if (!r.SerialNo) continue;
        const receipt: Receipt = { state: r.ReportStatus === 'SUCCESS' ? 'delivered' : 'undelivered', code: r.Description ?? r.ReportStatus ?? '', at: r.UserReceiveTime ? r.UserReceiveTime * 1000 : undefined };
        this.early.set(r.SerialNo, { receipt, at: now });
      }
      if (set.length < 100) break;
    }
    const out = new Map<string, Receipt>();
    for (const p of pending) {
      const e = this.early.get(p.ref);
      if (e) this.early.delete(p.ref);
      out.set(p.ref, e?.receipt ?? { state: 'pending' });
    }
    return out;
  }
}

export function createProviders(settings: PhoneSettings, creds: PhoneCredentials): Map<Provider, PhoneProvider> {
  const out = new Map<Provider, PhoneProvider>();
  if (creds.aliyun) out.set('aliyun', new AliyunProvider(settings.aliyun, creds.aliyun));
  if (creds.tencent) out.set('tencent', new TencentProvider(settings.tencent, creds.tencent));
  return out;
}
