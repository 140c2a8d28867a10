// The task workflow as it was released before the askPerson update: the Codex activity signalled
// each request (codexServerRequest) and polled the getRequestAnswer query for the answer. Kept
// unchanged, imports aside, so that the upgrade test can start a task on it and finish it on
// today's workflow.
import type { NotificationKind, TaskNotificationView } from '../../../src/contract/notification';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../../../activities';
import type { CodexTurnInput, CodexTurnResult } from '../../../src/contract/codex-turn';
import { CODEX_NON_RETRYABLE_TYPES, INVALID_TASK_INPUT, NOTIFY_NON_RETRYABLE_TYPES } from '../../../src/contract/failure-types';
import { completionKey, requestExpiredKey, requestKey } from '../../../src/contract/idempotency';
import { describeNotifyTarget, parseNotifyTarget } from '../../../src/contract/notify-target';
import type { PendingRequest, TaskDocument, TaskError, TaskStatus, TurnRecord } from '../../../src/contract/task';
import { APPROVAL_DECISIONS, isTerminalStatus } from '../../../src/contract/task';
import {
  answerUpdate,
  approveUpdate,
  cancelSignal,
  codexProgressSignal,
  codexServerRequestSignal,
  getRequestAnswerQuery,
  getTaskQuery,
  setNotifyTargetUpdate,
  type CodexProgressPayload,
  type CodexServerRequestPayload,
  type RequestAnswer,
} from './messages';
import { CodexTaskStatusKey, NotificationStatusKey, NotifyTargetKey } from '../../../src/contract/search-attributes';
import type { TaskWorkflowInput } from '../../../src/contract/task-workflow-input';
import { oneLine } from '../../../src/contract/text';

type Activities = ReturnType<typeof createActivities>;

const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
const DEFAULT_NOTIFY_DEADLINE_MS = 24 * 60 * 60_000;
const CANCEL_INTERRUPTS_DELIVERY = 'cancel-interrupts-delivery';

export async function codexTaskWorkflow(input: TaskWorkflowInput): Promise<TaskDocument> {
  validateInput(input);
  // Temporal's own cancellation (the Web UI's "Request Cancellation", `temporal workflow cancel`)
  // and the bridge's cancel signal take one path: the body runs in a non-cancellable scope, so a
  // cancellation cannot throw out of a wait half-way through; instead it interrupts whatever is in
  // flight (the Codex turn, or a completion delivery), and the task ends through the usual steps:
  // terminal status, one message, mirror. A Temporal cancellation then closes the workflow as
  // Canceled, as the Web UI's button promises.
  let cancelledBy: 'bridge' | 'temporal' | null = null;
  const task = await CancellationScope.nonCancellable(() =>
    runTask(input, (handler) => {
      CancellationScope.current().cancelRequested.catch(() => {
        cancelledBy ??= 'temporal';
        handler();
      });
      setHandler(cancelSignal, () => {
        cancelledBy ??= 'bridge';
        handler();
      });
    }),
  );
  if (cancelledBy === 'temporal') throw new CancelledFailure(`Task ${task.task_id} was cancelled through Temporal.`);
  return task;
}

