// Relays the Codex activity's progress to its workflow, which shows it in the Web UI's current
// details. A signal is a history event: send at most one per task every `minIntervalMs`, and only
// when something changed. The signal goes through the activity's own client (the worker's
// connection).
import type { Context } from '@temporalio/activity';
import { codexProgressSignal, type CodexProgressPayload } from '../src/contract/messages';
import type { CodexHeartbeat } from '../src/contract/codex-turn';

export type ProgressReporter = (taskId: string, heartbeat: CodexHeartbeat, activity: Context) => void;

export function createProgressReporter(minIntervalMs = 5000): ProgressReporter {
  const last = new Map<string, { at: number; key: string }>();
  return (taskId, heartbeat, activity) => {
    const payload: CodexProgressPayload = {
      items_started: heartbeat.itemsStarted,
      items_completed: heartbeat.itemsCompleted,
      current_item: heartbeat.currentItem,
      thread_id: heartbeat.threadId,
    };
    const key = JSON.stringify(payload);
    const previous = last.get(taskId);
    const now = Date.now();
    if (previous && (previous.key === key || now - previous.at < minIntervalMs)) return;
    last.set(taskId, { at: now, key });
    if (last.size > 10_000) last.delete(last.keys().next().value as string);
    // Best effort: progress is decoration; a lost signal changes nothing the user relies on.
    try {
      activity.client.workflow
        .getHandle(taskId)
        .signal(codexProgressSignal, payload)
        .catch(() => undefined);
    } catch {
      // An activity without a client (a test environment) has no workflow to tell.
    }
  };
}
