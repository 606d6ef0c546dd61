// What a JSON Schema cannot say about settings.notify.phone, checked at load with every problem by path
// (src/config/load.ts, exit 78): templates fit their provider, every route's step can be sent with what is
// configured, and the credentials of each provider in use are there — from the environment or a secrets file,
// never from the settings file itself (it is often committed), and never logged.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Settings } from '../../config/schema.js';
import type { AlertKind, Severity } from '../../alerts/types.js';
import { byAlertKind } from '../../alerts/kinds.js';
import type { Role } from '../../config/schema.js';
import type { Provider, TemplateField } from './schema.js';

export type PhoneSettings = Settings['notify']['phone'];
export type Template = { code?: string; id?: string; params: Record<string, TemplateField> | TemplateField[] };

export interface PhoneStep {
  afterMinutes: number;
  severities?: Severity[];
  to?: Array<'duty' | 'contacts'>;
  relations?: string[];
  by: 'sms' | 'call' | 'preferred';
  ask: boolean;
  visit?: { roles: Role[] };
}

export interface PhoneCredentials {
  aliyun?: { accessKeyId: string; accessKeySecret: string };
  tencent?: { secretId: string; secretKey: string };
}

/**
 * Defaults (DOMAIN.md §7, 静安 and 深圳龙岗): a smoke alarm nobody acknowledged in 3 minutes calls the duty phones
 * and the elder's contacts in order; an elder's silence texts the family with the one-tap page, and if nobody
 * confirms within 30 minutes a work order goes to the grid for a visit.
 */
export const DEFAULT_PHONE_ROUTES: Partial<Record<AlertKind, PhoneStep[]>> = byAlertKind('phone');

