// `hermes:<platform>:<chat_id>[:<thread_id>]`: posted through a Hermes gateway webhook route in
// deliver-only mode, which renders its `prompt` template from our JSON body and sends the result
// to the route's `deliver` platform without running the agent. One route serves one platform
// (`deliver` is fixed per route), hence HERMES_WEBHOOK_ROUTES {platform: route URL}, with
// HERMES_WEBHOOK_URL as the route for platforms not listed.
//
// Body (JSON; every field is a string or number so a route template can use it as `{field}`):
//   event_type       "codex_bridge.completion" | "codex_bridge.request" | "codex_bridge.request_expired"
//                    (the gateway reads it for the route's `events` filter)
//   platform         e.g. "telegram" (informational: the route's `deliver` decides)
//   chat_id          for `deliver_extra: {chat_id: "{chat_id}"}`
//   thread_id        for `deliver_extra: {thread_id: "{thread_id}"}`; "" when none (an empty value
//                    means "no thread" to the gateway, while null would render as "None")
//   message          title, text and Web UI link as one plain text: the route's `prompt: "{message}"`
//   title, text, url ("" when none), kind, status, task_id, turn, idempotency_key
//
// Headers: X-Request-ID (see hermesRequestId), X-Webhook-Timestamp (unix seconds, the gateway
// allows ±300 s), X-Webhook-Signature-V2 = hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`).
import type { NotifyTarget } from '../../src/domain/notify-target';
import { parseRetryAfter, postRaw, signTimestamped, TransportError } from './http-post';
import { renderPlainText } from './message';
import { NotifyError, type DeliveryOptions, type DeliveryReceipt, type NotificationMessage, type Notifier } from './notifier';
import { redactMessage } from './redact';

export interface HermesNotifierOptions {
  /** HERMES_WEBHOOK_URL: the route used for platforms without their own entry in `routes`. */
  url?: string;
  /** HERMES_WEBHOOK_ROUTES: platform → full route URL. */
  routes?: Record<string, string>;
  /** HERMES_WEBHOOK_SECRET: the route's HMAC secret. */
  secret?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
}

/** The gateway forgets request ids after an hour; remembering burned generations longer is pointless. */
const BURNED_TTL_MS = 60 * 60_000;
const BURNED_MAX_ENTRIES = 10_000;

/**
 * The X-Request-ID for one delivery generation.
 *
 * Why a generation: the gateway records a request id *before* delivering, and after a 502 (the
 * platform refused or failed) the same id only ever answers `duplicate` and delivers nothing. So
 * a retry after a 502 needs a new id, while a retry after anything else (timeout, dropped
 * connection, 429, 5xx) must reuse the old id: the gateway may already have delivered, and only
 * the unchanged id lets it drop the repeat. The id is therefore `${key}:g${generation}`, where the
 * generation starts at 0 and advances only after a 502.
 *
 * Where the generation lives: the deliverNotification activity records it in its heartbeat
 * details, which Temporal hands to the next attempt on any worker; this notifier also remembers
 * it in memory, so a caller retrying in-process (the repair watcher, tests) gets it right too.
 */
export function hermesRequestId(idempotencyKey: string, generation: number): string {
  return `${idempotencyKey}:g${generation}`;
}

