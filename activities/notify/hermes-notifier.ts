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
import type { NotifyTarget } from '../../src/contract/notify-target';
import { parseRetryAfter, postRaw, signTimestamped, TransportError } from './http-post';
import { renderPlainText } from './message';
import {
  NotifyError,
  type DeliveryOptions,
  type DeliveryReceipt,
  type NotificationMessage,
  type Notifier,
} from './notifier';
import { redactMessage } from './redact';

export interface HermesNotifierOptions {
  /** HERMES_WEBHOOK_URL: the route used for platforms without their own entry in `routes`. */
  url?: string;
  /** HERMES_WEBHOOK_ROUTES: platform → full route URL. */
  routes?: Record<string, string>;
  /** HERMES_WEBHOOK_SECRET: the route's HMAC secret. */
  secret?: string;
  /**
   * HERMES_WEBHOOK_TIMEOUT: how long one request waits for the gateway's answer (default 45 s).
   * It must exceed the gateway's own delivery bound — the gateway answers only after the platform
   * did (Hermes 0.19.0's Telegram adapter waits up to 20 s per send and retries network errors) —
   * so that a timeout means a broken gateway, not a slow platform.
   */
  timeoutMs?: number;
  /** HERMES_WEBHOOK_MAX_SENDS: request ids one message may use before it is reported failed (default 5). */
  maxSends?: number;
  now?: () => Date;
}

export const DEFAULT_HERMES_TIMEOUT_MS = 45_000;
export const DEFAULT_HERMES_MAX_SENDS = 5;

/** The gateway forgets request ids after an hour; remembering burned generations longer is pointless. */
const BURNED_TTL_MS = 60 * 60_000;
const BURNED_MAX_ENTRIES = 10_000;

/**
 * The X-Request-ID for one delivery generation.
 *
 * Why a generation: the gateway records a request id *before* delivering and delivers inline, so
 * a repeated id answers `duplicate` whatever became of the first delivery — delivered, still
 * running, or failed. `duplicate` therefore never proves delivery; only `delivered` does. An id
 * is burned (the next try uses `${key}:g${generation + 1}`) whenever its outcome is not known to
 * be "not delivered, not seen": after a 502 (the platform failed), after a timeout or a reset once
 * connected (the gateway may have seen it), and after `duplicate`. A request that never connected
 * keeps its id.
 *
 * The cost of this rule is a rare duplicate message: when the gateway did deliver but its answer
 * was lost, the next generation delivers again. Losing a message silently is the worse failure,
 * and a per-request timeout longer than the gateway's delivery bound makes the lost answer rare.
 *
 * Where the generation lives: the deliverNotification activity records it in its heartbeat
 * details, which Temporal hands to the next attempt on any worker; this notifier also remembers
 * it in memory, so a caller retrying in-process (the repair watcher, tests) gets it right too.
 */
export function hermesRequestId(idempotencyKey: string, generation: number): string {
  return `${idempotencyKey}:g${generation}`;
}

export function createHermesNotifier(opts: HermesNotifierOptions): Notifier {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HERMES_TIMEOUT_MS;
  const maxSends = opts.maxSends ?? DEFAULT_HERMES_MAX_SENDS;
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

  /** The failure for an id whose outcome is not "delivered": the next try moves to a new id, unless none is left. */
  function burnAndRetry(
    key: string,
    generation: number,
    why: string,
    target: HermesTarget,
    retryAfterMs: number | null = null,
  ): NotifyError {
    const next = generation + 1;
    burn(key, next);
    if (next >= maxSends) {
      return new NotifyError(
        `The Hermes gateway did not confirm delivery to ${target.platform} chat ${target.chatId} in ${maxSends} tries (last: ${why}): ` +
          'check the gateway log (is the platform connected, is the bot in the chat?).',
        false,
      );
    }
    return new NotifyError(`${why}; will retry with a new request id.`, true, retryAfterMs, next);
  }

  return async function notifyHermes(
    target: NotifyTarget,
    message: NotificationMessage,
    idempotencyKey: string,
    options: DeliveryOptions = {},
  ): Promise<DeliveryReceipt> {
    if (target.kind !== 'hermes')
      throw new NotifyError(`The Hermes notifier cannot deliver to a ${target.kind} target.`, false);
    const endpoint = opts.routes?.[target.platform] ?? opts.url;
    if (!endpoint) {
      throw new NotifyError(
        `No Hermes gateway route for platform ${target.platform}: set HERMES_WEBHOOK_URL or add "${target.platform}" to HERMES_WEBHOOK_ROUTES.`,
        false,
      );
    }
    if (!opts.secret)
      throw new NotifyError(
        'HERMES_WEBHOOK_SECRET is missing: set it to the secret of the Hermes webhook route.',
        false,
      );

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
      if (!(err instanceof TransportError)) throw err;
      if (!err.mayHaveArrived)
        throw new NotifyError(`The Hermes gateway could not be reached (${err.message}); will retry.`, true);
      throw burnAndRetry(
        idempotencyKey,
        generation,
        `The Hermes gateway gave no answer (${err.message}), so delivery is unknown`,
        target,
      );
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
      if (gatewayStatus === 'duplicate') {
        // Seen before, outcome unknown. Wait out the gateway's delivery bound so that whatever the
        // earlier request started has finished before a new id delivers again.
        throw burnAndRetry(
          idempotencyKey,
          generation,
          `The Hermes gateway had already seen request ${requestId} and cannot say whether it was delivered`,
          target,
          timeoutMs,
        );
      }
      // `delivered`, or `accepted` (a route without deliver_only: the agent now runs with the
      // message as its prompt; sending again would start a second run).
      return { channel: 'hermes', deliveredAt: now().toISOString(), messageId: requestId, duplicate: false };
    }
    if (status === 502) {
      throw burnAndRetry(
        idempotencyKey,
        generation,
        `The Hermes gateway could not deliver to ${target.platform} chat ${target.chatId} (HTTP 502)`,
        target,
      );
    }
    if (status === 429 || status >= 500) {
      // Answered before the id was recorded (rate limit, gateway error): the same id is still fresh.
      throw new NotifyError(
        `The Hermes gateway answered HTTP ${status}; will retry.`,
        true,
        parseRetryAfter(answer.headers.get('retry-after')),
      );
    }
    throw new NotifyError(rejectionAdvice(endpoint, status), false);
  };
}

type HermesTarget = Extract<NotifyTarget, { kind: 'hermes' }>;

export function hermesBody(target: HermesTarget, message: NotificationMessage, idempotencyKey: string) {
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