/** The environment variables read, per provider (the SDKs' own names are accepted too). */
export const CREDENTIAL_ENV = {
  aliyun: { accessKeyId: ['SHAOBING_ALIYUN_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_ID'], accessKeySecret: ['SHAOBING_ALIYUN_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] },
  tencent: { secretId: ['SHAOBING_TENCENT_SECRET_ID', 'TENCENTCLOUD_SECRET_ID'], secretKey: ['SHAOBING_TENCENT_SECRET_KEY', 'TENCENTCLOUD_SECRET_KEY'] },
} as const;

export function providersInUse(p: PhoneSettings): Set<Provider> {
  const out = new Set<Provider>();
  if (p.sms) out.add(p.sms.provider);
  if (p.call) out.add(p.call.provider);
  return out;
}

/** A phone step list per kind: the configured one, else the default, keeping only steps what is configured can send. */
export function phoneRoutes(p: PhoneSettings): Partial<Record<AlertKind, PhoneStep[]>> {
  const configured = p.routes as Partial<Record<AlertKind, PhoneStep[]>>;
  const out: Partial<Record<AlertKind, PhoneStep[]>> = {};
  if (!p.sms && !p.call) return out;
  for (const [kind, steps] of Object.entries(DEFAULT_PHONE_ROUTES) as Array<[AlertKind, PhoneStep[]]>) {
    if (configured[kind]) continue;
    // A default step that needs what is not configured falls back (a call → a text) or is left out.
    const usable = steps
      .map((s) => (s.by === 'call' && !p.call && p.sms?.templates.alert ? { ...s, by: 'sms' as const } : s))
      .filter((s) => s.visit || (s.by === 'call' ? !!p.call : !!p.sms?.templates[s.ask ? 'ask' : 'alert']));
    if (usable.some((s) => !s.visit)) out[kind] = usable;
  }
  for (const [kind, steps] of Object.entries(configured) as Array<[AlertKind, PhoneStep[]]>) out[kind] = steps;
  return out;
}

/** Cross-field problems of settings.notify.phone, each with its path. */
export function phoneProblems(p: PhoneSettings, file: string): string[] {
  const problems: string[] = [];
  const at = (path: string, msg: string) => problems.push(`${file}: /notify/phone${path}: ${msg}`);
  const checkTemplate = (path: string, t: Template | undefined, provider: Provider, prefix: 'SMS' | 'TTS') => {
    if (!t) return;
    if (provider === 'aliyun') {
      if (!t.code) at(`${path}/code`, `is required for aliyun (the template code, ${prefix}_…)`);
      else if (!t.code.startsWith(`${prefix}_`)) at(`${path}/code`, `an aliyun ${prefix === 'SMS' ? 'SMS' : 'voice'} template code starts with ${prefix}_`);
      if (t.id) at(`${path}/id`, 'is for tencent templates; aliyun templates have a code');
      if (Array.isArray(t.params)) at(`${path}/params`, 'aliyun templates name their variables: { variable: field }');
    } else {
      if (!t.id) at(`${path}/id`, 'is required for tencent (the numeric template id)');
      if (t.code) at(`${path}/code`, 'is for aliyun templates; tencent templates have an id');
      if (!Array.isArray(t.params)) at(`${path}/params`, 'tencent templates take their variables in order: [field for {1}, field for {2}, …]');
    }
  };
  if (p.sms) {
    for (const [name, t] of Object.entries(p.sms.templates)) checkTemplate(`/sms/templates/${name}`, t as Template, p.sms.provider, 'SMS');
    if (p.sms.provider === 'tencent' && !p.tencent.smsSdkAppId) at('/tencent/smsSdkAppId', 'is required to send SMS through tencent (the SmsSdkAppId of the application)');
    const ask = p.sms.templates.ask as Template | undefined;
    if (ask && !Object.values(ask.params).some((f) => f === 'link' || f === 'code'))
      at('/sms/templates/ask/params', 'an asking text needs the one-tap page: map a variable to link or code');
  }
  if (p.call) checkTemplate('/call/templates/alert', p.call.templates.alert as Template, 'aliyun', 'TTS');
  for (const [kind, steps] of Object.entries(p.routes as Record<string, PhoneStep[]>))
    steps.forEach((s, i) => {
      const path = `/routes/${kind}/${i}`;
      if (!!s.to === !!s.visit) return at(path, 'a step either sends (to) or orders a visit (visit)');
      if (s.visit) return;
      if (s.ask && s.by === 'call') at(`${path}/ask`, 'a call cannot carry the one-tap page: ask needs by sms or preferred');
      if (s.ask && s.to?.includes('duty')) at(`${path}/ask`, 'only contacts are asked to check; send duty phones a separate step');
      const needSms = s.by !== 'call';
      const needCall = s.by === 'call';
      if (needSms && !p.sms) at(`${path}/by`, `sending by ${s.by} needs notify.phone.sms`);
      else if (needSms && !p.sms!.templates[s.ask ? 'ask' : 'alert']) at(`${path}/by`, `needs the SMS template notify.phone.sms.templates.${s.ask ? 'ask' : 'alert'}`);
      if (needCall && !p.call) at(`${path}/by`, 'calling needs notify.phone.call');
    });
  return problems;
}

/** Credentials of the providers in use: the environment over the secrets file. */
export function loadPhoneCredentials(p: PhoneSettings, env: NodeJS.ProcessEnv, baseDir: string, file: string): { credentials: PhoneCredentials; problems: string[] } {
  const problems: string[] = [];
  const credentials: PhoneCredentials = {};
  const inUse = providersInUse(p);
  if (!inUse.size) return { credentials, problems };
  let fromFile: Record<string, Record<string, unknown>> = {};
  if (p.secretsFile) {
    const path = resolve(baseDir, p.secretsFile);
    if (!existsSync(path)) problems.push(`${file}: /notify/phone/secretsFile: ${p.secretsFile} not found`);
    else {
      try {
        const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fromFile = parsed as typeof fromFile;
        else problems.push(`${p.secretsFile}: /: must be a mapping { aliyun: {…}, tencent: {…} }`);
        // Readable by others: say so (the keys send texts and calls on the account's money).
        if ((statSync(path).mode & 0o077) !== 0) problems.push(`${p.secretsFile}: readable by group or others; chmod 600 it`);
      } catch (err) {
        problems.push(`${p.secretsFile}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  for (const provider of inUse) {
    const names = CREDENTIAL_ENV[provider] as Record<string, readonly string[]>;
    const got: Record<string, string> = {};
    for (const [key, vars] of Object.entries(names)) {
      const env1 = vars.map((v) => env[v]).find((v) => v !== undefined && v !== '');
      const file1 = fromFile[provider]?.[key];
      const value = env1 ?? (typeof file1 === 'string' && file1 ? file1 : undefined);
      if (value === undefined)
        problems.push(`${file}: /notify/phone: ${provider} is in use but its ${key} is missing: set ${vars[0]} (or ${vars.slice(1).join(', ')}), or ${provider}.${key} in notify.phone.secretsFile`);
      else got[key] = value;
    }
    if (Object.keys(got).length === Object.keys(names).length) (credentials as Record<string, unknown>)[provider] = got;
  }
  return { credentials, problems };
}
