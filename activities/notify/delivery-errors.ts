// NotifyError → Temporal failure. The workflow's retry policy branches on the failure type, never
// on message text: NotificationRejected stops retrying (a person must fix something, and the
// message says what), NotificationDeferred is retried with backoff, or after exactly the delay the
// channel announced (rate-limit reset) via nextRetryDelay.
import { ApplicationFailure } from '@temporalio/common';
import { NOTIFICATION_DEFERRED, NOTIFICATION_REJECTED } from '../../src/contract/failure-types';
import { NotifyError } from './notifier';

export { NOTIFICATION_DEFERRED, NOTIFICATION_REJECTED };

/** Details attached to every delivery failure (the workflow may read them). */
export interface DeliveryFailureDetails {
  /** The activity attempt that failed (1 = first try), when known. */
  attempt?: number;
  retryAfterMs: number | null;
  /** The delivery generation the next attempt must use (see hermes-notifier.ts). */
  nextGeneration: number | null;
}

/**
 * Converts a NotifyError into an ApplicationFailure. An ApplicationFailure passes through
 * unchanged; anything else (a bug, an unexpected library error) becomes a retryable
 * NotificationDeferred so a transient surprise does not lose the notification.
 */
export function toDeliveryFailure(err: unknown, context: { attempt?: number } = {}): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof NotifyError) {
    const details: DeliveryFailureDetails = {
      ...context,
      retryAfterMs: err.retryAfterMs,
      nextGeneration: err.nextGeneration,
    };
    return ApplicationFailure.create({
      message: err.message,
      type: err.retryable ? NOTIFICATION_DEFERRED : NOTIFICATION_REJECTED,
      nonRetryable: !err.retryable,
      details: [details],
      ...(err.retryable && err.retryAfterMs !== null ? { nextRetryDelay: err.retryAfterMs } : {}),
    });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({
    message: `Delivery failed unexpectedly: ${error.message}`,
    type: NOTIFICATION_DEFERRED,
    nonRetryable: false,
    cause: error,
    details: [{ ...context, retryAfterMs: null, nextGeneration: null } satisfies DeliveryFailureDetails],
  });
}
