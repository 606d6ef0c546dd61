// Errors with stable codes (after fastify lib/errors.js): one registry, code → HTTP status → default message.
// Callers compare codes, never messages. Every answer the API gives carries one of these codes; Fastify's own
// `FST_ERR_*` errors are translated by `toAppError` so they never reach a caller (README "HTTP API").
export const ERRORS = {
  // 400 — the request itself is wrong
  SB_BAD_REQUEST: { status: 400, message: 'bad request' },
  SB_VALIDATION: { status: 400, message: 'the request does not match the schema' },
  SB_INVALID_JSON: { status: 400, message: 'the body is not valid JSON' },
  SB_INVALID_DEVICE: { status: 400, message: 'the device cannot be provisioned as given' },
  SB_UNKNOWN_ASSIGNEE: { status: 400, message: 'the assignee does not serve this grid' },
  SB_TELEMETRY_RANGE: { status: 400, message: 'the time range is not valid' },
  SB_TELEMETRY_FIELD: { status: 400, message: 'the device kind has no such history field' },
  /** POST/PATCH /api/care/absences: from/until not a time, until not after from or already past, from more than 7 days back. */
  SB_ABSENCE_RANGE: { status: 400, message: 'the absence needs from before until, until ahead of now, from within the last 7 days' },
  SB_ABSENCE_TOO_LONG: { status: 400, message: 'an absence is at most 90 days; extend it when it runs out' },
  /** A photo that does not decode (truncated, corrupt): refused, nothing stored (src/residents/photos.ts). */
  SB_PHOTO_INVALID: { status: 400, message: '照片文件已损坏或不完整' },
  /** A resident's report names no building or parking lot of their community. */
  SB_UNKNOWN_PLACE: { status: 400, message: 'no such place in the community' },
  // 401 / 403 — who is asking
  SB_UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  SB_BAD_CREDENTIALS: { status: 401, message: 'wrong username or password' },
  SB_FORBIDDEN: { status: 403, message: 'not allowed' },
  /** A lifecycle step the caller's role may not take (src/alerts/permissions.ts). */
  SB_STEP_NOT_ALLOWED: { status: 403, message: 'your role may not take this step' },
  SB_NOT_ASSIGNEE: { status: 403, message: 'only the assignee accepts a dispatched job' },
  // 404 / 405 / 410 — what is asked for
  SB_NOT_FOUND: { status: 404, message: 'not found' },
  SB_TELEMETRY_DISABLED: { status: 404, message: 'no telemetry history is kept' },
  /** POST /ingest/{integration}: the body names no device of the integration's community. */
  SB_UNKNOWN_DEVICE: { status: 404, message: "no device of this integration's community matches" },
  SB_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  SB_ACK_INVALID: { status: 410, message: 'the acknowledge link is not valid' },
  SB_ACK_EXPIRED: { status: 410, message: 'the acknowledge link has expired' },
  /** A household's invite link that was revoked (a new one was printed). */
  SB_INVITE_REVOKED: { status: 410, message: '此邀请链接已停用，请使用社区新发的二维码' },
  // 409 — the state does not allow it
  SB_CONFLICT: { status: 409, message: 'conflict' },
  SB_ILLEGAL_TRANSITION: { status: 409, message: 'the alert is not in a state that allows this step' },
  SB_ALREADY_RATED: { status: 409, message: 'the alert is already rated' },
  SB_DEVICE_EXISTS: { status: 409, message: 'the device already exists' },
  SB_SPACE_TAKEN: { status: 409, message: 'the parking space already has a sensor' },
  /** The household is already marked away over part of that time: change that absence instead. */
  SB_ABSENCE_OVERLAP: { status: 409, message: 'the household is already marked away over part of that time' },
  SB_ABSENCE_ENDED: { status: 409, message: 'the absence has already ended' },
  SB_CLOCK_NOT_EVENT: { status: 409, message: 'the clock is wall time' },
  SB_CLOCK_BACKWARDS: { status: 409, message: 'the event clock never goes back' },
  /** A write the PostgreSQL store's working set refuses as SQLite's unique indexes would (a second unresolved alert for one subject; src/store/pg/). */
  SB_STORE_CONSTRAINT: { status: 409, message: 'the write conflicts with what is stored' },
  // 413 / 414 / 415 / 429 — the shape or rate of the request
  SB_PAYLOAD_TOO_LARGE: { status: 413, message: 'the body is too large' },
  SB_URI_TOO_LONG: { status: 414, message: 'the URL is too long' },
  /** A photo with more pixels than PHOTO_LIMITS.maxPixels (a decompression bomb), or several frames. */
  SB_PHOTO_TOO_LARGE: { status: 413, message: '照片像素太多' },
  /** An upload that is not a JPEG, PNG or WebP photo by its first bytes (a zip renamed .jpg). */
  SB_PHOTO_TYPE: { status: 415, message: '只能上传照片（JPG、PNG 或 WebP 格式）' },
  SB_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type; send application/json' },
  SB_TOO_MANY_ATTEMPTS: { status: 429, message: 'too many failed attempts; try again later' },
  SB_TOO_MANY_REQUESTS: { status: 429, message: 'too many requests; try again later' },
  /** A household's filing limits (src/residents/workOrders.ts LIMITS); the message says which, in Chinese. */
  SB_RESIDENT_LIMIT: { status: 429, message: '提交太多了，请等已提交的处理后再试' },
  // 5xx — ours
  SB_INTERNAL: { status: 500, message: 'internal error' },
  SB_UNAVAILABLE: { status: 503, message: 'service unavailable' },
  SB_TELEMETRY_UNAVAILABLE: { status: 503, message: 'the telemetry store did not answer' },
  /** The PostgreSQL store cannot take units now: a commit failed and its working set is being reloaded (src/store/pg/unit.ts). Transient. */
  SB_STORE_UNAVAILABLE: { status: 503, message: 'the store is reloading after a failed commit; try again shortly' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Codes of what stops start-up (never an HTTP answer): the process exit status and what it means. The config
 * loader lists every problem by path (src/config/load.ts); a second instance finds the data dir taken
 * (src/store/lock.ts). src/main.ts exits with `exit`.
 */
export const STARTUP_ERRORS = {
  SB_CONFIG_INVALID: { exit: 78, message: 'the configuration is invalid' }, // EX_CONFIG
  SB_DATA_DIR_LOCKED: { exit: 1, message: 'another shaobing process holds the data dir' },
} as const satisfies Record<string, { exit: number; message: string }>;
export type StartupErrorCode = keyof typeof STARTUP_ERRORS;
type StatusOf<C extends ErrorCode> = (typeof ERRORS)[C]['status'];

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  /** Always the registry's status for the code: a throw site names the code and, if it helps, a message. */
  readonly statusCode: StatusOf<C>;
  constructor(
    readonly code: C,
    message: string = ERRORS[code].message,
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = ERRORS[code].status;
  }

  toJSON(): { statusCode: number; code: string; message: string } {
    return { statusCode: this.statusCode, code: this.code, message: this.message };
  }
}

/** A status Fastify (or a plugin) answered with → our code for it, when no finer code applies. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'SB_BAD_REQUEST',
  401: 'SB_UNAUTHORIZED',
  403: 'SB_FORBIDDEN',
  404: 'SB_NOT_FOUND',
  405: 'SB_METHOD_NOT_ALLOWED',
  409: 'SB_CONFLICT',
  413: 'SB_PAYLOAD_TOO_LARGE',
  414: 'SB_URI_TOO_LONG',
  415: 'SB_UNSUPPORTED_MEDIA_TYPE',
  429: 'SB_TOO_MANY_REQUESTS',
  503: 'SB_UNAVAILABLE',
};

/**
 * Any error thrown while answering a request → an AppError with an `SB_*` code. Ours pass through; schema
 * failures become SB_VALIDATION; Fastify's `FST_ERR_*` (and plugins' codes) are mapped by meaning, then by
 * status; anything else is SB_INTERNAL (the caller's answer never carries a stack or an internal message).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as { code?: string; statusCode?: number; status?: number; message?: string; validation?: unknown };
  if (e.validation) return new AppError('SB_VALIDATION', e.message);
  switch (e.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('SB_INVALID_JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('SB_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('SB_PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('SB_BAD_REQUEST');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('SB_URI_TOO_LONG');
  }
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new AppError(BY_STATUS[status] ?? 'SB_BAD_REQUEST');
  if (status === 503) return new AppError('SB_UNAVAILABLE');
  return new AppError('SB_INTERNAL');
}
