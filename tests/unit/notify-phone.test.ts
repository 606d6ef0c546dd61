// The SMS/voice layer by parts: the vendors' SDKs against a local receiver that verifies their signatures with
// its own code (and refuses a wrong key), the answers judged into accepted / retry / limited / rejected, the
// receipts, the masking of numbers, and the settings checked at load with every problem by path.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhoneReceiver, aliyunSignature } from '../phoneReceiver.js';
import { sampleReceiverOptions, samplePhoneSettings } from '../../simulators/lib/phoneSample.js';
import { AliyunProvider, TencentProvider, judgeAliyun, judgeTencent, templateParams } from '../../src/notify/phone/providers.js';
import { maskPhone } from '../../src/notify/phone/mask.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { PhoneSettings, Template } from '../../src/notify/phone/config.js';
import { tempDir } from '../helpers.js';

let rx: PhoneReceiver;
const dir = tempDir('shaobing-phone-unit-');
let settings: PhoneSettings;

beforeAll(async () => {
  rx = await new PhoneReceiver(sampleReceiverOptions({ limits: { perHour: 2, perDay: 10 } })).start();
  settings = loadConfig({ settingsPath: null, env: {}, overrides: { notify: { phone: samplePhoneSettings(rx, dir.path) } } }).settings.notify.phone;
});
afterAll(async () => {
  await rx.stop();
  dir.remove();
});

const alertSms = (number: string, values: Record<string, string> = {}) => ({
  number,
  template: settings.sms!.templates.alert as Template,
  values: { place: '6号楼302', kind: '烟感报警', time: '3月1日 08:00', link: 'https://sb.example.cn/c/AbCdEf1234', ...values },
  outId: '7',
});

