// The design's fake notifier: records every delivery and can be told to fail, so workflow tests
// check the notification lifecycle without any chat platform.
import {
  NotifyError,
  type DeliveryReceipt,
  type NotificationMessage,
  type Notifier,
} from '../../activities/notify/notifier';
import { formatNotifyTarget, type NotifyTarget } from '../../src/contract/notify-target';

export interface RecordedDelivery {
  target: string;
  message: NotificationMessage;
  idempotencyKey: string;
  at: number;
}

type Failure = { retryable: boolean; message: string; retryAfterMs?: number };

export class FakeNotifier {
  readonly calls: RecordedDelivery[] = [];
  /** Deliveries that "reached the chat": one per idempotency key, as a de-duplicating channel would. */
  readonly delivered = new Map<string, RecordedDelivery>();
  private failures: Failure[] = [];
  private failAlways: Failure | null = null;

  /** The next `count` calls fail this way. */
  failNext(count: number, failure: Failure): this {
    for (let i = 0; i < count; i += 1) this.failures.push(failure);
    return this;
  }

  failForever(failure: Failure): this {
    this.failAlways = failure;
    return this;
  }

  readonly notifier: Notifier = async (
    target: NotifyTarget,
    message: NotificationMessage,
    idempotencyKey: string,
  ): Promise<DeliveryReceipt> => {
    const call = { target: formatNotifyTarget(target), message, idempotencyKey, at: Date.now() };
    this.calls.push(call);
    const failure = this.failures.shift() ?? this.failAlways;
    if (failure) throw new NotifyError(failure.message, failure.retryable, failure.retryAfterMs ?? null);
    const duplicate = this.delivered.has(idempotencyKey);
    if (!duplicate) this.delivered.set(idempotencyKey, call);
    return {
      channel: target.kind,
      deliveredAt: new Date().toISOString(),
      messageId: `m-${this.delivered.size}`,
      duplicate,
    };
  };

  completions(taskId?: string): RecordedDelivery[] {
    return [...this.delivered.values()].filter(
      (d) => d.message.kind === 'completion' && (!taskId || d.message.taskId === taskId),
    );
  }
}