/** The task's story; `onCancel` wires both cancellation paths to the one handler it is given. */
async function runTask(input: TaskWorkflowInput, onCancel: (handler: () => void) => void): Promise<TaskDocument> {
  const task: TaskDocument = { ...input.task, run_id: workflowInfo().runId, pending_requests: [...input.task.pending_requests] };
  const turnNumber = task.turns.length + 1;
  const answers = new Map<string, RequestAnswer>();
  const requestDetails = new Map<string, CodexServerRequestPayload>();
  // A retried Codex attempt (after a worker died) runs the turn again and may ask, word for word,
  // what an earlier attempt asked: under its new id it is the same request (see sameEarlierRequest).
  const aliases = new Map<string, string>();
  const aliasedPerAttempt = new Set<string>();
  let cancelRequested = false;
  let progress: CodexProgressPayload | null = null;
  let lastError: string | null = null;
  // What a cancellation interrupts: the Codex turn, or the completion delivery in flight.
  let turnScope: CancellationScope | null = null;
  let deliveryScope: CancellationScope | null = null;
  const background: Promise<void>[] = [];

  // --- the mirror: every state change bumps `version`; one write in flight, the latest state wins.
  let mirroredVersion = task.version; // the starter stored this version already
  let mirrorPumpDone = false;
  const mirrorActivities = proxyActivities<Activities>({
    startToCloseTimeout: '20s',
    // The store may be down for a while: retry until it returns; the main line never waits for it.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: 'Mirror task state to MongoDB',
  });
  const changed = (): void => {
    task.version += 1;
    task.updated_at = new Date().toISOString();
    refreshWebUi();
  };
  const mirrorPump = CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => task.version > mirroredVersion || mirrorPumpDone);
      if (task.version <= mirroredVersion) return;
      const snapshot: TaskDocument = JSON.parse(JSON.stringify(task)); // no structuredClone in the workflow sandbox
      await mirrorActivities.mirrorTask(snapshot);
      mirroredVersion = snapshot.version;
    }
  });

  function refreshWebUi(): void {
    upsertSearchAttributes([
      { key: CodexTaskStatusKey, value: task.status },
      { key: NotificationStatusKey, value: task.notification_status ?? 'none' },
      { key: NotifyTargetKey, value: task.notify_target ? describeNotifyTarget(task.notify_target) : 'none' },
    ]);
    const lines = [
      `**Status:** ${task.status} (turn ${turnNumber})`,
      `**Notification:** ${task.notification_status ?? 'not yet'}${task.notify_target ? ` → ${describeNotifyTarget(task.notify_target)}` : ''}`,
    ];
    if (progress) {
      lines.push(`**Codex:** ${progress.items_completed}/${progress.items_started} items done${progress.current_item ? `, now: ${progress.current_item}` : ''}`);
    }
    for (const r of task.pending_requests) lines.push(`**Waiting for a person:** ${r.summary} (request ${r.request_id})`);
    if (lastError) lines.push(`**Last error:** ${lastError}`);
    setCurrentDetails(lines.join('\n\n'));
  }

  // --- handlers first
  setHandler(getTaskQuery, () => task);
  setHandler(getRequestAnswerQuery, (requestId) => answers.get(aliases.get(requestId) ?? requestId) ?? null);
  onCancel(() => {
    if (cancelRequested) return;
    cancelRequested = true;
    turnScope?.cancel();
    // Before this gate a cancellation left a delivery in flight alone; tasks started then replay so.
    if (deliveryScope && patched(CANCEL_INTERRUPTS_DELIVERY)) deliveryScope.cancel();
  });
  setHandler(
    setNotifyTargetUpdate,
    ({ notify_target }) => {
      task.notify_target = notify_target;
      if (task.notification_status === 'no_target' && notify_target) task.notification_status = null;
      changed();
      return task;
    },
    {
      validator: ({ notify_target }) => {
        if (notify_target !== null) parseNotifyTarget(notify_target);
        if (task.notification_status === 'sent' || task.notification_status === 'failed') {
          throw new Error('The task has already been notified: the target can no longer change.');
        }
        if (task.notification_status === 'pending') throw new Error('The notification is being delivered: the target can no longer change.');
      },
    },
  );
  setHandler(codexProgressSignal, (p) => {
    progress = p;
    refreshWebUi();
  });
  setHandler(codexServerRequestSignal, (request) => {
    // The activity may hand the same request over again after a retry: the first one counts.
    if (requestDetails.has(request.request_id) || aliases.has(request.request_id)) return;
    const same = sameEarlierRequest(request);
    if (same) {
      // Asked once: the person answers (or has answered) the request they were told about.
      aliases.set(request.request_id, same.request_id);
      return;
    }
    requestDetails.set(request.request_id, request);
    task.pending_requests.push({ request_id: request.request_id, kind: request.kind, summary: request.summary, created_at: new Date().toISOString() });
    task.status = 'waiting_for_input';
    changed();
    // Handlers run in the workflow's root scope: shield the wait from a Temporal cancellation, which
    // reaches this request through the turn's end instead.
    background.push(CancellationScope.nonCancellable(() => askPerson(request)));
  });
  setHandler(approveUpdate, ({ request_id, decision }) => resolveRequest(request_id, { kind: 'decision', decision, answered_by: 'person' }), {
    validator: ({ request_id, decision }) => {
      const pending = requirePending(request_id);
      if (pending.kind === 'user_input') throw new Error(`Request ${request_id} is a question: answer it instead of approving it.`);
      if (!(APPROVAL_DECISIONS as readonly string[]).includes(decision)) {
        throw new Error(`decision must be one of ${APPROVAL_DECISIONS.join(', ')}.`);
      }
    },
  });
  setHandler(answerUpdate, ({ request_id, answers: given }) => resolveRequest(request_id, { kind: 'answers', answers: given, answered_by: 'person' }), {
    validator: ({ request_id, answers: given }) => {
      const pending = requirePending(request_id);
      if (pending.kind !== 'user_input') throw new Error(`Request ${request_id} is an approval: approve or decline it instead.`);
      const ok =
        given !== null &&
        typeof given === 'object' &&
        !Array.isArray(given) &&
        Object.values(given).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
      if (!ok) throw new Error('answers must map each question id to a list of strings.');
    },
  });

  /**
   * The request of an earlier activity attempt that `request` repeats, if any. A worker that dies
   * while Codex waits takes the app-server with it; the retried attempt starts the turn again and
   * Codex asks again, under a new request id (ids name the attempt). Identical kind, summary and
   * details (command, cwd, reason / files and diff / questions) make it the same question: it maps
   * to the earlier request, so the person is not asked twice and an answer given before or after
   * the restart reaches the new attempt. Each earlier request matches at most once per attempt, so
   * a command asked twice in one turn is still asked twice. Anything else is a new request.
   */
  function sameEarlierRequest(request: CodexServerRequestPayload): CodexServerRequestPayload | undefined {
    const attempt = request.attempt ?? 1;
    if (attempt <= 1) return undefined;
    for (const earlier of requestDetails.values()) {
      if ((earlier.attempt ?? 1) >= attempt) continue;
      if (earlier.kind !== request.kind || earlier.summary !== request.summary || earlier.details !== request.details) continue;
      const key = `${attempt}:${earlier.request_id}`;
      if (aliasedPerAttempt.has(key)) continue;
      aliasedPerAttempt.add(key);
      return earlier;
    }
    return undefined;
  }

  function requirePending(requestId: string): PendingRequest {
    const pending = task.pending_requests.find((r) => r.request_id === requestId);
    if (!pending) {
      throw new Error(
        answers.has(requestId) ? `Request ${requestId} has already been answered.` : `Request ${requestId} is not pending on task ${task.task_id}.`,
      );
    }
    return pending;
  }

  function resolveRequest(requestId: string, answer: RequestAnswer): TaskDocument {
    if (answers.has(requestId)) return task;
    answers.set(requestId, answer);
    task.pending_requests = task.pending_requests.filter((r) => r.request_id !== requestId);
    if (task.pending_requests.length === 0 && task.status === 'waiting_for_input') task.status = 'running';
    changed();
    return task;
  }

  /** Tells the person what is asked, then declines it if nobody answers before the deadline. */
  async function askPerson(request: CodexServerRequestPayload): Promise<void> {
    const view = notificationView('request', { request_id: request.request_id, kind: request.kind, summary: request.summary, details: request.details });
    await CancellationScope.nonCancellable(() => deliver('request', requestKey(task.task_id, request.request_id), view));
    const answered = await condition(() => answers.has(request.request_id) || isTerminalStatus(task.status), input.request_timeout_ms);
    if (answered || isTerminalStatus(task.status)) return;
    const expired: RequestAnswer =
      request.kind === 'user_input' ? { kind: 'answers', answers: {}, answered_by: 'deadline' } : { kind: 'decision', decision: 'decline', answered_by: 'deadline' };
    resolveRequest(request.request_id, expired);
    const expiredView = notificationView('request_expired', { request_id: request.request_id, kind: request.kind, summary: request.summary });
    await CancellationScope.nonCancellable(() => deliver('request_expired', requestExpiredKey(task.task_id, request.request_id), expiredView));
  }

  // --- start
  const turn: TurnRecord = {
    turn: turnNumber,
    prompt: input.prompt,
    status: 'running',
    result: null,
    error: null,
    notification_status: null,
    notified_at: null,
    notification_error: null,
    started_at: new Date().toISOString(),
    finished_at: null,
  };
  task.status = 'running';
  task.started_at ??= turn.started_at;
  task.finished_at = null;
  task.result = null;
  task.error = null;
  task.notification_status = null;
  task.notified_at = null;
  task.notification_error = null;
  task.notification_attempts = 0;
  task.turns = [...task.turns, turn];
  changed();

  // --- run Codex
  const outcome = await runTurn();
  task.status = outcome.status;
  task.error = outcome.error;
  task.result = outcome.result
    ? {
        final_message: outcome.result.finalMessage,
        summary: summarize(outcome.status, outcome.result),
        thread_id: outcome.result.threadId,
        turn_id: outcome.result.turnId,
        usage: outcome.result.usage,
        commands: outcome.result.commands,
        file_changes: outcome.result.fileChanges,
        diff: outcome.result.diff,
      }
    : null;
  task.finished_at = new Date().toISOString();
  task.pending_requests = [];
  if (outcome.error) lastError = outcome.error.message;
  Object.assign(turn, { status: task.status, result: task.result, error: task.error, finished_at: task.finished_at });
  changed();

  // --- notify (a cancelled workflow still tells the person: nothing below may be cancelled)
  await CancellationScope.nonCancellable(async () => {
    if (!task.notify_target) {
      task.notification_status = 'no_target';
      turn.notification_status = 'no_target';
      changed();
      return;
    }
    task.notification_status = 'pending';
    turn.notification_status = 'pending';
    changed();
    const delivery = await deliverCompletion();
    task.notification_attempts = delivery.attempts;
    if (delivery.ok) {
      task.notification_status = 'sent';
      task.notified_at = delivery.at;
      task.notification_error = null;
    } else {
      task.notification_status = 'failed';
      task.notification_error = delivery.error;
      lastError = delivery.error;
    }
    Object.assign(turn, { notification_status: task.notification_status, notified_at: task.notified_at, notification_error: task.notification_error });
    changed();
  });

  // --- mirror the final state, let handlers finish, done
  await CancellationScope.nonCancellable(async () => {
    await Promise.all(background);
    await condition(allHandlersFinished);
    mirrorPumpDone = true;
    await mirrorPump;
  });
  return task;

  // --- helpers that close over the task's state

  async function runTurn(): Promise<{ status: TaskStatus; result: CodexTurnResult | null; error: TaskError | null }> {
    if (cancelRequested) return { status: 'cancelled', result: null, error: { type: 'Cancelled', message: 'The task was cancelled before Codex started.' } };
    const heartbeatTimeout = input.heartbeat_timeout_ms ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    const waitAllowance = input.server_request_policy === 'ask' ? input.request_timeout_ms : 0;
    const codex = proxyActivities<Activities>({
      // The activity enforces the turn timeout itself (and reports `timed_out`); this bound only
      // catches a turn that cannot even do that.
      startToCloseTimeout: input.turn_timeout_ms + waitAllowance + 5 * 60_000,
      heartbeatTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...CODEX_NON_RETRYABLE_TYPES] },
      summary: `Codex turn ${turnNumber}: ${oneLine(input.prompt, 60)}`,
    });
    const turnInput: CodexTurnInput = {
      taskId: task.task_id,
      turn: turnNumber,
      prompt: input.prompt,
      cwd: task.cwd,
      model: task.model,
      sandbox: task.sandbox,
      approvalPolicy: task.approval_policy,
      threadId: task.turns.length > 1 ? (task.turns[task.turns.length - 2]?.result?.thread_id ?? null) : null,
      timeoutMs: input.turn_timeout_ms,
      serverRequestPolicy: input.server_request_policy,
    };
    turnScope = new CancellationScope();
    try {
      const result = await turnScope.run(() => codex.runCodexTurn(turnInput));
      return { status: turnStatus(result), result, error: result.error };
    } catch (err) {
      if (isCancellation(err) || cancelRequested) {
        return { status: 'cancelled', result: null, error: { type: 'Cancelled', message: 'The task was cancelled; Codex was interrupted.' } };
      }
      if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'HEARTBEAT') {
        // The last attempt's worker went silent (crashed, killed, hung): the turn's own timeout was not reached.
        const message = 'The worker running Codex stopped heartbeating (it crashed, was killed or hung) on the last of its attempts; the turn was not retried again.';
        return { status: 'failed', result: null, error: { type: 'CodexWorkerLost', message } };
      }
      if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
        return { status: 'timed_out', result: null, error: { type: 'TimedOut', message: `Codex did not finish within ${Math.round(input.turn_timeout_ms / 1000)} s.` } };
      }
      const cause = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
      const type = cause instanceof ApplicationFailure && cause.type ? cause.type : 'CodexActivityFailed';
      return { status: 'failed', result: null, error: { type, message: cause.message } };
    } finally {
      turnScope = null;
    }
  }

  function turnStatus(result: CodexTurnResult): TaskStatus {
    switch (result.status) {
      case 'completed':
        return 'completed';
      case 'failed':
        return 'failed';
      case 'timed_out':
        return 'timed_out';
      case 'interrupted':
        // Interrupted by our cancel, or by a person answering "cancel" to an approval.
        return 'cancelled';
    }
  }

  /**
   * The turn's one final message. A cancellation while it is being delivered (a receiver that keeps
   * failing, a slow one) stops that delivery and tells the person, once and under the same key,
   * that the task was cancelled: a channel that had already taken the result drops the repeat.
   */
  async function deliverCompletion(): Promise<Delivery> {
    const key = completionKey(task.task_id, turnNumber);
    deliveryScope = new CancellationScope();
    try {
      return await deliveryScope.run(() => deliver('completion', key, notificationView('completion')));
    } catch (err) {
      if (!isCancellation(err)) throw err;
    } finally {
      deliveryScope = null;
    }
    task.status = 'cancelled';
    task.error = { type: 'Cancelled', message: 'The task was cancelled while its result was being delivered.' };
    Object.assign(turn, { status: task.status, error: task.error });
    changed();
    return deliver('completion', key, notificationView('completion'));
  }

  function notificationView(kind: NotificationKind, request?: TaskNotificationView['request']): TaskNotificationView {
    return {
      task_id: task.task_id,
      turn: turnNumber,
      kind,
      status: task.status,
      prompt: input.prompt,
      cwd: task.cwd,
      result: task.result,
      error: task.error,
      started_at: turn.started_at,
      finished_at: turn.finished_at,
      notify_target: task.notify_target,
      request,
    };
  }

  /** One durable delivery: retried with backoff until sent, rejected for good, or out of time. */
  async function deliver(
    kind: NotificationKind,
    idempotencyKey: string,
    view: TaskNotificationView,
  ): Promise<Delivery> {
    if (!task.notify_target) return { ok: false, error: 'no notify target', attempts: 0 };
    const notify = proxyActivities<Activities>({
      startToCloseTimeout: '60s',
      scheduleToCloseTimeout: input.notify_deadline_ms ?? DEFAULT_NOTIFY_DEADLINE_MS,
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: [...NOTIFY_NON_RETRYABLE_TYPES] },
      summary: `Notify ${describeNotifyTarget(task.notify_target)} (${kind})`,
    });
    try {
      const receipt = await notify.deliverNotification({ target: task.notify_target, idempotencyKey, view });
      // Workflow time, not the worker's clock: deterministic, and what the history shows.
      return { ok: true, at: new Date().toISOString(), attempts: receipt.attempt };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
      const attempts = attemptsFrom(cause);
      const message = cause instanceof TimeoutFailure ? 'delivery kept failing until its deadline passed' : cause.message;
      return { ok: false, error: message, attempts };
    }
  }
}

