// Compiles every kind's canonical schema once, at start-up, with the shared parts (devices/common.schema.json).
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DeviceKindDef } from './types.js';

const require = createRequire(import.meta.url);
const commonSchema = require('../../devices/common.schema.json') as Record<string, unknown>;
// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

export type PayloadValidator = (payload: unknown) => { ok: true } | { ok: false; message: string };

export function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  return errors
    .map((e) => {
      const where = e.instancePath || '/';
      if (e.keyword === 'additionalProperties') return `${where}: unknown field '${String(e.params.additionalProperty)}'`;
      if (e.keyword === 'enum') return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
      if (e.keyword === 'required') return `${where}: missing required field '${String(e.params.missingProperty)}'`;
      return `${where}: ${e.message ?? e.keyword}`;
    })
    .join('; ');
}

const OK = { ok: true } as const;

/** One validator per kind; `payload` is the decoder's output. */
export function compileValidators(kinds: readonly DeviceKindDef[]): Map<string, PayloadValidator> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(commonSchema);
  const out = new Map<string, PayloadValidator>();
  for (const def of kinds) {
    const fn: ValidateFunction = ajv.compile(def.schema);
    out.set(def.kind, (payload) => (fn(payload) ? OK : { ok: false, message: formatAjvErrors(fn.errors) }));
  }
  return out;
}
