// Every change of a task document, as plain functions: each takes the document (and the time) and
// returns the next one. No Temporal APIs are called here, so unit tests run them directly; the
// workflow applies them through TaskState, which also bumps the version.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import type { CodexTurnResult } from '../src/contract/codex-turn';
import type {
  CodexRequest,
  PendingRequestKind,
  RequestAnswer,
  TaskDocument,
  TaskError,
  TaskResult,
  TaskStatus,
  TurnRecord,
} from '../src/contract/task';
import { oneLine } from '../src/contract/text';

/** How a Codex turn ended, in the task's words. */
export interface TurnOutcome {
  status: TaskStatus;
  result: CodexTurnResult | null;
  error: TaskError | null;
}

/** How the delivery of one message ended. */
export type Delivery =
  /** `mirroredVersion`: the delivery activity already mirrored the sent task at that version. */
  | { ok: true; at: string; attempts: number; mirroredVersion?: number | null }
  | { ok: false; error: string; attempts: number };

/** A new turn begins: the task is running again and forgets the previous turn's outcome. */
export function startTurn(task: TaskDocument, prompt: string, now: string): TaskDocument {
  const turn: TurnRecord = {
    turn: task.turns.length + 1,
    prompt,
    status: 'running',
    result: null,
    error: null,
    notification_status: null,
    notified_at: null,
    notification_error: null,
    started_at: now,
    finished_at: null,
  };
  return {
    ...task,
    status: 'running',
    started_at: task.started_at ?? now,
    finished_at: null,
    result: null,
    error: null,
    notification_status: null,
    notified_at: null,
    notification_error: null,
    notification_attempts: 0,
    turns: [...task.turns, turn],
  };
}

/** The turn is over: its outcome becomes the task's, and nothing is pending any more. */
export function finishTurn(task: TaskDocument, outcome: TurnOutcome, now: string): TaskDocument {
  const result = outcome.result ? taskResult(outcome.status, outcome.result) : null;
  const next = {
    ...task,
    status: outcome.status,
    error: outcome.error,
    result,
    finished_at: now,
    pending_requests: [],
  };
  return withCurrentTurn(next, { status: next.status, result, error: next.error, finished_at: now });
}

/** The status a turn's own result gives the task. */
export function turnOutcome(result: CodexTurnResult): TurnOutcome {
  // `interrupted`: by a cancel, or by a person answering "cancel" to an approval.
  const status: TaskStatus = result.status === 'interrupted' ? 'cancelled' : result.status;
  return { status, result, error: result.error };
}

/** The outcome of a turn whose activity failed (or was cancelled) instead of returning a result. */
export function classifyTurnFailure(
  err: unknown,
  context: { cancelRequested: boolean; turnTimeoutMs: number },
): TurnOutcome {
  if (isCancellation(err) || context.cancelRequested) {
    return {
      status: 'cancelled',
      result: null,
      error: { type: 'Cancelled', message: 'The task was cancelled; Codex was interrupted.' },
    };
  }
  if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'HEARTBEAT') {
    // The last attempt's worker went silent (crashed, killed, hung): the turn's own timeout was not reached.
    const message =
      'The worker running Codex stopped heartbeating (it crashed, was killed or hung) on the last of its attempts; the turn was not retried again.';
    return { status: 'failed', result: null, error: { type: 'CodexWorkerLost', message } };
  }
  if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
    const message = `Codex did not finish within ${Math.round(context.turnTimeoutMs / 1000)} s.`;
    return { status: 'timed_out', result: null, error: { type: 'TimedOut', message } };
  }
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
  const type = cause instanceof ApplicationFailure && cause.type ? cause.type : 'CodexActivityFailed';
  return { status: 'failed', result: null, error: { type, message: cause.message } };
}

/** A cancel arrived before the turn could start. */
export const CANCELLED_BEFORE_START: TurnOutcome = {
  status: 'cancelled',
  result: null,
  error: { type: 'Cancelled', message: 'The task was cancelled before Codex started.' },
};

/** A task without a target is never notified. */
export function notificationSkipped(task: TaskDocument): TaskDocument {
  return withCurrentTurn({ ...task, notification_status: 'no_target' }, { notification_status: 'no_target' });
}

export function notificationStarted(task: TaskDocument): TaskDocument {
  return withCurrentTurn({ ...task, notification_status: 'pending' }, { notification_status: 'pending' });
}

export function notificationFinished(task: TaskDocument, delivery: Delivery): TaskDocument {
  const next: TaskDocument = delivery.ok
    ? {
        ...task,
        notification_attempts: delivery.attempts,
        notification_status: 'sent',
        notified_at: delivery.at,
        notification_error: null,
      }
    : {
        ...task,
        notification_attempts: delivery.attempts,
        notification_status: 'failed',
        notification_error: delivery.error,
      };
  const { notification_status, notified_at, notification_error } = next;
  return withCurrentTurn(next, { notification_status, notified_at, notification_error });
}

