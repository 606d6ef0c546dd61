// Every alert kind, declared once: its Chinese label (alert lists, digest, texts, the console), the severity
// it usually opens with, who hears of it (routing), who is added while nobody acknowledges (escalation), the
// phone steps, and the rule that raises it. Everything else — ALERT_KINDS, notify's defaults, the digest's
// words, the console's labels (GET /js/labels.js) — is derived from this table; adding an alert kind is one
// entry here plus its rule (tests/unit/registries.test.ts walks every kind).
import type { Role } from '../config/schema.js';
import type { Severity } from './types.js';
import type { Route } from '../notify/routing.js';
import type { EscalationStep } from '../notify/index.js';
import type { PhoneStep } from '../notify/phone/config.js';

export interface AlertKindDef {
  /** 中文, as people read it everywhere. */
  label: string;
  /** What it usually opens with; a rule may raise it (a lone elder's flat, a fire lane) — docs/rules.md. */
  severity: Severity;
  /** Default routing (settings `notify.routes` overrides it per kind). */
  route: Route;
  /** Default escalation steps (settings `notify.escalation` replaces them per kind). */
  escalation?: EscalationStep[];
  /** Default text and call steps (settings `notify.phone.routes` replaces them per kind). */
  phone?: PhoneStep[];
  /** The rule (src/rules/) that opens it; `null` for a kind people open themselves. */
  rule: string | null;
}

/** Device health goes to property only — into the daily digest — unless it leaves an elder unprotected. */
const HEALTH: Route = { roles: ['property_duty'], careContacts: false, digestOnly: true };
/** An elder's silence: grid head at 1 h (DOMAIN.md §6); the family texted with the one-tap page at once, and a
 *  visit by the grid if nobody confirms within 30 minutes (DOMAIN.md §7). */
const ELDER_ESCALATION: EscalationStep[] = [{ afterMinutes: 60, roles: ['grid_head'], streetOps: false }];
const ELDER_PHONE: PhoneStep[] = [
  { afterMinutes: 0, to: ['contacts'], relations: ['family'], by: 'sms', ask: true },
  { afterMinutes: 30, by: 'preferred', ask: false, visit: { roles: ['grid_member', 'grid_head'] as Role[] } },
];

