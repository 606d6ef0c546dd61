// The scenario file format (simulators/README.md "Scenario files"), as a JSON Schema the loader validates every
// file against before anything runs — every problem reported with its path and line, like the service's config.
import type { FromSchema } from 'json-schema-to-ts';

// The alert vocabulary is the service's own (CONTRACT.md "Alert kinds", "Alert"): one list, not two.
import { ALERT_KINDS, SEVERITIES, STATUSES } from '../../src/alerts/types.js';
import { ROLES, DEVICE_KINDS } from '../../src/config/schema.js';
export { ALERT_KINDS, SEVERITIES, STATUSES, ROLES };
export const CHAT_CHANNELS = ['wecom', 'dingtalk', 'feishu', 'webhook'] as const;
/** Texts and calls (src/notify/phone): checked per phone number against a local SMS/voice receiver. */
export const PHONE_CHANNELS = ['sms', 'call'] as const;
export const CHANNELS = [...CHAT_CHANNELS, ...PHONE_CHANNELS] as const;
/** What became of a text or call (its timeline entry's outcome). */
export const PHONE_OUTCOMES = ['accepted', 'delivered', 'undelivered', 'answered', 'no_answer', 'limited'] as const;
const phoneNumber = { type: 'string', pattern: '^\\+?[0-9-]{5,20}$' } as const;
/** Which notice of an alert: its opening (default), an escalation step, a reminder, a work order (请上门查看), or any of them. */
export const NOTICE_AS = ['opened', 'escalation', 'reminder', 'visit', 'any'] as const;
export const SUBJECT_FIELDS = ['deviceId', 'householdId', 'spaceId', 'plate', 'communityId', 'gridId'] as const;

/** "90s", "5m", "1h30m", "2d", "-5m", "08:30", or a number of seconds (lib/time.ts parseDuration). */
const duration = {
  anyOf: [
    { type: 'string', pattern: '^([-+]?(\\d+(\\.\\d+)?(ms|s|m|h|d))+|\\d{1,3}:[0-5]\\d(:[0-5]\\d)?)$' },
    { type: 'number', minimum: 0 },
  ],
} as const;

const oneOrMany = { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] } as const;

/** Devices by their inventory data: `ids` is a glob (`gh-ps-*`). */
const selector = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    kind: { enum: DEVICE_KINDS },
    communityId: { type: 'string' },
    format: { type: 'string' },
    ids: oneOrMany,
  },
} as const;

const expectation = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { enum: ALERT_KINDS },
    deviceId: oneOrMany,
    householdId: oneOrMany,
    spaceId: oneOrMany,
    plate: oneOrMany,
    communityId: { type: 'string' },
    gridId: { type: 'string' },
    /** One expectation per selected device (as `deviceId: [list]`). */
    select: selector,
    severity: { enum: SEVERITIES },
    /** The alert's status when checked: one value or any of a list. */
    status: { anyOf: [{ enum: STATUSES }, { type: 'array', minItems: 1, items: { enum: STATUSES } }] },
    /** Opened at or before start + by. */
    by: duration,
    /** Opened at or after start + after (e.g. not before the dwell time has passed). */
    after: duration,
    count: { type: 'integer', minimum: 1 },
    titleContains: { type: 'string' },
    note: { type: 'string' },
  },
} as const;

const expected = { ...expectation, required: ['kind'] } as const;

const roleList = { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ROLES } } as const;

/**
 * Who must (and must not) be told of an alert, on which channel, within how much wall time of the message or
 * clock step that opened it. Checked against a local receiver when the service runs in-process.
 */
const notification = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'within'],
  properties: {
    channel: { enum: CHANNELS },
    /** Roles of the alert's community (or of `grid`) that must be told (chat channels). */
    to: roleList,
    /** sms/call: the numbers that must be texted or called about the alert … */
    numbers: { type: 'array', minItems: 1, uniqueItems: true, items: phoneNumber },
    /** … and those that must not be. */
    notNumbers: { type: 'array', minItems: 1, uniqueItems: true, items: phoneNumber },
    /** sms/call: what became of it, from the alert's timeline (delivered, answered, no_answer …). */
    outcome: { enum: PHONE_OUTCOMES },
    /** sms/call: not before this much event time after the alert opened (a call that follows a message). */
    after: duration,
    /** Roles that must not be told (within the same time). */
    notTo: roleList,
    /** Wall time from the message (or clock step) that opened the alert to the delivery. */
    within: duration,
    /** Only people of this micro-grid count (default: the community's). */
    grid: { type: 'string', minLength: 1 },
    /** Which alerts: of this kind (default: the kinds of `alerts:`), and of this subject. */
    kind: { enum: ALERT_KINDS },
    deviceId: { type: 'string', minLength: 1 },
    householdId: { type: 'string', minLength: 1 },
    spaceId: { type: 'string', minLength: 1 },
    plate: { type: 'string', minLength: 1 },
    as: { enum: NOTICE_AS },
    note: { type: 'string' },
  },
} as const;

const deviceTarget = {
  device: { type: 'string', minLength: 1 },
  devices: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  select: selector,
} as const;

