// A fake receiver for `webhook:<url>` targets on 127.0.0.1: records every POST, checks the
// codex-bridge signature (X-Codex-Bridge-Timestamp / X-Codex-Bridge-Signature) when it has a
// secret, de-duplicates by Idempotency-Key the way a careful receiver would (answering
// `Idempotent-Replayed: true`), and fails on demand.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type WebhookFault =
  /** Answer this status without accepting (e.g. 500, 429 with retryAfter "3", 404). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Accept, then answer only after delayMs. */
  | { kind: 'slow'; delayMs: number }
  /** Accept, then close the connection without an answer. */
  | { kind: 'drop' };

export interface WebhookRecordedRequest {
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  idempotencyKey: string | null;
  /** null when the fake has no secret. */
  signatureValid: boolean | null;
  /** null: connection dropped. */
  status: number | null;
}

export interface WebhookDelivered {
  path: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
  at: string;
}

export interface FakeWebhook {
  baseUrl: string;
  /** A URL on this receiver, for a `webhook:<url>` target. */
  url(path?: string): string;
  requests: WebhookRecordedRequest[];
  /** Accepted messages, one per Idempotency-Key. */
  deliveries: WebhookDelivered[];
  deliveredTo(path: string): WebhookDelivered[];
  /** Deliveries per URL path (a path stands for a chat). */
  countByPath(): Record<string, number>;
  failNext(n: number, fault: WebhookFault): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface FakeWebhookOptions {
  /** When set, unsigned or wrongly signed requests are answered 401. */
  secret?: string;
}

export async function startFakeWebhook(options: FakeWebhookOptions = {}): Promise<FakeWebhook> {
  const requests: WebhookRecordedRequest[] = [];
  const deliveries: WebhookDelivered[] = [];
  const byKey = new Map<string, WebhookDelivered>();
  const faults: WebhookFault[] = [];

  const server = http.createServer((req, res) => {
    void readBody(req).then(async (rawBody) => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const idempotencyKey = header(req, 'idempotency-key');
      const record: WebhookRecordedRequest = {
        receivedAt: Date.now(),
        path,
        headers: req.headers,
        rawBody,
        body: parseJson(rawBody),
        idempotencyKey,
        signatureValid: options.secret ? validSignature(req, rawBody, options.secret) : null,
        status: null,
      };
      requests.push(record);
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };

      if (req.method !== 'POST') return answer(405, { error: 'POST only' });
      if (record.signatureValid === false) return answer(401, { error: 'bad signature' });
      const fault = faults.shift();
      if (fault?.kind === 'status') return answer(fault.status, { error: `injected HTTP ${fault.status}` }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      if (!idempotencyKey) return answer(400, { error: 'Idempotency-Key header required' });
      if (!record.body || typeof record.body !== 'object') return answer(400, { error: 'JSON object body required' });

      if (byKey.has(idempotencyKey)) return answer(200, { ok: true }, { 'idempotent-replayed': 'true' });
      const delivered: WebhookDelivered = { path, idempotencyKey, body: record.body as Record<string, unknown>, at: new Date().toISOString() };
      byKey.set(idempotencyKey, delivered);
      deliveries.push(delivered);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
      if (!res.destroyed) answer(200, { ok: true });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    url: (path = '/hook') => `${baseUrl}${path.startsWith('/') ? path : `/${path}`}`,
    requests,
    deliveries,
    deliveredTo: (path) => deliveries.filter((d) => d.path === path),
    countByPath() {
      const counts: Record<string, number> = {};
      for (const d of deliveries) counts[d.path] = (counts[d.path] ?? 0) + 1;
      return counts;
    },
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    reset() {
      requests.length = 0;
      deliveries.length = 0;
      byKey.clear();
      faults.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** hex HMAC-SHA256(secret, "<timestamp>.<body>") with the timestamp within ±300 s. */
function validSignature(req: http.IncomingMessage, rawBody: string, secret: string): boolean {
  const signature = header(req, 'x-codex-bridge-signature');
  const timestamp = header(req, 'x-codex-bridge-timestamp');
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
