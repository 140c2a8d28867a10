// A fake receiver for `webhook:<url>` targets on 127.0.0.1: records every POST, checks the
// codex-bridge signature (X-Codex-Bridge-Timestamp / X-Codex-Bridge-Signature) when it has a
// secret, de-duplicates by Idempotency-Key the way a careful receiver would (a kept key answers
// `Idempotent-Replayed: true`, a key still being processed answers 409), and fails on demand.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countBy, header, parseJson, readBody, stopServer, validTimestampedSignature } from './http-kit';

export type WebhookFault =
  /** Answer this status without accepting (e.g. 500, 429 with retryAfter "3", 404). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Accept, then answer only after delayMs. */
  | { kind: 'slow'; delayMs: number }
  /** Accept, then close the connection without an answer. */
  | { kind: 'drop' }
  /** Start processing the key, keep nothing, and answer HTTP 500 only after delayMs (past a client's timeout). */
  | { kind: 'hang_then_fail'; delayMs: number };

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
  const inFlight = new Set<string>();

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
        signatureValid: options.secret
          ? validTimestampedSignature(req, rawBody, options.secret, {
              signature: 'x-codex-bridge-signature',
              timestamp: 'x-codex-bridge-timestamp',
            })
          : null,
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
      if (fault?.kind === 'status')
        return answer(
          fault.status,
          { error: `injected HTTP ${fault.status}` },
          fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
        );
      if (!idempotencyKey) return answer(400, { error: 'Idempotency-Key header required' });
      if (!record.body || typeof record.body !== 'object') return answer(400, { error: 'JSON object body required' });

      if (byKey.has(idempotencyKey)) return answer(200, { ok: true }, { 'idempotent-replayed': 'true' });
      if (inFlight.has(idempotencyKey)) return answer(409, { error: 'this key is still being processed' });
      if (fault?.kind === 'hang_then_fail') {
        inFlight.add(idempotencyKey);
        await new Promise((r) => setTimeout(r, fault.delayMs));
        inFlight.delete(idempotencyKey);
        if (!res.destroyed) answer(500, { error: 'injected failure after a hang' });
        return;
      }
      const delivered: WebhookDelivered = {
        path,
        idempotencyKey,
        body: record.body as Record<string, unknown>,
        at: new Date().toISOString(),
      };
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
    countByPath: () => countBy(deliveries, (d) => d.path),
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    reset() {
      requests.length = 0;
      deliveries.length = 0;
      byKey.clear();
      inFlight.clear();
      faults.length = 0;
    },
    stop: () => stopServer(server),
  };
}
