// Phone settings that point shaobing at a local PhoneReceiver, with the templates the receiver has "approved":
// the same sample as README / docs/notify.md shows, used by the notify tests and by scenarios that check texts
// and calls. The keys are made up here and written to a 0600 secrets file, as in production.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PhoneReceiver, PhoneReceiverOptions } from './phoneReceiver.js';

export const SAMPLE_SIGN = '哨兵社区';

/** Template texts as the platform approved them (Alibaba ${var}, Tencent {n}). */
export const SAMPLE_TEMPLATES: Record<string, string> = {
  SMS_460765001: '${place}${kind}（${time}），请立即处置。确认接警：${link}',
  SMS_460765002: '您的家人（${place}）${kind}，请尽快打电话或上门联系，联系后点 ${link} 告诉社区结果。',
  TTS_287265001: '您好，这里是哨兵社区。${place}${kind}，请立即处置。',
  '2044123': '{1}{2}（{3}），请立即处置。确认接警：{4}',
  '2044124': '您的家人（{1}）{2}，请尽快打电话或上门联系，联系后点 {3} 告诉社区结果。',
};

export function sampleReceiverOptions(over: Partial<PhoneReceiverOptions> = {}): PhoneReceiverOptions {
  return {
    aliyun: { accessKeyId: 'LTAI5tSample0000000001', accessKeySecret: randomBytes(15).toString('base64') },
    tencent: { secretId: 'AKIDsample000000000000000000000001', secretKey: randomBytes(16).toString('hex'), smsSdkAppId: '1400009099' },
    signNames: [SAMPLE_SIGN],
    templates: SAMPLE_TEMPLATES,
    ...over,
  };
}

/** notify.phone for a receiver; `dir` gets the secrets file. `sms: 'tencent'` sends texts through Tencent Cloud. */
export function samplePhoneSettings(rx: PhoneReceiver, dir: string, opts: { sms?: 'aliyun' | 'tencent' } = {}): Record<string, unknown> {
  const secretsFile = join(dir, 'phone-secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ aliyun: rx.opts.aliyun, tencent: rx.opts.tencent && { secretId: rx.opts.tencent.secretId, secretKey: rx.opts.tencent.secretKey } }), { mode: 0o600 });
  const tencent = opts.sms === 'tencent';
  return {
    secretsFile,
    aliyun: { smsEndpoint: rx.aliyunSmsEndpoint, voiceEndpoint: rx.aliyunVoiceEndpoint },
    tencent: { endpoint: rx.tencentEndpoint, smsSdkAppId: rx.opts.tencent?.smsSdkAppId },
    sms: tencent
      ? {
          provider: 'tencent',
          signName: SAMPLE_SIGN,
          templates: { alert: { id: '2044123', params: ['place', 'kind', 'time', 'link'] }, ask: { id: '2044124', params: ['place', 'kind', 'link'] } },
        }
      : {
          provider: 'aliyun',
          signName: SAMPLE_SIGN,
          templates: {
            alert: { code: 'SMS_460765001', params: { place: 'place', kind: 'kind', time: 'time', link: 'link' } },
            ask: { code: 'SMS_460765002', params: { place: 'place', kind: 'kind', link: 'link' } },
          },
        },
    call: { provider: 'aliyun', calledShowNumber: '057126880000', templates: { alert: { code: 'TTS_287265001', params: { place: 'place', kind: 'kind' } } } },
    // Tests and scenarios run in seconds: receipts are polled often, retries come fast.
    receipts: { pollSeconds: 0.2, giveUpMinutes: 0.5 },
    retry: { baseSeconds: 0.2, capSeconds: 1, maxMinutes: 0.5 },
  };
}
