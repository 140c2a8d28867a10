// A fake Hermes gateway webhook listener on 127.0.0.1, behaving like gateway/platforms/webhook.py
// for deliver-only routes, in the same order:
//   route lookup (404) → body cap (413) → HMAC V2 signature + timestamp ±300 s (401) → rate limit
//   (429) → JSON body (400) → events filter (200 ignored) → X-Request-ID seen within the hour?
//   (200 duplicate) → the id is RECORDED → delivery (200 delivered, or 502 when the platform fails).
// Because the id is recorded before delivery, a 502 burns it: the same id answers `duplicate`
// afterwards and delivers nothing. That is the behaviour codex-bridge's retry design must survive.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countBy, header, parseJson, readBody, stopServer, validTimestampedSignature } from './http-kit';

export interface FakeHermesRoute {
  /** Platform the route delivers to (the route's `deliver`); default: the body's `platform` field. */
  deliver?: string;
  /** The route's HMAC secret (default: the gateway's secret). */
  secret?: string;
  /** Allowed event types (the body's `event_type`); empty = all. */
  events?: string[];
  /** The route's `prompt` template (default "{message}"). */
  prompt?: string;
  enabled?: boolean;
}

export type HermesFault =
  /** Answer this status before the request id is recorded (401, 404, 413, 429, 500, 503…). */
  | { kind: 'status'; status: number }
  /** Record the id, then fail delivery with 502 (the platform refused). */
  | { kind: 'deliver_failed' }
  /** Deliver, then answer only after delayMs. */
  | { kind: 'slow'; delayMs: number }
  /** Deliver, then close the connection without an answer. */
  | { kind: 'drop' }
  /** Record the id, deliver nothing, and answer 502 only after delayMs: a platform slower than the client, then failing. */
  | { kind: 'hang_then_fail'; delayMs: number };

export interface HermesRecordedRequest {
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  route: string;
  requestId: string | null;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  signatureValid: boolean;
  /** null: connection dropped. */
  status: number | null;
  answer: unknown;
}

export interface HermesDelivered {
  requestId: string;
  route: string;
  platform: string;
  chatId: string;
  threadId: string;
  /** The route template rendered from the body: what the chat shows. */
  message: string;
  body: Record<string, unknown>;
  at: string;
}

