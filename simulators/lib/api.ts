// A small client for shaobing's HTTP API (CONTRACT.md "HTTP API"): bearer token, JSON in and out, and the
// service's coded errors surfaced as `ApiError` with its `code` (never compared as message strings).

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Alert {
  id: number;
  kind: string;
  severity: string;
  status: string;
  communityId: string;
  gridId: string;
  deviceId?: string;
  householdId?: string;
  spaceId?: string;
  plate?: string;
  title: string;
  details: Record<string, unknown>;
  count: number;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  resolution?: string;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { code?: string; message?: string };
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, `${method} ${path}: ${res.status} ${e.code ?? ''} ${e.message ?? text}`.trim());
    }
    return json as T;
  }

  /** Every alert the token can see, newest first (GET /api/alerts). */
  async alerts(query: Record<string, string> = {}): Promise<Alert[]> {
    const qs = new URLSearchParams({ limit: '1000', ...query }).toString();
    try {
      return (await this.request<{ items: Alert[] }>('GET', `/api/alerts?${qs}`)).items;
    } catch (err) {
      // A service whose alerts route takes no `limit` still answers without it.
      if (err instanceof ApiError && err.statusCode === 400 && !('limit' in query))
        return (await this.request<{ items: Alert[] }>('GET', `/api/alerts?${new URLSearchParams(query).toString()}`)).items;
      throw err;
    }
  }

  /** Move the event clock (POST /api/replay/clock); returns the service's new time and the deadlines fired. */
  advanceClock(now: number): Promise<{ now: string; fired: number }> {
    return this.request('POST', '/api/replay/clock', { now });
  }
}
