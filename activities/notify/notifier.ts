// One notifier interface for every channel. A notifier delivers one message to one parsed target
// and must use the idempotency key so that a retried activity never posts twice.
import type { NotifyTarget, NotifyTargetKind } from '../../src/contract/notify-target';
import type { NotificationKind } from '../../src/contract/notification';
import type { TaskStatus } from '../../src/contract/task';

/** The same concise summary goes to every channel; channels only change its presentation. */
export interface NotificationMessage {
  /** `milestone`: a progress message sent while a turn runs (never through the workflow). */
  kind: NotificationKind | 'milestone';
  taskId: string;
  turn: number;
  /** One line: outcome and task, e.g. "✅ Codex task fix-tests completed". */
  title: string;
  /** Plain text body (already truncated and redacted). */
  text: string;
  /** Labelled facts for channels that render fields (outcome, duration, cwd…). */
  fields: { label: string; value: string }[];
  /** Link to the task in the Temporal Web UI, when CODEX_BRIDGE_UI_URL is set. */
  url: string | null;
  /** The task status the message reports; channels that colour by outcome use it. */
  status?: TaskStatus;
  /**
   * The main content without the facts already in `fields` (final message excerpt, or what a
   * request asks and how to answer), for channels that render fields separately (Feishu card).
   */
  excerpt?: string;
  /** For an approval request: the request to answer, so that channels with buttons can offer them. */
  approval?: { requestId: string };
  /** For a question with choices: the request and its options, for channels with buttons. */
  question?: { requestId: string; options: { questionId: string; label: string }[] };
}

export interface DeliveryReceipt {
  channel: NotifyTargetKind;
  deliveredAt: string;
  /** The channel's id for the message, when it gives one. */
  messageId: string | null;
  /** True when the channel said it had already seen this idempotency key. */
  duplicate: boolean;
}

/**
 * State of one delivery that must survive activity retries. Only the Hermes gateway needs it
 * today: it burns a request id when delivery fails with 502, so the next try needs a new id, and
 * the deliverNotification activity keeps the generation in its heartbeat details.
 */
export interface DeliveryOptions {
  /** 0 on the first try; advanced each time the channel burned a request id (NotifyError.nextGeneration). */
  generation?: number;
}

export type Notifier = (
  target: NotifyTarget,
  message: NotificationMessage,
  idempotencyKey: string,
  options?: DeliveryOptions,
) => Promise<DeliveryReceipt>;

/**
 * A delivery that did not happen. `retryable: false` means retrying cannot help (bad chat id, bot
 * not in chat, permission): the workflow's retry policy stops and `message` says what to fix.
 * `retryAfterMs` honours a rate-limit reset the channel announced. `nextGeneration`, when set,
 * is the DeliveryOptions.generation the next try must use (the channel burned the current one).
 */
export class NotifyError extends Error {
  override readonly name = 'NotifyError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    readonly nextGeneration: number | null = null,
  ) {
    super(message);
  }
}