type Delivery = { ok: true; at: string; attempts: number } | { ok: false; error: string; attempts: number };

function attemptsFrom(failure: Error): number {
  if (failure instanceof ApplicationFailure) {
    const detail = failure.details?.[0] as { attempt?: number } | undefined;
    if (typeof detail?.attempt === 'number') return detail.attempt;
  }
  return 0;
}

function validateInput(input: TaskWorkflowInput): void {
  const fail = (msg: string): never => {
    throw ApplicationFailure.nonRetryable(msg, INVALID_TASK_INPUT);
  };
  if (!input || typeof input !== 'object' || !input.task) fail('The workflow input must carry a task document.');
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') fail('The prompt must not be empty.');
  if (input.task.task_id !== workflowInfo().workflowId) fail(`task_id ${input.task.task_id} must equal the workflow id ${workflowInfo().workflowId}.`);
  if (input.task.notify_target !== null) {
    try {
      parseNotifyTarget(input.task.notify_target);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  if (!(input.turn_timeout_ms > 0) || !(input.request_timeout_ms > 0)) fail('turn_timeout_ms and request_timeout_ms must be positive.');
}

function summarize(status: TaskStatus, result: CodexTurnResult): string {
  const parts = [`${status}`];
  if (result.commands.length) parts.push(`${result.commands.length} command${result.commands.length === 1 ? '' : 's'}`);
  if (result.fileChanges.length) parts.push(`${result.fileChanges.length} file${result.fileChanges.length === 1 ? '' : 's'} changed`);
  if (result.finalMessage) parts.push(oneLine(result.finalMessage, 200));
  return parts.join(' · ');
}
