// The bridge's own worker metrics: terminal tasks by status, deliveries by outcome and channel,
// and the completion → delivery latency, fed by activity hooks.
import type { DeliveryObserver } from '../activities';
import type { TaskDocument } from './contract/task';
import { isTerminalStatus } from './contract/task';
import type { BridgeMetrics } from './metrics';
import { NOTIFICATION_REJECTED } from './contract/failure-types';

export interface WorkerMetricsHooks {
  observer: DeliveryObserver;
  /** After each mirror write: counts a task once, when its final state is first stored. */
  onMirrored(doc: TaskDocument, outcome: 'applied' | 'stale'): void;
}

export function createWorkerMetricsHooks(metrics: BridgeMetrics): WorkerMetricsHooks {
  return {
    observer: {
      delivered(input, result) {
        metrics.notificationsTotal.inc({ outcome: result.duplicate ? 'duplicate' : 'sent', channel: result.channel });
        if (input.view.kind === 'completion' && input.view.finished_at) {
          const seconds = (Date.now() - Date.parse(input.view.finished_at)) / 1000;
          if (seconds >= 0) metrics.notificationLatencySeconds.observe({ channel: result.channel }, seconds);
        }
      },
      failed(input, error) {
        const type = (error as { type?: string }).type;
        metrics.notificationsTotal.inc({
          outcome: type === NOTIFICATION_REJECTED ? 'rejected' : 'deferred',
          channel: input.target.split(':', 1)[0]!,
        });
      },
    },
    onMirrored(doc, outcome) {
      // The last state of a turn: terminal and the notification settled (sent, failed, no_target).
      if (
        outcome === 'applied' &&
        isTerminalStatus(doc.status) &&
        doc.notification_status !== null &&
        doc.notification_status !== 'pending'
      ) {
        metrics.tasksTotal.inc({ status: doc.status });
      }
    },
  };
}