export interface FakeHermesGateway {
  baseUrl: string;
  secret: string;
  /** Full URL of a route (HERMES_WEBHOOK_URL / a HERMES_WEBHOOK_ROUTES value). */
  routeUrl(route?: string): string;
  requests: HermesRecordedRequest[];
  deliveries: HermesDelivered[];
  /** Request ids recorded (the gateway's idempotency cache). */
  seenRequestIds: Set<string>;
  deliveredTo(platform: string, chatId: string, threadId?: string): HermesDelivered[];
  /** Deliveries per `platform:chat_id[:thread_id]`. */
  countByChat(): Record<string, number>;
  failNext(n: number, fault: HermesFault): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface FakeHermesOptions {
  secret?: string;
  /** Default: one route `codex` delivering to the body's platform. */
  routes?: Record<string, FakeHermesRoute>;
  maxBodyBytes?: number;
  /** Requests per route per minute (default: unlimited). */
  rateLimitPerMinute?: number;
}

const REPLAY_WINDOW_SECONDS = 300;
const IDEMPOTENCY_TTL_MS = 60 * 60_000;

export async function startFakeHermesGateway(options: FakeHermesOptions = {}): Promise<FakeHermesGateway> {
  const secret = options.secret ?? 'hermes-fake-secret';
  const routes = options.routes ?? { codex: {} };
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const requests: HermesRecordedRequest[] = [];
  const deliveries: HermesDelivered[] = [];
  const seen = new Map<string, number>();
  const hits = new Map<string, number[]>();
  const faults: HermesFault[] = [];

  const server = http.createServer((req, res) => {
    void readBody(req).then(async (rawBody) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const routeName = /^\/webhooks\/([^/]+)$/.exec(url.pathname)?.[1] ?? '';
      const requestId = header(req, 'x-request-id');
      const record: HermesRecordedRequest = {
        receivedAt: Date.now(),
        route: routeName,
        requestId,
        headers: req.headers,
        rawBody,
        body: parseJson(rawBody),
        signatureValid: false,
        status: null,
        answer: null,
      };
      requests.push(record);
      const answer = (status: number, body: unknown) => {
        record.status = status;
        record.answer = body;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };

      const route = routes[routeName];
      if (req.method !== 'POST' || !route) return answer(404, { error: `Unknown route: ${routeName}` });
      if (route.enabled === false) return answer(403, { error: `Route disabled: ${routeName}` });
      if (Buffer.byteLength(rawBody) > maxBodyBytes) return answer(413, { error: 'Payload too large' });
      record.signatureValid = validTimestampedSignature(
        req,
        rawBody,
        route.secret ?? secret,
        { signature: 'x-webhook-signature-v2', timestamp: 'x-webhook-timestamp' },
        REPLAY_WINDOW_SECONDS,
      );
      if (!record.signatureValid) return answer(401, { error: 'Invalid signature' });

      const fault = faults.shift();
      if (fault?.kind === 'status') return answer(fault.status, { error: `injected HTTP ${fault.status}` });
      if (options.rateLimitPerMinute !== undefined && !withinRate(hits, routeName, options.rateLimitPerMinute)) {
        return answer(429, { error: 'Rate limit exceeded' });
      }
      const body = record.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return answer(400, { error: 'Cannot parse body' });
      const payload = body as Record<string, unknown>;
      const eventType = String(payload.event_type ?? payload.type ?? 'unknown');
      if (route.events && route.events.length > 0 && !route.events.includes(eventType)) {
        return answer(200, { status: 'ignored', event: eventType });
      }

      const deliveryId = requestId ?? String(Date.now());
      const seenAt = seen.get(deliveryId);
      if (seenAt !== undefined && Date.now() - seenAt < IDEMPOTENCY_TTL_MS)
        return answer(200, { status: 'duplicate', delivery_id: deliveryId });
      seen.set(deliveryId, Date.now()); // recorded BEFORE delivery, as the real gateway does

      if (fault?.kind === 'deliver_failed')
        return answer(502, { status: 'error', error: 'Delivery failed', delivery_id: deliveryId });
      if (fault?.kind === 'hang_then_fail') {
        await new Promise((r) => setTimeout(r, fault.delayMs));
        if (!res.destroyed) answer(502, { status: 'error', error: 'Delivery failed', delivery_id: deliveryId });
        return;
      }
      const platform = route.deliver ?? String(payload.platform ?? '');
      deliveries.push({
        requestId: deliveryId,
        route: routeName,
        platform,
        chatId: String(payload.chat_id ?? ''),
        threadId: String(payload.thread_id ?? ''),
        message: render(route.prompt ?? '{message}', payload),
        body: payload,
        at: new Date().toISOString(),
      });
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
      if (!res.destroyed)
        answer(200, { status: 'delivered', route: routeName, target: platform, delivery_id: deliveryId });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    secret,
    routeUrl: (route = 'codex') => `${baseUrl}/webhooks/${route}`,
    requests,
    deliveries,
    get seenRequestIds() {
      return new Set(seen.keys());
    },
    deliveredTo: (platform, chatId, threadId) =>
      deliveries.filter(
        (d) => d.platform === platform && d.chatId === chatId && (threadId === undefined || d.threadId === threadId),
      ),
    countByChat: () => countBy(deliveries, (d) => `${d.platform}:${d.chatId}${d.threadId ? `:${d.threadId}` : ''}`),
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    reset() {
      requests.length = 0;
      deliveries.length = 0;
      seen.clear();
      hits.clear();
      faults.length = 0;
    },
    stop: () => stopServer(server),
  };
}

function withinRate(hits: Map<string, number[]>, route: string, perMinute: number): boolean {
  const now = Date.now();
  const window = (hits.get(route) ?? []).filter((t) => now - t < 60_000);
  if (window.length >= perMinute) {
    hits.set(route, window);
    return false;
  }
  window.push(now);
  hits.set(route, window);
  return true;
}

/** The gateway's template syntax: {field} and {a.b}; unknown keys stay as written. */
function render(template: string, payload: Record<string, unknown>): string {
  return template.replace(/\{([a-zA-Z0-9_.]+)\}/g, (whole, key: string) => {
    let value: unknown = payload;
    for (const part of key.split('.')) {
      if (!value || typeof value !== 'object') return whole;
      value = (value as Record<string, unknown>)[part];
      if (value === undefined) return whole;
    }
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  });
}