/** A cancel stopped the delivery of the result: the person is told of the cancellation instead. */
export function cancelledWhileDelivering(task: TaskDocument): TaskDocument {
  const error: TaskError = {
    type: 'Cancelled',
    message: 'The task was cancelled while its result was being delivered.',
  };
  return withCurrentTurn({ ...task, status: 'cancelled', error }, { status: 'cancelled', error });
}

/** Why the notify target cannot change now, or null when it can. */
export function notifyTargetLocked(task: TaskDocument): string | null {
  if (task.notification_status === 'sent' || task.notification_status === 'failed') {
    return 'The task has already been notified: the target can no longer change.';
  }
  if (task.notification_status === 'pending')
    return 'The notification is being delivered: the target can no longer change.';
  return null;
}

export function changeNotifyTarget(task: TaskDocument, target: string | null): TaskDocument {
  const reopened = task.notification_status === 'no_target' && target !== null;
  return { ...task, notify_target: target, notification_status: reopened ? null : task.notification_status };
}

/** A request now waits for a person. */
export function requestAsked(task: TaskDocument, request: CodexRequest, now: string): TaskDocument {
  const pending = { request_id: request.request_id, kind: request.kind, summary: request.summary, created_at: now };
  return { ...task, pending_requests: [...task.pending_requests, pending], status: 'waiting_for_input' };
}

/** A request was answered; with nothing else pending, the task runs again. */
export function requestAnswered(task: TaskDocument, requestId: string): TaskDocument {
  const pending_requests = task.pending_requests.filter((r) => r.request_id !== requestId);
  const status = pending_requests.length === 0 && task.status === 'waiting_for_input' ? 'running' : task.status;
  return { ...task, pending_requests, status };
}

/** What the deadline answers for a request nobody answered: decline, or no answers to a question. */
export function expiredAnswer(kind: PendingRequestKind): RequestAnswer {
  return kind === 'user_input'
    ? { answers: {}, answered_by: 'deadline' }
    : { decision: 'decline', answered_by: 'deadline' };
}

/**
 * The request of an earlier activity attempt that `request` repeats, if any. A worker that dies
 * while Codex waits takes the app-server with it; the retried attempt starts the turn again and
 * Codex asks again, under a new request id (ids name the attempt). Identical kind, summary and
 * details make it the same question, so the person is not asked twice and an answer given before
 * or after the restart reaches the new attempt. Each earlier request matches at most once per
 * attempt (`matched` holds the pairs used, see repeatKey), so a command asked twice in one turn is
 * still asked twice.
 */
export function findRepeatedRequest(
  earlier: Iterable<CodexRequest>,
  request: CodexRequest,
  matched: ReadonlySet<string>,
): CodexRequest | undefined {
  const attempt = request.attempt ?? 1;
  if (attempt <= 1) return undefined;
  for (const candidate of earlier) {
    if ((candidate.attempt ?? 1) >= attempt) continue;
    if (
      candidate.kind !== request.kind ||
      candidate.summary !== request.summary ||
      candidate.details !== request.details
    )
      continue;
    if (matched.has(repeatKey(request, candidate))) continue;
    return candidate;
  }
  return undefined;
}

/** The pair (attempt, earlier request) a match uses up. */
export function repeatKey(request: CodexRequest, earlier: CodexRequest): string {
  return `${request.attempt ?? 1}:${earlier.request_id}`;
}

/** The attempt count a failed delivery reports in its details (0 when unknown). */
export function deliveryFailure(err: unknown): Delivery & { ok: false } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
  const message = cause instanceof TimeoutFailure ? 'delivery kept failing until its deadline passed' : cause.message;
  return { ok: false, error: message, attempts: attemptsFrom(cause) };
}

function attemptsFrom(failure: Error): number {
  if (failure instanceof ApplicationFailure) {
    const detail = failure.details?.[0] as { attempt?: number } | undefined;
    if (typeof detail?.attempt === 'number') return detail.attempt;
  }
  return 0;
}

function taskResult(status: TaskStatus, result: CodexTurnResult): TaskResult {
  return {
    final_message: result.finalMessage,
    summary: summarize(status, result),
    thread_id: result.threadId,
    turn_id: result.turnId,
    usage: result.usage,
    commands: result.commands,
    file_changes: result.fileChanges,
    diff: result.diff,
  };
}

function summarize(status: TaskStatus, result: CodexTurnResult): string {
  const parts = [`${status}`];
  if (result.commands.length) parts.push(`${result.commands.length} command${result.commands.length === 1 ? '' : 's'}`);
  if (result.fileChanges.length)
    parts.push(`${result.fileChanges.length} file${result.fileChanges.length === 1 ? '' : 's'} changed`);
  if (result.finalMessage) parts.push(oneLine(result.finalMessage, 200));
  return parts.join(' · ');
}

/** The task with its latest turn record updated to match. */
function withCurrentTurn(task: TaskDocument, change: Partial<TurnRecord>): TaskDocument {
  const turns = task.turns.slice();
  const last = turns.length - 1;
  if (last >= 0) turns[last] = { ...turns[last]!, ...change };
  return { ...task, turns };
}