// Order is the API's and the settings' enum order (CONTRACT.md "Alert kinds").
export const ALERT_KIND_DEFS = {
  smoke: {
    label: '烟感报警',
    severity: 'critical',
    route: { roles: ['property_duty', 'emergency', 'residents_committee'], careContacts: true },
    // DOMAIN.md §6: unacknowledged after 3 min → grid head and committee, after 10 → the street's operations centre.
    escalation: [
      { afterMinutes: 3, roles: ['grid_head', 'residents_committee'], streetOps: false },
      { afterMinutes: 10, roles: [], streetOps: true },
    ],
    // DOMAIN.md §7 (静安, 深圳龙岗): nobody acknowledged in 3 minutes → call the duty phones and the elder's contacts.
    phone: [{ afterMinutes: 3, to: ['duty', 'contacts'], by: 'call', ask: false }],
    rule: 'smoke',
  },
  no_water_use: {
    label: '独居老人无用水',
    severity: 'major',
    route: { roles: ['special_care'], careContacts: true },
    escalation: ELDER_ESCALATION,
    phone: ELDER_PHONE,
    rule: 'no_water_use',
  },
  continuous_water_flow: {
    label: '持续用水',
    severity: 'minor',
    route: { roles: ['property_duty', 'special_care'], careContacts: true },
    rule: 'continuous_water_flow',
  },
  illegal_parking: {
    label: '违规停车',
    severity: 'minor',
    route: { roles: ['property_duty'], careContacts: false },
    // Fire-lane parking unmoved after 15 minutes → the committee.
    escalation: [{ afterMinutes: 15, roles: ['residents_committee'], streetOps: false }],
    rule: 'illegal_parking',
  },
  unregistered_vehicle: { label: '陌生车辆', severity: 'minor', route: { roles: ['property_duty'], careContacts: false }, rule: 'unregistered_vehicle' },
  visitor_overstay: { label: '访客超时', severity: 'minor', route: { roles: ['property_duty'], careContacts: false }, rule: 'visitor_overstay' },
  lot_full: { label: '车位已满', severity: 'info', route: { roles: ['property_duty'], careContacts: false }, rule: 'lot_full' },
  device_offline: { label: '设备离线', severity: 'minor', route: HEALTH, rule: 'device_offline' },
  low_battery: { label: '电量低', severity: 'minor', route: HEALTH, rule: 'low_battery' },
  device_tamper: { label: '设备被拆', severity: 'minor', route: { roles: ['property_duty'], careContacts: false }, rule: 'device_tamper' },
  device_fault: { label: '设备故障', severity: 'minor', route: HEALTH, rule: 'device_fault' },
  missed_check: {
    label: '巡访未见活动',
    severity: 'major',
    route: { roles: ['special_care'], careContacts: true },
    escalation: ELDER_ESCALATION,
    phone: ELDER_PHONE,
    rule: 'missed_check',
  },
  slow_leak: {
    label: '漏水提醒',
    severity: 'minor',
    // Gentle: property fixes it, the household's care contacts tell the elder.
    route: { roles: ['property_duty'], careContacts: true },
    rule: 'slow_leak',
  },
  // AI cameras (devices/ai-camera): one open alert per camera and kind, a burst counted on it; the snapshot is
  // attached after it is stored (src/residents/snapshots.ts) and linked from chat messages.
  camera_fire: {
    label: '烟火报警',
    severity: 'critical',
    // Smoke or fire seen in the e-bike shed: routed, escalated and called like a smoke detector's alarm.
    route: { roles: ['property_duty', 'emergency', 'residents_committee'], careContacts: false },
    escalation: [
      { afterMinutes: 3, roles: ['grid_head', 'residents_committee'], streetOps: false },
      { afterMinutes: 10, roles: [], streetOps: true },
    ],
    phone: [{ afterMinutes: 3, to: ['duty'], by: 'call', ask: false }],
    rule: 'camera_fire',
  },
  ebike_in_lift: {
    label: '电动车进电梯',
    severity: 'major',
    // The lift must be stopped before it goes up: property duty in the chat and, at once, a text to the duty phone
    // (chat notices of a major alert wait out a person's quiet hours; a text does not).
    route: { roles: ['property_duty'], careContacts: false },
    phone: [{ afterMinutes: 0, to: ['duty'], by: 'sms', ask: false }],
    rule: 'ebike_in_lift',
  },
  ebike_indoor: {
    label: '电动车违规停放',
    severity: 'minor',
    route: { roles: ['property_duty'], careContacts: false },
    escalation: [{ afterMinutes: 60, roles: ['grid_member'], streetOps: false }],
    rule: 'ebike_indoor',
  },
  object_thrown: {
    label: '高空抛物',
    severity: 'major',
    // Property finds the flat from the snapshot; the residents' committee follows it up with the household.
    route: { roles: ['property_duty', 'residents_committee'], careContacts: false },
    rule: 'object_thrown',
  },
  garbage_overflow: { label: '垃圾满溢', severity: 'minor', route: { roles: ['property_duty'], careContacts: false }, rule: 'garbage_overflow' },
  // Filed by a resident from the phone page (src/residents): 随手拍 and 居民点单, worked like any alert.
  resident_report: {
    label: '居民随手拍',
    severity: 'minor',
    // The grid's own staff answer it, property duty for what is theirs (a broken light, rubbish). Never to the
    // filer's care contacts.
    route: { roles: ['grid_head', 'grid_member', 'property_duty'], careContacts: false },
    // Nobody took it up within two hours: the grid head hears of it.
    escalation: [{ afterMinutes: 120, roles: ['grid_head'], streetOps: false }],
    rule: null,
  },
  resident_request: {
    label: '居民点单',
    severity: 'minor',
    route: { roles: ['grid_head', 'grid_member'], careContacts: false },
    escalation: [{ afterMinutes: 120, roles: ['grid_head'], streetOps: false }],
    rule: null,
  },
} satisfies Record<string, AlertKindDef>;

export type AlertKind = keyof typeof ALERT_KIND_DEFS;
export const ALERT_KINDS = Object.keys(ALERT_KIND_DEFS) as AlertKind[];

/** One kind's declaration (typed loosely, for code that walks them). */
export function alertKind(kind: AlertKind): AlertKindDef {
  return ALERT_KIND_DEFS[kind] as AlertKindDef;
}

/** kind → its declaration's field, for every kind that has one. */
export function byAlertKind<F extends keyof AlertKindDef>(field: F): Partial<Record<AlertKind, NonNullable<AlertKindDef[F]>>> {
  const out: Partial<Record<AlertKind, NonNullable<AlertKindDef[F]>>> = {};
  for (const k of ALERT_KINDS) {
    const v = alertKind(k)[field];
    if (v !== undefined && v !== null) out[k] = v as NonNullable<AlertKindDef[F]>;
  }
  return out;
}