const step = {
  type: 'object',
  additionalProperties: false,
  required: ['at'],
  properties: {
    /** Offset from the scenario's start. */
    at: duration,
    note: { type: 'string' },
    ...deviceTarget,
    /** A canonical payload (encoded into the device's own format); `ts` is added unless given. */
    payload: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    /** A named payload builder of the device's kind (simulators/README.md lists them), with its args. */
    helper: { type: 'string' },
    args: { type: 'object' },
    /** Bytes sent as they are; `encoding` says how they are written here. */
    raw: { type: 'string' },
    encoding: { enum: ['utf8', 'hex', 'base64'] },
    qos: { enum: [0, 1] },
    repeat: {
      type: 'object',
      additionalProperties: false,
      required: ['every'],
      properties: { every: duration, until: duration, times: { type: 'integer', minimum: 1, maximum: 100000 } },
    },
    /** Move the event clock to this time (fires the deadlines it passes). */
    clock: { const: true },
    /** Close these devices' MQTT connections without a DISCONNECT (a gateway or power outage). */
    disconnect: { const: true },
    /** Register a visitor plate for a while (POST /api/visitors). */
    visitor: {
      type: 'object',
      additionalProperties: false,
      required: ['plate', 'for'],
      properties: { plate: { type: 'string' }, communityId: { type: 'string' }, for: duration },
    },
    /** Any API call as the admin; strings "{{+2h}}" in the body become that time after the start (RFC 3339). */
    api: {
      type: 'object',
      additionalProperties: false,
      required: ['method', 'path'],
      properties: { method: { enum: ['GET', 'POST', 'PUT', 'DELETE'] }, path: { type: 'string', pattern: '^/' }, body: {} },
    },
    /**
     * A household files from its phone page (随手拍 report or 居民点单 request): the invite is read as the admin
     * (GET /api/invites), then POST /api/resident/orders with the household's own invite token.
     */
    resident: {
      type: 'object',
      additionalProperties: false,
      required: ['household', 'file'],
      properties: {
        household: { type: 'string', minLength: 1 },
        file: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'category', 'text'],
          properties: {
            type: { enum: ['report', 'request'] },
            category: { type: 'string', minLength: 1 },
            text: { type: 'string', minLength: 1, maxLength: 200 },
            placeId: { type: 'string', minLength: 1 },
          },
        },
      },
    },
    /** A person taps a button on the page they were texted (the last text to `phone`): 已联系上，平安 / 联系不上 / 确认接警. */
    tap: {
      type: 'object',
      additionalProperties: false,
      required: ['phone', 'answer'],
      properties: { phone: phoneNumber, answer: { enum: ['safe', 'unreachable', 'ack'] } },
    },
    /** Expectations checked at this point of the timeline. */
    check: {
      type: 'object',
      additionalProperties: false,
      properties: { alerts: { type: 'array', items: expected }, noAlerts: { type: 'array', items: expectation } },
    },
  },
} as const;

export const scenarioSchema = {
  $id: 'shaobing/scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'timeline'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    /** Not runnable yet (e.g. the rule it needs is not implemented): reported as skipped, never as passed. */
    pending: { type: 'string', minLength: 1 },
    /** Virtual time of offset 0, RFC 3339; default 2026-03-02T08:00:00+08:00. */
    start: { type: 'string', format: 'date-time' },
    /** Between timeline steps the clock advances in steps of `tick`, so deadlines fire near their time. */
    tick: duration,
    /** Run the clock to start + end before the final checks (default: the last step). */
    end: duration,
    /** Settings for the in-process service, merged over config/settings.yaml (e.g. `rules:` thresholds). */
    settings: { type: 'object' },
    /** Devices created for this scenario through POST /api/devices (their secrets come back from it). */
    provision: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'kind', 'communityId'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
          kind: { enum: DEVICE_KINDS },
          communityId: { type: 'string' },
          format: { type: 'string' },
          householdId: { type: 'string' },
          spaceId: { type: 'string' },
          gateId: { type: 'string' },
          buildingId: { type: 'string' },
          area: { type: 'string', maxLength: 64 },
          /** That many devices: `id` is then a prefix, numbered 01, 02, … (`gh-sd-lora-` → gh-sd-lora-01 …). */
          count: { type: 'integer', minimum: 1, maximum: 999 },
        },
      },
    },
    timeline: { type: 'array', items: step },
    /** Alerts that must have come by the end. */
    alerts: { type: 'array', items: expected },
    /** Alerts that must not have come (any status). Without `kind`: no alert at all for the subject. */
    noAlerts: { type: 'array', items: expectation },
    /**
     * Notifications expected (channel, to whom, not to whom, within what wall time). Checked when the service
     * runs in-process (its destinations are a local receiver's robots); reported as not checked with --url.
     */
    notifications: { type: 'array', items: notification },
    /**
     * Texts and calls go to a local receiver playing Alibaba Cloud and Tencent Cloud (in-process runs):
     * which platform sends texts, and how the people at those numbers behave (default: they answer).
     */
    phones: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sms: { enum: ['aliyun', 'tencent'] },
        people: {
          type: 'object',
          propertyNames: { pattern: '^\\+?[0-9-]{5,20}$' },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { call: { enum: ['answer', 'no_answer', 'busy', 'off'] }, sms: { enum: ['deliver', 'fail'] } },
          },
        },
      },
    },
  },
} as const;

export type ScenarioFile = FromSchema<typeof scenarioSchema>;
export type StepFile = FromSchema<typeof step>;
export type ExpectationFile = FromSchema<typeof expectation>;
export type SelectorFile = FromSchema<typeof selector>;
export type NotificationFile = FromSchema<typeof notification>;
