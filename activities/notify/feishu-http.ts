// The HTTP transport handed to the Lark SDK client. The SDK's default (a process-wide axios
// instance) has no timeout, so one Feishu call that never answers would hold an activity until its
// start-to-close timeout; and its errors carry axios internals. This transport is fetch with a hard
// timeout, and every failure is a FeishuHttpError that feishu-errors.ts can classify.
import type { HttpInstance } from '@larksuiteoapi/node-sdk';

export class FeishuHttpError extends Error {
  override readonly name = 'FeishuHttpError';
  constructor(
    message: string,
    readonly url: string,
    /** HTTP status, or null when no answer came (network error, timeout). */
    readonly status: number | null,
    /** The parsed JSON body ({code, msg, …}) when there was one. */
    readonly data: unknown,
    readonly headers: Headers | null,
    readonly timedOut: boolean = false,
  ) {
    super(message);
  }
}

interface RequestOptions {
  url?: string;
  method?: string;
  headers?: Record<string, unknown>;
  params?: Record<string, unknown>;
  data?: unknown;
  paramsSerializer?: unknown;
  timeout?: number;
  $return_headers?: boolean;
}

export function createFeishuHttp(opts: { timeoutMs: number }): HttpInstance {
  async function request(o: RequestOptions): Promise<unknown> {
    const method = (o.method ?? 'GET').toUpperCase();
    const url = withQuery(o.url ?? '', o.params, o.paramsSerializer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
    const hasBody = o.data !== undefined && method !== 'GET' && method !== 'HEAD';
    if (hasBody) headers['content-type'] ??= 'application/json; charset=utf-8';

    const timeoutMs = o.timeout ?? opts.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body: hasBody ? JSON.stringify(o.data) : undefined, signal });
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = signal.aborted
        ? `no answer within ${timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new FeishuHttpError(why, url, null, null, null, signal.aborted);
    }
    const data = parseJson(text);
    if (!res.ok) throw new FeishuHttpError(`HTTP ${res.status}`, url, res.status, data, res.headers);
    return o.$return_headers ? { data, headers: Object.fromEntries(res.headers) } : data;
  }

  const withMethod =
    (method: string) =>
    (url: string, opts2?: RequestOptions): Promise<unknown> =>
      request({ ...opts2, url, method });
  const withData =
    (method: string) =>
    (url: string, data?: unknown, opts2?: RequestOptions): Promise<unknown> =>
      request({ ...opts2, url, method, data });

  // The SDK's HttpInstance is generic in its answer type; this transport returns parsed JSON.
  return {
    request,
    get: withMethod('GET'),
    delete: withMethod('DELETE'),
    head: withMethod('HEAD'),
    options: withMethod('OPTIONS'),
    post: withData('POST'),
    put: withData('PUT'),
    patch: withData('PATCH'),
  } as unknown as HttpInstance;
}

function withQuery(url: string, params: Record<string, unknown> | undefined, serializer: unknown): string {
  if (!params || Object.keys(params).length === 0) return url;
  const query =
    typeof serializer === 'function'
      ? (serializer as (p: Record<string, unknown>) => string)(params)
      : new URLSearchParams(
          Object.entries(params)
            .filter(([, v]) => v !== undefined && v !== null)
            .map(([k, v]): [string, string] => [k, String(v)]),
        ).toString();
  if (!query) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text === '' ? null : text;
  }
}
