// A turn that fails on Codex's usage or rate limit does not end the task: the task waits, as
// `waiting_for_quota`, on a durable timer until the limit resets (or a back-off when Codex gave no
// time), tells its person once, and runs the turn again.
import { condition } from '@temporalio/workflow';
import { quotaPausedKey } from '../src/contract/idempotency';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';
import { pauseAdmissions } from './admission';
import type { TaskShape } from './task-shape';
import { deliver, notificationView } from './task-activities';
import type { TaskState } from './task-state';
import type { TurnOutcome } from './task-transitions';

export const DEFAULT_QUOTA_BACKOFF_MS = 15 * 60_000;
/** A reset time already past (clocks differ) still waits this long: never a tight retry loop. */
export const MIN_QUOTA_WAIT_MS = 10_000;

/** When to try a turn again that failed on the usage or rate limit; null for any other outcome. */
export function quotaResumeTime(
  outcome: TurnOutcome,
  nowMs: number,
  backoffMs: number = DEFAULT_QUOTA_BACKOFF_MS,
): number | null {
  const resetsAt = outcome.result?.quota_resets_at;
  if (outcome.status !== 'failed' || resetsAt === undefined) return null;
  const reset = resetsAt === null ? NaN : Date.parse(resetsAt);
  return Number.isNaN(reset) ? nowMs + backoffMs : Math.max(reset, nowMs + MIN_QUOTA_WAIT_MS);
}

export function quotaReason(outcome: TurnOutcome): string {
  return outcome.error?.type === 'rateLimitExceeded' ? 'Codex rate limit' : 'Codex usage limit';
}

/**
 * Pauses until `resumeAt` or a cancellation. The person hears of the first pause of a turn only:
 * a turn that hits the limit again on resuming waits again, silently, under the same message key.
 */
export async function waitForQuota(
  input: TaskWorkflowInput,
  shape: TaskShape,
  state: TaskState,
  resumeAt: number,
  reason: string,
  cancelled: () => boolean,
): Promise<void> {
  const firstPause = state.waitForQuota(new Date(resumeAt).toISOString(), reason);
  // Tasks queued behind this one would only hit the same limit: admission holds them until then.
  await pauseAdmissions(input, shape, new Date(resumeAt).toISOString());
  if (firstPause && state.task.notify_target) {
    const view = {
      ...notificationView(input, state, 'quota_paused'),
      resumes_at: new Date(resumeAt).toISOString(),
      quota_reason: reason,
    };
    await deliver(input, state.task, quotaPausedKey(state.task.task_id, state.turnNumber), view);
  }
  const left = resumeAt - Date.now();
  if (left > 0) await condition(cancelled, left);
  state.resumeAfterQuota();
}
