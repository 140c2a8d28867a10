// The one HTTP client the webhook-style channels (Hermes gateway, generic webhook) share: a JSON
// POST with a hard timeout, HMAC signing, and Retry-After parsing. Failures to get any answer are
// a TransportError. Each channel decides what one means for delivery: it says whether the request
// may have reached the receiver (a timeout or a reset after connecting) or certainly did not (no
// connection was made), and only the receiver's answer ever counts as delivered.
import { createHmac } from 'node:crypto';

export interface PostAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly timedOut: boolean,
    /** False only when no connection was made, so the receiver cannot have seen the request. */
    readonly mayHaveArrived: boolean,
  ) {
    super(message);
  }
}

/** Errors that happen before a connection exists: the request was certainly not sent. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** POSTs `body` as is (the signature covers these exact bytes). Redirects are not followed: a POST must not turn into a GET. */
export async function postRaw(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'codex-bridge', ...headers },
      redirect: 'manual',
      signal,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: parseJson(text) };
  } catch (err) {
    const timedOut = signal.aborted;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = timedOut
      ? `no answer within ${timeoutMs} ms`
      : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new TransportError(why, timedOut, timedOut || !NOT_CONNECTED.has(cause?.code ?? ''));
  }
}

/** Hex HMAC-SHA256 of `${timestamp}.${body}`: the scheme both the Hermes gateway (V2) and our webhook use. */
export function signTimestamped(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unparsable. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
