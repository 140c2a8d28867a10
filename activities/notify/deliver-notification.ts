// The delivery activity: target string + task snapshot in, one delivered message out. Temporal
// retries it (same idempotency key every attempt); NotifyErrors become typed failures so the retry
// policy can stop on the permanent ones.
import { Context } from '@temporalio/activity';
import { parseNotifyTarget, type NotifyTarget } from '../../src/contract/notify-target';
import { toDeliveryFailure } from './delivery-errors';
import type { TaskNotificationView } from '../../src/contract/notification';
import type { TaskDocument } from '../../src/contract/task';
import { buildNotificationMessage, renderPlainText } from './message';
import { NotifyError, type DeliveryReceipt, type Notifier } from './notifier';

export interface DeliverNotificationDeps {
  notifier: Notifier;
  /** CODEX_BRIDGE_UI_URL, for the Web UI link in the message. */
  uiUrl?: string;
  /** TEMPORAL_NAMESPACE, for the Web UI link. */
  namespace?: string;
  /** Told about each outcome (metrics); `final` is true for a non-retryable failure (running out of attempts is not visible here). */
  observer?: {
    delivered?(input: DeliverNotificationInput, receipt: DeliveryReceipt): void;
    failed?(input: DeliverNotificationInput, error: Error, final: boolean): void;
  };
}

export interface DeliverNotificationInput {
  /** The task's notify_target string (parsed here: the activity trusts nothing it is given). */
  target: string;
  idempotencyKey: string;
  view: TaskNotificationView;
  /**
   * The task while its completion message is pending. The activity mirrors it, and once the
   * channel confirmed, mirrors the task as sent (withNotificationSent): the workflow then needs no
   * mirror activity of its own for either step.
   */
  mirror?: TaskDocument;
  /** Signal the workflow (notificationPending) when the delivery turns out slow. */
  signalPending?: boolean;
}

export interface DeliverNotificationResult extends DeliveryReceipt {
  /** What was sent, as plain text (title, body, link): for the task's record and previews. */
  text: string;
  /** The activity attempt that delivered (1 = first try). */
  attempt: number;

  /** The version of the sent task the activity mirrored, or null when it did not (the workflow then does). */
  mirroredVersion?: number | null;
}

/** What this activity keeps in its heartbeat details between attempts. */
export interface DeliveryHeartbeat {
  deliveryGeneration: number;
}

export function createDeliverNotificationActivity(deps: DeliverNotificationDeps) {
  return async function deliverNotification(input: DeliverNotificationInput): Promise<DeliverNotificationResult> {
    const activity = currentActivity();
    const attempt = activity?.info.attempt ?? 1;
    // Heartbeat details survive retries on any worker: the one durable place for the generation
    // a channel asked us to move to (the Hermes 502 rule, see hermes-notifier.ts).
    const generation = readGeneration(activity?.info.heartbeatDetails);
    try {
      const target = parseTarget(input.target);
      // Already redacted by the builder, and again by each channel before it sends.
      const message = buildNotificationMessage(input.view, { uiUrl: deps.uiUrl, namespace: deps.namespace });
      const receipt = await deps.notifier(target, message, input.idempotencyKey, { generation });
      deps.observer?.delivered?.(input, receipt);
      return { ...receipt, text: renderPlainText(message), attempt };
    } catch (err) {
      if (err instanceof NotifyError && err.nextGeneration !== null && activity) {
        // The TS worker flushes this heartbeat before it reports the failure, so the next attempt sees it.
        activity.heartbeat({ deliveryGeneration: err.nextGeneration } satisfies DeliveryHeartbeat);
      }
      const failure = toDeliveryFailure(err, { attempt });
      deps.observer?.failed?.(input, err instanceof Error ? err : failure, failure.nonRetryable === true);
      throw failure;
    }
  };
}

function parseTarget(raw: string): NotifyTarget {
  try {
    return parseNotifyTarget(raw);
  } catch (err) {
    // Validated at start, so only a hand-started workflow gets here; retrying cannot fix it.
    throw new NotifyError((err as Error).message, false);
  }
}

function readGeneration(details: unknown): number {
  const g = (details as Partial<DeliveryHeartbeat> | null | undefined)?.deliveryGeneration;
  return typeof g === 'number' && Number.isInteger(g) && g >= 0 ? g : 0;
}

/** The activity context, or null when called as a plain function (the repair watcher, tests). */
function currentActivity(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}
