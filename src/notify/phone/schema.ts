// Settings of SMS and voice calls (settings.notify.phone), as JSON Schema: strict (every object closes its
// properties), so a misspelt key stops start-up with its path like every other setting. Cross-field checks a
// schema cannot say (a template's code fits its provider, a route names a template that exists) are in
// ./config.ts and run at load too.
import { ALERT_KINDS, SEVERITIES } from '../../alerts/types.js';

/**
 * Our fields a template's parameters are filled from (docs/notify.md "SMS and voice calls"). Platforms send
 * only pre-approved templates, so the words are theirs; we give the variables.
 */
export const TEMPLATE_FIELDS = [
  'community', // 小区名 桂花园
  'place', // 5号楼303 (the household's room, else the device's area)
  'kind', // 烟感报警, 独居老人无用水 …
  'title', // the alert's title
  'severity', // 紧急 / 重要 / 一般 / 提示
  'time', // 3月1日 08:00 (when it opened, local time)
  'minutes', // minutes nobody acknowledged (for calls that follow a message)
  'name', // the household's display name (王阿婆), for the family only
  'link', // the one-tap page: <publicUrl>/c/<code>
  'code', // the same page's code alone, for templates whose text fixes the domain (Alibaba link variables)
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export const CONTACT_RELATIONS = ['volunteer', 'family', 'neighbour', 'doctor'] as const;
export const PROVIDERS = ['aliyun', 'tencent'] as const;
export type Provider = (typeof PROVIDERS)[number];

const hhmm = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;
const url = { type: 'string', pattern: '^https?://' } as const;

/**
 * One template: Alibaba Cloud names it by `code` (SMS_…, TTS_…) and its variables by name
 * (`params: { variable: field }`); Tencent Cloud by numeric `id` and its variables by position
 * (`params: [field for {1}, field for {2}, …]`).
 */
const template = {
  type: 'object',
  additionalProperties: false,
  required: ['params'],
  properties: {
    code: { type: 'string', pattern: '^(SMS|TTS)_[0-9]{3,20}$' },
    id: { type: 'string', pattern: '^[0-9]{1,12}$' },
    params: {
      anyOf: [
        { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,31}$' }, additionalProperties: { enum: TEMPLATE_FIELDS } },
        { type: 'array', maxItems: 10, items: { enum: TEMPLATE_FIELDS } },
      ],
    },
  },
} as const;

const limit = (perHour: number, perDay: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      perNumberPerHour: { type: 'integer', minimum: 1, default: perHour },
      perNumberPerDay: { type: 'integer', minimum: 1, default: perDay },
    },
  }) as const;