describe('Alibaba Cloud through @alicloud/pop-core', () => {
  it('signs with the RPC signature the receiver recomputes (and the documented example holds)', async () => {
    // help.aliyun.com RPC signature example: DescribeRegions with secret "testsecret".
    const example = { Timestamp: '2016-02-23T12:46:24Z', Format: 'XML', AccessKeyId: 'testid', Action: 'DescribeRegions', SignatureMethod: 'HMAC-SHA1', SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', Version: '2014-05-26', SignatureVersion: '1.0' };
    expect(aliyunSignature('GET', example, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    const p = new AliyunProvider(settings.aliyun, rx.opts.aliyun!);
    const r = await p.sendSms(alertSms('13800001001'), '哨兵社区');
    expect(r).toMatchObject({ ok: true });
    const sent = rx.sms('13800001001')[0];
    expect(sent.text).toBe('【哨兵社区】6号楼302烟感报警（3月1日 08:00），请立即处置。确认接警：https://sb.example.cn/c/AbCdEf1234');
    expect(sent.outId).toBe('7');
    const receipts = await p.smsReceipts([{ ref: (r as { ref: string }).ref, number: '13800001001', sentAt: Date.now() }]);
    expect([...receipts.values()][0]).toMatchObject({ state: 'delivered', code: 'DELIVERED' });
  });

  it('a wrong secret is refused by the receiver (SignatureDoesNotMatch) and will not heal', async () => {
    const p = new AliyunProvider(settings.aliyun, { ...rx.opts.aliyun!, accessKeySecret: 'not-the-secret' });
    expect(await p.sendSms(alertSms('13800001002'), '哨兵社区')).toMatchObject({ ok: false, kind: 'rejected', code: 'SignatureDoesNotMatch' });
    expect(rx.sms('13800001002')).toEqual([]);
  });

  it("the platform's per-number hourly limit answers isv.BUSINESS_LIMIT_CONTROL: limited, not retried", async () => {
    const p = new AliyunProvider(settings.aliyun, rx.opts.aliyun!);
    for (let i = 0; i < 2; i++) expect(await p.sendSms(alertSms('13800001003'), '哨兵社区')).toMatchObject({ ok: true });
    expect(await p.sendSms(alertSms('13800001003'), '哨兵社区')).toMatchObject({ ok: false, kind: 'limited', code: 'isv.BUSINESS_LIMIT_CONTROL' });
  });

  it('an outage (503, not JSON) is retried; a bad template or number is rejected', async () => {
    const p = new AliyunProvider(settings.aliyun, rx.opts.aliyun!);
    rx.failNext = 1;
    expect(await p.sendSms(alertSms('13800001004'), '哨兵社区')).toMatchObject({ ok: false, kind: 'retry' });
    expect(await p.sendSms({ ...alertSms('13800001004'), template: { code: 'SMS_999', params: {} } }, '哨兵社区')).toMatchObject({ kind: 'rejected', code: 'isv.SMS_TEMPLATE_ILLEGAL' });
    expect(await p.sendSms(alertSms('12345'), '哨兵社区')).toMatchObject({ kind: 'rejected', code: 'isv.MOBILE_NUMBER_ILLEGAL' });
    expect(await p.sendSms(alertSms('13800001004', { link: '' }), '哨兵社区')).toMatchObject({ kind: 'rejected', code: 'isv.TEMPLATE_MISSING_PARAMETERS' });
  });

  it('calls by SingleCallByTts and reads the outcome with QueryCallDetailByCallId: answered or not', async () => {
    const p = new AliyunProvider(settings.aliyun, rx.opts.aliyun!);
    rx.person('13800001006', { call: 'off' });
    const tts = { template: settings.call!.templates.alert as Template, values: { place: '6号楼302', kind: '烟感报警' }, outId: '9' };
    const a = await p.call({ ...tts, number: '13800001005' }, { playTimes: 2 });
    const b = await p.call({ ...tts, number: '13800001006' }, { playTimes: 2 });
    expect(rx.calls('13800001005')[0].text).toBe('您好，这里是哨兵社区。6号楼302烟感报警，请立即处置。');
    const got = await p.callReceipts!([
      { ref: (a as { ref: string }).ref, number: '13800001005', sentAt: Date.now() },
      { ref: (b as { ref: string }).ref, number: '13800001006', sentAt: Date.now() },
    ]);
    expect([...got.values()]).toEqual([
      expect.objectContaining({ state: 'answered', code: '200000' }),
      expect.objectContaining({ state: 'no_answer', code: '200010' }),
    ]);
  });
});

describe('Tencent Cloud through tencentcloud-sdk-nodejs-sms', () => {
  const tencent = () => loadConfig({ settingsPath: null, env: {}, overrides: { notify: { phone: samplePhoneSettings(rx, dir.path, { sms: 'tencent' }) } } }).settings.notify.phone;

  it('signs TC3-HMAC-SHA256 for service sms at Host sms.tencentcloudapi.com, which the receiver recomputes; receipts by PullSmsSendStatus, once', async () => {
    const s = tencent();
    const p = new TencentProvider(s.tencent, { secretId: rx.opts.tencent!.secretId, secretKey: rx.opts.tencent!.secretKey });
    const r = await p.sendSms({ ...alertSms('13800001011'), template: s.sms!.templates.alert as Template }, '哨兵社区');
    expect(r).toMatchObject({ ok: true });
    expect(rx.sms('13800001011')[0].text).toBe('【哨兵社区】6号楼302烟感报警（3月1日 08:00），请立即处置。确认接警：https://sb.example.cn/c/AbCdEf1234');
    const ref = (r as { ref: string }).ref;
    expect((await p.smsReceipts([{ ref, number: '13800001011', sentAt: Date.now() }])).get(ref)).toMatchObject({ state: 'delivered' });
    // Tencent hands a receipt out once: asked again, it is no longer there (still "pending" to us).
    expect((await p.smsReceipts([{ ref, number: '13800001011', sentAt: Date.now() }])).get(ref)).toEqual({ state: 'pending' });
  });

  it('a wrong key fails the signature (AuthFailure.SignatureFailure); the daily limit is LimitExceeded.PhoneNumberDailyLimit', async () => {
    const s = tencent();
    const bad = new TencentProvider(s.tencent, { secretId: rx.opts.tencent!.secretId, secretKey: 'wrong' });
    const m = { ...alertSms('13800001012'), template: s.sms!.templates.alert as Template };
    expect(await bad.sendSms(m, '哨兵社区')).toMatchObject({ ok: false, kind: 'rejected', code: 'AuthFailure.SignatureFailure' });
    const limited = await new PhoneReceiver(sampleReceiverOptions({ limits: { perHour: 10, perDay: 1 } })).start();
    try {
      const s2 = loadConfig({ settingsPath: null, env: {}, overrides: { notify: { phone: samplePhoneSettings(limited, dir.path, { sms: 'tencent' }) } } }).settings.notify.phone;
      const p = new TencentProvider(s2.tencent, { secretId: limited.opts.tencent!.secretId, secretKey: limited.opts.tencent!.secretKey });
      expect(await p.sendSms(m, '哨兵社区')).toMatchObject({ ok: true });
      expect(await p.sendSms(m, '哨兵社区')).toMatchObject({ ok: false, kind: 'limited', code: 'LimitExceeded.PhoneNumberDailyLimit' });
    } finally {
      await limited.stop();
    }
  });
});

describe('judging answers', () => {
  it('minute-level limits and busy platforms heal; hourly/daily limits and bad requests do not; a call timeout is unknown', () => {
    expect(judgeAliyun(Object.assign(new Error('触发分钟级流控Permits:1'), { code: 'isv.BUSINESS_LIMIT_CONTROL' }), 'sms')).toMatchObject({ kind: 'retry', retryAfterMs: 60_000 });
    expect(judgeAliyun(Object.assign(new Error('触发天级流控Permits:10'), { code: 'isv.BUSINESS_LIMIT_CONTROL' }), 'sms')).toMatchObject({ kind: 'limited' });
    expect(judgeAliyun(Object.assign(new Error('x'), { code: 'isp.SYSTEM_ERROR' }), 'sms')).toMatchObject({ kind: 'retry' });
    expect(judgeAliyun(Object.assign(new Error('timeout'), { name: 'RequestTimeoutError' }), 'call')).toMatchObject({ kind: 'unknown' });
    expect(judgeAliyun(Object.assign(new Error('timeout'), { name: 'RequestTimeoutError' }), 'sms')).toMatchObject({ kind: 'retry' });
    expect(judgeTencent('LimitExceeded.PhoneNumberThirtySecondLimit', '')).toMatchObject({ kind: 'retry', retryAfterMs: 30_000 });
    expect(judgeTencent('LimitExceeded.PhoneNumberOneHourLimit', '')).toMatchObject({ kind: 'limited' });
    expect(judgeTencent('', 'socket hang up')).toMatchObject({ kind: 'retry' });
    expect(judgeTencent('InvalidParameterValue.IncorrectPhoneNumber', '')).toMatchObject({ kind: 'rejected' });
  });

  it('Alibaba names its variables, Tencent takes them in order', () => {
    const values = { place: '5号楼303', kind: '独居老人无用水', link: 'L' };
    expect(templateParams({ code: 'SMS_1', params: { room: 'place', url: 'link' } }, values)).toEqual({ room: '5号楼303', url: 'L' });
    expect(templateParams({ id: '1', params: ['place', 'kind', 'link'] }, values)).toEqual(['5号楼303', '独居老人无用水', 'L']);
  });
});

describe('masking', () => {
  it('prints 138****5678 and never the whole number', () => {
    expect(maskPhone('13800005678')).toBe('138****5678');
    expect(maskPhone('+8613800005678')).toBe('+86138****5678');
    expect(maskPhone('138-0000-5678')).toBe('138****5678');
    expect(maskPhone('0571-88001234')).toBe('057****1234');
    expect(maskPhone('88001234')).toBe('88***34');
    expect(maskPhone('not a number')).toBe('****');
  });
});

describe('settings at load', () => {
  const load = (phone: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ settingsPath: null, env, overrides: { notify: { phone } } });
  const errors = (phone: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    try {
      load(phone, env);
    } catch (err) {
      if (err instanceof ConfigError) return err.errors;
      throw err;
    }
    return [];
  };

  it('checks templates against their provider and routes against what is configured, by path', () => {
    const errs = errors({
      sms: { provider: 'aliyun', signName: '哨兵社区', templates: { alert: { id: '123', params: ['place'] }, ask: { code: 'TTS_1234', params: { place: 'place' } } } },
      routes: { smoke: [{ afterMinutes: 3, to: ['duty'], by: 'call' }, { afterMinutes: 5 }], no_water_use: [{ afterMinutes: 0, to: ['contacts'], by: 'sms', ask: true }] },
    }, { SHAOBING_ALIYUN_ACCESS_KEY_ID: 'x', SHAOBING_ALIYUN_ACCESS_KEY_SECRET: 'y' });
    expect(errs).toEqual(
      expect.arrayContaining([
        'settings: /notify/phone/sms/templates/alert/code: is required for aliyun (the template code, SMS_…)',
        'settings: /notify/phone/sms/templates/alert/id: is for tencent templates; aliyun templates have a code',
        'settings: /notify/phone/sms/templates/alert/params: aliyun templates name their variables: { variable: field }',
        'settings: /notify/phone/sms/templates/ask/code: an aliyun SMS template code starts with SMS_',
        'settings: /notify/phone/sms/templates/ask/params: an asking text needs the one-tap page: map a variable to link or code',
        'settings: /notify/phone/routes/smoke/0/by: calling needs notify.phone.call',
        'settings: /notify/phone/routes/smoke/1: a step either sends (to) or orders a visit (visit)',
      ]),
    );
  });

  it('refuses unknown keys, unknown fields and kinds (strict schema)', () => {
    const errs = errors({ smss: {}, routes: { fire: [] }, sms: { provider: 'aliyun', signName: '哨兵社区', templates: { alert: { code: 'SMS_123', params: { a: 'phone' } } } } });
    expect(errs.join('\n')).toContain('/notify/phone/smss: unknown setting');
    expect(errs.join('\n')).toMatch(/\/notify\/phone\/routes.*fire|property name/);
    expect(errs.join('\n')).toContain('/notify/phone/sms/templates/alert/params');
  });

  it('names the environment variables when a provider in use has no credentials; keys never land in settings', () => {
    const phone = { sms: { provider: 'tencent', signName: '哨兵社区', templates: { alert: { id: '2044123', params: ['place'] } } }, tencent: { smsSdkAppId: '1400009099' } };
    expect(errors(phone)).toEqual([
      'settings: /notify/phone: tencent is in use but its secretId is missing: set SHAOBING_TENCENT_SECRET_ID (or TENCENTCLOUD_SECRET_ID), or tencent.secretId in notify.phone.secretsFile',
      'settings: /notify/phone: tencent is in use but its secretKey is missing: set SHAOBING_TENCENT_SECRET_KEY (or TENCENTCLOUD_SECRET_KEY), or tencent.secretKey in notify.phone.secretsFile',
    ]);
    const config = load(phone, { TENCENTCLOUD_SECRET_ID: 'AKIDsecretid', SHAOBING_TENCENT_SECRET_KEY: 'the-secret-key-value' });
    expect(config.phoneCredentials).toEqual({ tencent: { secretId: 'AKIDsecretid', secretKey: 'the-secret-key-value' } });
    expect(JSON.stringify(config.settings)).not.toContain('the-secret-key-value');
  });

  it('a secrets file readable by others is refused', () => {
    const file = join(dir.path, 'open-secrets.json');
    writeFileSync(file, JSON.stringify({ aliyun: { accessKeyId: 'a', accessKeySecret: 'b' } }));
    chmodSync(file, 0o644);
    const errs = errors({ secretsFile: file, sms: { provider: 'aliyun', signName: '哨兵社区', templates: { alert: { code: 'SMS_123', params: { a: 'place' } } } } });
    expect(errs).toEqual([`${file}: readable by group or others; chmod 600 it`]);
  });
});
