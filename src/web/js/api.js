// The HTTP API (README "HTTP API") with the signed-in token. Paths are relative (`api/…`), so the console also
// works behind a reverse proxy that serves it under a sub-path.
const TOKEN_KEY = 'shaobing.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};

export const session = {
  get token() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token) {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
  },
  /** Called once when the server refuses the stored token (expired session, removed person). */
  onUnauthorized(fn) {
    onUnauthorized = fn;
  },
};

export function authHeaders() {
  const token = session.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** JSON in, JSON out; a non-2xx answer throws ApiError with the server's stable code. */
export async function api(path, { method = 'GET', body, signal, anonymous = false } = {}) {
  const headers = anonymous ? {} : authHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(`api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', '无法连接服务器');
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401 && !anonymous) onUnauthorized();
    throw new ApiError(res.status, data?.code ?? `HTTP_${res.status}`, data?.message ?? res.statusText);
  }
  return data;
}

/** A route the server does not have (yet): Fastify's not-found answer, not a 404 for a missing object. */
export function isMissingRoute(err) {
  return err instanceof ApiError && err.status === 404 && /^no route /.test(err.message);
}