export function phoneSchema<R extends readonly string[]>(roles: R) {
  /**
   * A phone step of an alert kind: `afterMinutes` from the opening (while nobody acknowledged), text and/or
   * call `to` the duty phones and/or the household's phone contacts; or, with `visit`, a work order to the
   * grid for a visit (the 静安 flow) if nobody confirmed by then.
   */
  const step = {
    type: 'object',
    additionalProperties: false,
    required: ['afterMinutes'],
    properties: {
      afterMinutes: { type: 'number', minimum: 0 },
      /** Only for alerts of these severities (default: all). */
      severities: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: SEVERITIES } },
      /** `duty`: the duty phones of the staff the alert goes to; `contacts`: the household's phone contacts, in order. */
      to: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['duty', 'contacts'] } },
      /** Only contacts of these relations (default: all). */
      relations: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: CONTACT_RELATIONS } },
      /** sms, call, or each contact's own preference (duty phones: call). */
      by: { enum: ['sms', 'call', 'preferred'], default: 'preferred' },
      /** The SMS asks the family to check and answer with the one-tap page (已联系上，平安 / 联系不上). */
      ask: { type: 'boolean', default: false },
      /** A work order: dispatch the alert to the grid for a visit (请上门查看), telling these roles and the paired volunteer. */
      visit: {
        type: 'object',
        additionalProperties: false,
        properties: { roles: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: roles }, default: ['grid_member', 'grid_head'] } },
      },
    },
  } as const;

  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      /** Credentials (Alibaba accessKeyId/accessKeySecret, Tencent secretId/secretKey) in a YAML/JSON file, relative to the settings file; else the environment. */
      secretsFile: { type: 'string', minLength: 1 },
      aliyun: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          /** Dysmsapi (SendSms, QuerySendDetails). */
          smsEndpoint: { ...url, default: 'https://dysmsapi.aliyuncs.com' },
          /** Dyvmsapi (SingleCallByTts, QueryCallDetailByCallId). */
          voiceEndpoint: { ...url, default: 'https://dyvmsapi.aliyuncs.com' },
        },
      },
      tencent: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          /** Where requests go; the request still names and signs Host sms.tencentcloudapi.com (a gateway, or a test receiver). */
          endpoint: { ...url, default: 'https://sms.tencentcloudapi.com' },
          region: { type: 'string', pattern: '^[a-z]{2}-[a-z]+(-[0-9]+)?$', default: 'ap-guangzhou' },
          smsSdkAppId: { type: 'string', pattern: '^[0-9]{5,12}$' },
        },
      },
      /** Text messages: one provider, its sign name (签名) and templates by purpose. */
      sms: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'signName', 'templates'],
        properties: {
          provider: { enum: PROVIDERS },
          signName: { type: 'string', minLength: 2, maxLength: 20 },
          templates: {
            type: 'object',
            additionalProperties: false,
            properties: {
              /** Telling of an alert (a duty phone, a neighbour). */
              alert: template,
              /** Asking the family to check on the elder, with the one-tap page. */
              ask: template,
            },
          },
        },
      },
      /** Voice calls (text to speech, Alibaba Cloud SingleCallByTts). */
      call: {
        type: 'object',
        additionalProperties: false,
        required: ['provider', 'templates'],
        properties: {
          provider: { enum: ['aliyun'] },
          /** The caller number shown (a number bought for voice); absent: the platform's public pool. */
          calledShowNumber: { type: 'string', pattern: '^[0-9]{5,20}$' },
          playTimes: { type: 'integer', minimum: 1, maximum: 3, default: 2 },
          templates: { type: 'object', additionalProperties: false, required: ['alert'], properties: { alert: template } },
        },
      },
      /** Per alert kind: its phone steps; replaces the kind's defaults (docs/notify.md). */
      routes: { type: 'object', default: {}, propertyNames: { enum: ALERT_KINDS }, additionalProperties: { type: 'array', items: step } },
      /** Per number, what the platforms allow (and what a person can bear); past it a send is skipped and noted. */
      limits: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          sms: limit(5, 10),
          call: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              perNumberPerHour: { type: 'integer', minimum: 1, default: 3 },
              perNumberPerDay: { type: 'integer', minimum: 1, default: 10 },
              /** Never two calls about one alert to one number within this many minutes. */
              sameAlertMinutes: { type: 'integer', minimum: 1, default: 60 },
            },
          },
        },
      },
      /** Failed sends (5xx, timeouts, platform busy) are retried with backoff, doubling from base, for up to maxMinutes. */
      retry: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          baseSeconds: { type: 'number', exclusiveMinimum: 0, default: 10 },
          capSeconds: { type: 'number', exclusiveMinimum: 0, default: 300 },
          maxMinutes: { type: 'number', exclusiveMinimum: 0, default: 30 },
        },
      },
      /** Delivery receipts are polled (QuerySendDetails, QueryCallDetailByCallId, PullSmsSendStatus). */
      receipts: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          pollSeconds: { type: 'number', exclusiveMinimum: 0, default: 20 },
          /** No final receipt by then: the outcome is unknown (a call counts as not answered). */
          giveUpMinutes: { type: 'number', exclusiveMinimum: 0, default: 15 },
        },
      },
      /** Non-critical texts and calls wait for the end of these hours; critical ones go through. */
      quietHours: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        default: { from: '22:00', to: '07:00' },
        properties: { from: hhmm, to: hhmm },
      },
    },
  } as const;
}
