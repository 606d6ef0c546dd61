// Compiles every kind's canonical schema once, at start-up, with the shared parts (devices/common.schema.json).
//
// Bounds before use (issue 11): every number a schema types must be finite (`strictNumbers`: 1e309 parses to
// Infinity, which JSON.stringify would store as null), every field a schema marks `"eventTime": true` must be a
// time inside PLAUSIBLE_TIME (a numeric ts of 1e300 or a string of year 0001 is a `bad_timestamp`, never a
// RangeError at toISOString), and `plainJsonProblem` walks what a decoder produced — whatever it is, unknown
// extras included — for non-finite numbers and nesting deeper than MAX_JSON_DEPTH.
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DeviceKindDef } from './types.js';
import { MAX_JSON_DEPTH } from '../../devices/shared/json.js';

const require = createRequire(import.meta.url);
const commonSchema = require('../../devices/common.schema.json') as Record<string, unknown>;
// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/**
 * Event times shaobing believes, epoch ms: from 2000-01-01 (no device of ours was made before; the canonical
 * schema's old floor) to 2100-01-01. Far inside what a JS Date can hold (±8.64e15), so anything that passes
 * can be formatted, compared and handed to a timer. In wall-clock mode a time may also not lie more than
 * MAX_FUTURE_MS ahead of the server (src/ingest/reading.ts).
 */
export const PLAUSIBLE_TIME = { min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) } as const;

/** Epoch ms of a canonical time (epoch ms number or RFC 3339 string) if it lies in PLAUSIBLE_TIME, else NaN. */
export function plausibleTime(value: unknown): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  return ms >= PLAUSIBLE_TIME.min && ms < PLAUSIBLE_TIME.max ? ms : NaN;
}

export type PayloadValidator = (payload: unknown) => { ok: true } | { ok: false; code: 'invalid_payload' | 'bad_timestamp'; message: string };

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
  const ajv = new Ajv({ allErrors: true, strict: false, strictNumbers: true });
  addFormats(ajv);
  ajv.addKeyword({
    keyword: 'eventTime',
    type: ['number', 'string'],
    schemaType: 'boolean',
    errors: true,
    validate: function eventTime(this: unknown, on: boolean, data: unknown) {
      if (!on || !Number.isNaN(plausibleTime(data))) return true;
      (eventTime as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        {
          keyword: 'eventTime',
          message: `'${String(data).slice(0, 40)}' is not a time between ${new Date(PLAUSIBLE_TIME.min).toISOString().slice(0, 10)} and ${new Date(PLAUSIBLE_TIME.max).toISOString().slice(0, 10)}`,
          params: {},
        },
      ];
      return false;
    },
  });
  ajv.addSchema(commonSchema);
  const out = new Map<string, PayloadValidator>();
  for (const def of kinds) {
    const fn: ValidateFunction = ajv.compile(def.schema);
    out.set(def.kind, (payload) => {
      if (fn(payload)) return OK;
      // A time out of range is reported alone, as `bad_timestamp` (its oneOf branch errors are noise).
      const times = fn.errors?.filter((e) => e.keyword === 'eventTime');
      if (times?.length) return { ok: false, code: 'bad_timestamp', message: formatAjvErrors(times) };
      return { ok: false, code: 'invalid_payload', message: formatAjvErrors(fn.errors) };
    });
  }
  return out;
}

/**
 * What a decoder produced, whatever its shape: the path of a non-finite number or of nesting deeper than
 * MAX_JSON_DEPTH, else null. Iterative, so it cannot overflow the stack on what it is meant to catch.
 * Hot path (every message): the walk allocates nothing per value; a path is built only for a problem found.
 */
export function plainJsonProblem(value: unknown): string | null {
  return typeof value === 'object' && value !== null && !plainJsonOk(value) ? plainJsonPath(value) : typeof value === 'number' && !Number.isFinite(value) ? `/: ${value} is not a finite number` : null;
}

const walkValues: unknown[] = [];
const walkDepths: number[] = [];

/** Whether every number under `root` is finite and nothing nests deeper than MAX_JSON_DEPTH (two reused stacks). */
function plainJsonOk(root: object): boolean {
  const values = walkValues;
  const depths = walkDepths;
  let n = 0;
  let hi = 1;
  values[n] = root;
  depths[n++] = 0;
  try {
    while (n > 0) {
      if (n > hi) hi = n;
      const v = values[--n];
      const depth = depths[n];
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) return false;
      } else if (typeof v === 'object' && v !== null) {
        if (depth >= MAX_JSON_DEPTH) return false;
        if (Array.isArray(v))
          for (let i = 0; i < v.length; i++) {
            values[n] = v[i];
            depths[n++] = depth + 1;
          }
        else
          for (const k in v) {
            values[n] = (v as Record<string, unknown>)[k];
            depths[n++] = depth + 1;
          }
      }
    }
    return true;
  } finally {
    for (let i = 0; i < hi + 1 && i < values.length; i++) values[i] = undefined; // hold no payload past the call
  }
}

/** The path of the first problem plainJsonOk found (the slow walk that names it). */
function plainJsonPath(value: unknown): string | null {
  const stack: Array<[unknown, string, number]> = [[value, '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${path || '/'}: ${v} is not a finite number`;
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= MAX_JSON_DEPTH) return `${path || '/'}: nested deeper than ${MAX_JSON_DEPTH} levels`;
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}/${i}`, depth + 1]);
      else for (const k in v) stack.push([(v as Record<string, unknown>)[k], `${path}/${k}`, depth + 1]);
    }
  }
  return null;
}