export function createHermesNotifier(opts: HermesNotifierOptions): Notifier {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const now = opts.now ?? (() => new Date());
  const burned = new Map<string, { generation: number; at: number }>();

  function rememberedGeneration(key: string): number {
    const entry = burned.get(key);
    if (!entry) return 0;
    if (now().getTime() - entry.at > BURNED_TTL_MS) {
      burned.delete(key);
      return 0;
    }
    return entry.generation;
  }

  function burn(key: string, nextGeneration: number): void {
    burned.delete(key); // re-insert so Map order stays oldest-first for the size cap
    burned.set(key, { generation: nextGeneration, at: now().getTime() });
    if (burned.size > BURNED_MAX_ENTRIES) burned.delete(burned.keys().next().value!);
  }

  return async function notifyHermes(
    target: NotifyTarget,
    message: NotificationMessage,
    idempotencyKey: string,
    options: DeliveryOptions = {},
  ): Promise<DeliveryReceipt> {
    if (target.kind !== 'hermes') throw new NotifyError(`The Hermes notifier cannot deliver to a ${target.kind} target.`, false);
    const endpoint = opts.routes?.[target.platform] ?? opts.url;
    if (!endpoint) {
      throw new NotifyError(
        `No Hermes gateway route for platform ${target.platform}: set HERMES_WEBHOOK_URL or add "${target.platform}" to HERMES_WEBHOOK_ROUTES.`,
        false,
      );
    }
    if (!opts.secret) throw new NotifyError('HERMES_WEBHOOK_SECRET is missing: set it to the secret of the Hermes webhook route.', false);

    const generation = Math.max(options.generation ?? 0, rememberedGeneration(idempotencyKey));
    const requestId = hermesRequestId(idempotencyKey, generation);
    const body = JSON.stringify(hermesBody(target, redactMessage(message), idempotencyKey));
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const headers = {
      'x-request-id': requestId,
      'x-webhook-timestamp': timestamp,
      'x-webhook-signature-v2': signTimestamped(opts.secret, timestamp, body),
    };

    let answer;
    try {
      answer = await postRaw(endpoint, body, headers, timeoutMs);
    } catch (err) {
      // Same id next time: if this request did arrive, the gateway answers `duplicate`.
      if (err instanceof TransportError) throw new NotifyError(`The request to the Hermes gateway failed (${err.message}); will retry.`, true);
      throw err;
    }

    const { status } = answer;
    const gatewayStatus = (answer.json as { status?: unknown } | null)?.status;
    if (status >= 200 && status < 300) {
      if (gatewayStatus === 'ignored') {
        throw new NotifyError(
          `The Hermes route ${routeName(endpoint)} ignored the message: allow event type codex_bridge.${message.kind} in the route's events filter.`,
          false,
        );
      }
      // `delivered`, `duplicate`, or `accepted` (a route without deliver_only: the agent now runs
      // with the message as its prompt; sending again would start a second run).
      return { channel: 'hermes', deliveredAt: now().toISOString(), messageId: requestId, duplicate: gatewayStatus === 'duplicate' };
    }
    if (status === 502) {
      burn(idempotencyKey, generation + 1);
      throw new NotifyError(
        `The Hermes gateway could not deliver to ${target.platform} chat ${target.chatId} (HTTP 502); will retry with a new request id.`,
        true,
        null,
        generation + 1,
      );
    }
    if (status === 429 || status >= 500) {
      throw new NotifyError(`The Hermes gateway answered HTTP ${status}; will retry.`, true, parseRetryAfter(answer.headers.get('retry-after')));
    }
    throw new NotifyError(rejectionAdvice(endpoint, status), false);
  };
}

export function hermesBody(target: Extract<NotifyTarget, { kind: 'hermes' }>, message: NotificationMessage, idempotencyKey: string) {
  return {
    event_type: `codex_bridge.${message.kind}`,
    platform: target.platform,
    chat_id: target.chatId,
    thread_id: target.threadId ?? '',
    message: renderPlainText(message),
    title: message.title,
    text: message.text,
    url: message.url ?? '',
    kind: message.kind,
    status: message.status ?? '',
    task_id: message.taskId,
    turn: message.turn,
    idempotency_key: idempotencyKey,
  };
}

function rejectionAdvice(endpoint: string, status: number): string {
  const route = routeName(endpoint);
  switch (status) {
    case 401:
      return `The Hermes gateway refused the signature for route ${route} (HTTP 401): set HERMES_WEBHOOK_SECRET to the route's secret and keep both clocks within 300 s.`;
    case 403:
      return `The Hermes route ${route} is disabled or has no secret (HTTP 403): enable it and give it a secret in the gateway config.`;
    case 404:
      return `The Hermes gateway has no route ${route} (HTTP 404): add it to the gateway's webhook routes or fix HERMES_WEBHOOK_URL / HERMES_WEBHOOK_ROUTES.`;
    case 413:
      return `The Hermes gateway refused the message as too large for route ${route} (HTTP 413): raise the webhook max_body_bytes.`;
    default:
      return `The Hermes gateway rejected the message for route ${route} (HTTP ${status}): check the gateway log; retrying will not help.`;
  }
}

function routeName(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.host}${u.pathname}`;
  } catch {
    return endpoint;
  }
}
