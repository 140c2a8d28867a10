// The one-shot watcher, kept as the repair tool. Normal delivery does not depend on it: the
// workflow delivers. It scans terminal tasks whose notification is still `pending` (and `failed`
// with retryFailed), delivers with the same message and idempotency key the workflow uses, and
// records the outcome. Idempotent: a second run finds nothing left to do.
import type { TaskNotificationView } from '../contract/notification';
import { buildNotificationMessage } from '../../activities/notify/message';
import type { NotificationMessage } from '../../activities/notify/notifier';
import { completionKey } from '../contract/idempotency';
import { parseNotifyTarget, type NotifyTarget } from '../contract/notify-target';
import type { TaskDocument } from '../contract/task';
import type { WatcherReport, WatcherReportItem } from '../client/task-service-types';
import type { TaskStore } from '../store/task-store';

/** The watcher's injectable notifier: `async (target, message) => …`; it also gets the idempotency key. */
export type WatcherNotifier = (
  target: NotifyTarget,
  message: NotificationMessage,
  idempotencyKey: string,
) => Promise<unknown>;

export interface NotifyCompletedOptions {
  store: Pick<TaskStore, 'findUndelivered' | 'updateIfVersion'>;
  notifier: WatcherNotifier;
  dryRun?: boolean;
  retryFailed?: boolean;
  /**
   * A task whose workflow still runs is the workflow's to deliver: the watcher skips it so the two
   * never race. Without this check every scanned task is treated as abandoned.
   */
  isWorkflowRunning?: (taskId: string) => Promise<boolean>;
  uiUrl?: string;
  namespace?: string;
  now?: () => Date;
}

export async function notifyCompleted(options: NotifyCompletedOptions): Promise<WatcherReport> {
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  const report: WatcherReport = {
    dry_run: dryRun,
    scanned: 0,
    sent: 0,
    failed: 0,
    no_target: 0,
    skipped: 0,
    items: [],
  };
  const tasks = await options.store.findUndelivered({ retryFailed: options.retryFailed ?? false });
  for (const task of tasks) {
    report.scanned += 1;
    const item: WatcherReportItem = {
      task_id: task.task_id,
      status: task.status,
      notify_target: task.notify_target,
      action: 'send',
    };
    report.items.push(item);

    if (options.isWorkflowRunning && (await options.isWorkflowRunning(task.task_id))) {
      item.action = 'skipped_workflow_running';
      report.skipped += 1;
      continue;
    }

    if (!task.notify_target) {
      item.action = dryRun ? 'mark_no_target' : 'marked_no_target';
      if (
        !dryRun &&
        !(await options.store.updateIfVersion(task.task_id, task.version, {
          notification_status: 'no_target',
          updated_at: now().toISOString(),
        }))
      ) {
        item.action = 'skipped_workflow_running'; // changed under us: leave it to whoever changed it
        report.skipped += 1;
        continue;
      }
      report.no_target += 1;
      continue;
    }

    const turn = Math.max(task.turns.length, 1);
    const message = buildNotificationMessage(viewOf(task, turn), {
      uiUrl: options.uiUrl,
      namespace: options.namespace,
    });
    item.message = message.text;
    if (dryRun) continue;

    try {
      await options.notifier(parseNotifyTarget(task.notify_target), message, completionKey(task.task_id, turn));
      item.action = 'sent';
      report.sent += 1;
      await options.store.updateIfVersion(task.task_id, task.version, {
        notification_status: 'sent',
        notified_at: now().toISOString(),
        notification_error: null,
        notification_attempts: task.notification_attempts + 1,
        updated_at: now().toISOString(),
      });
    } catch (err) {
      const error = (err as Error).message ?? String(err);
      item.action = 'failed';
      item.error = error;
      report.failed += 1;
      await options.store.updateIfVersion(task.task_id, task.version, {
        notification_status: 'failed',
        notification_error: error,
        notification_attempts: task.notification_attempts + 1,
        updated_at: now().toISOString(),
      });
    }
  }
  return report;
}

function viewOf(task: TaskDocument, turn: number): TaskNotificationView {
  const record = task.turns[turn - 1];
  return {
    task_id: task.task_id,
    turn,
    kind: 'completion',
    status: task.status,
    prompt: record?.prompt ?? task.prompt,
    cwd: task.cwd,
    result: task.result,
    error: task.error,
    started_at: record?.started_at ?? task.started_at,
    finished_at: record?.finished_at ?? task.finished_at,
    notify_target: task.notify_target,
  };
}
