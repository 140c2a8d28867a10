// Generic signed JSON POST (`webhook:<url>`). The receiver de-duplicates with the Idempotency-Key
// header (the same key on every retry) and checks the signature to know the POST came from us.
// A 2xx is the receiver's word that it has the message: answer it only once the message is kept
// (a replay of a kept key: 2xx with `Idempotent-Replayed: true`; a key still being processed: 409).
// Anything else — a timeout, a reset — is retried under the same key, never taken as delivered.
//
// Body (deterministic for a key, so a receiver that compares payloads per key sees no change):
//   { event: "codex_bridge.notification", idempotency_key, kind, task_id, turn, status,
//     title, text, fields: [{label, value}], url, message_key }
// A completion's message_key is the key of the turn's `codex_bridge.progress` events (see
// progress-messages.ts): a receiver that upserts by it shows one message per turn.
// Headers:
//   Idempotency-Key: <key>
//   X-Codex-Bridge-Timestamp: <unix seconds>
//   X-Codex-Bridge-Signature: hex HMAC-SHA256(CODEX_BRIDGE_WEBHOOK_SECRET, `${timestamp}.${body}`)
//     (omitted when no secret is configured)
import type { NotifyTarget } from '../../src/contract/notify-target';
import { progressKey } from '../../src/contract/idempotency';
import { parseRetryAfter, postRaw, signTimestamped, TransportError } from './http-post';
import { NotifyError, type DeliveryReceipt, type NotificationMessage, type Notifier } from './notifier';
import { redactMessage } from './redact';

export interface WebhookNotifierOptions {
  /** CODEX_BRIDGE_WEBHOOK_SECRET; without it requests are sent unsigned. */
  secret?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
}

export const WEBHOOK_EVENT = 'codex_bridge.notification';

export function createWebhookNotifier(opts: WebhookNotifierOptions = {}): Notifier {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const now = opts.now ?? (() => new Date());

  return async function notifyWebhook(
    target: NotifyTarget,
    message: NotificationMessage,
    idempotencyKey: string,
  ): Promise<DeliveryReceipt> {
    if (target.kind !== 'webhook')
      throw new NotifyError(`The webhook notifier cannot deliver to a ${target.kind} target.`, false);
    const body = JSON.stringify(webhookBody(redactMessage(message), idempotencyKey));
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const headers: Record<string, string> = {
      'idempotency-key': idempotencyKey,
      'x-codex-bridge-timestamp': timestamp,
    };
    if (opts.secret) headers['x-codex-bridge-signature'] = signTimestamped(opts.secret, timestamp, body);
    const where = describeUrl(target.url);

    let answer;
    try {
      answer = await postRaw(target.url, body, headers, timeoutMs);
    } catch (err) {
      if (err instanceof TransportError)
        throw new NotifyError(`The request to the webhook at ${where} failed (${err.message}); will retry.`, true);
      throw err;
    }
    const { status } = answer;
    if (status >= 200 && status < 300) {
      return {
        channel: 'webhook',
        deliveredAt: now().toISOString(),
        messageId: null,
        // The convention of Stripe-style receivers: a replayed answer for a key already processed.
        duplicate: answer.headers.get('idempotent-replayed') === 'true',
      };
    }
    // 409: the receiver is still processing this key (an earlier try whose answer we lost): ask again later.
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      throw new NotifyError(
        `The webhook at ${where} answered HTTP ${status}; will retry.`,
        true,
        parseRetryAfter(answer.headers.get('retry-after')),
      );
    }
    throw new NotifyError(rejectionAdvice(where, status), false);
  };
}

export function webhookBody(message: NotificationMessage, idempotencyKey: string) {
  return {
    event: WEBHOOK_EVENT,
    idempotency_key: idempotencyKey,
    kind: message.kind,
    task_id: message.taskId,
    turn: message.turn,
    status: message.status ?? null,
    title: message.title,
    text: message.text,
    fields: message.fields,
    url: message.url,
    ...(message.kind === 'completion' ? { message_key: progressKey(message.taskId, message.turn) } : {}),
  };
}

function rejectionAdvice(where: string, status: number): string {
  if (status >= 300 && status < 400)
    return `The webhook at ${where} redirected (HTTP ${status}): set the notify target to the final URL.`;
  if (status === 401 || status === 403) {
    return `The webhook at ${where} refused the request (HTTP ${status}): make its secret match CODEX_BRIDGE_WEBHOOK_SECRET.`;
  }
  if (status === 404 || status === 410)
    return `The webhook at ${where} does not exist (HTTP ${status}): check the URL in the notify target.`;
  if (status === 413)
    return `The webhook at ${where} refused the message as too large (HTTP 413): raise the receiver's body limit.`;
  return `The webhook at ${where} rejected the notification (HTTP ${status}): check the receiver's logs; retrying will not help.`;
}

/** Scheme, host and path only: a webhook URL's query often carries a token. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}
