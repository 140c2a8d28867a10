// One workflow per task, workflow id = task id: validate → handlers → run the Codex turn → notify
// → mirror → return the task. The state and its changes live in TaskState (task-state.ts); the
// activity calls with their retry policies in task-activities.ts; which changes a run has in
// task-shape.ts (tasks start as `codexTask`; `codexTaskWorkflow` finishes the runs started before).
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { INVALID_TASK_INPUT } from '../src/contract/failure-types';
import { completionKey, requestExpiredKey, requestKey } from '../src/contract/idempotency';
import { parseNotifyTarget } from '../src/contract/notify-target';
import { isTerminalStatus, type CodexRequest, type TaskDocument } from '../src/contract/task';
import {
  answerUpdate,
  approveUpdate,
  askPersonUpdate,
  cancelSignal,
  codexProgressSignal,
  codexServerRequestSignal,
  getTaskQuery,
  notificationPendingSignal,
  setNotifyTargetUpdate,
} from '../src/contract/messages';
import { CodexTaskStatusKey, NotificationStatusKey, NotifyTargetKey } from '../src/contract/search-attributes';
import { deliver, notificationView, runCodexTurn, startMirror } from './task-activities';
import { admit } from './admission';
import { closeWorkspace, openWorkspace } from './isolation';
import { quotaReason, quotaResumeTime, waitForQuota } from './quota';
import { handleReplies } from './replies';
import { TaskState } from './task-state';
import {
  CANCEL_INTERRUPTS_DELIVERY,
  CURRENT_SHAPE,
  GATED_SHAPE,
  LEAN_ROUND_TRIPS,
  PENDING_SHOWN_LATE,
  QUOTA_PAUSES_TURN,
  type TaskShape,
} from './task-shape';
import {
  CANCELLED_BEFORE_START,
  classifyTurnFailure,
  expiredAnswer,
  turnOutcome,
  type Delivery,
  type TurnOutcome,
} from './task-transitions';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';

/** A task: its runs have every change of task-shape.ts, without version markers. */
export async function codexTask(input: TaskWorkflowInput): Promise<TaskDocument> {
  return taskWorkflow(input, CURRENT_SHAPE);
}

/** The type tasks started as before `codexTask`: their runs replay through the version gates. */
export async function codexTaskWorkflow(input: TaskWorkflowInput): Promise<TaskDocument> {
  return taskWorkflow(input, GATED_SHAPE);
}

async function taskWorkflow(input: TaskWorkflowInput, shape: TaskShape): Promise<TaskDocument> {
  validateInput(input);
  // Temporal's own cancellation (the Web UI's "Request Cancellation", `temporal workflow cancel`)
  // and the bridge's cancel signal take one path: the body runs in a non-cancellable scope, so a
  // cancellation cannot throw out of a wait half-way through; instead it interrupts whatever is in
  // flight (the Codex turn, or a completion delivery), and the task ends through the usual steps:
  // terminal status, one message, mirror. A Temporal cancellation then closes the workflow as
  // Canceled, as the Web UI's button promises.
  let cancelledBy: 'bridge' | 'temporal' | null = null;
  const task = await CancellationScope.nonCancellable(() =>
    runTask(input, shape, (handler) => {
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
async function runTask(
  input: TaskWorkflowInput,
  shape: TaskShape,
  onCancel: (handler: () => void) => void,
): Promise<TaskDocument> {
  const lean = shape.has(LEAN_ROUND_TRIPS);
  const state = new TaskState({ ...input.task, run_id: workflowInfo().runId }, lean ? showDetails : publish);
  const showSearchAttributes = lean ? searchAttributesOnChange(state) : undefined;
  const mirror = startMirror(state, { beforeWrite: showSearchAttributes });
  /** The task as it stands, for an activity to mirror along with its work (and the pump to skip). */
  const handOver = async ({ showNow = true } = {}): Promise<TaskDocument | undefined> => {
    if (!lean) return undefined;
    mirror.written(state.task.version); // claimed before waiting, so the pump does not write it too
    await mirror.idle();
    if (showNow) showSearchAttributes?.();
    mirror.written(state.task.version);
    return JSON.parse(JSON.stringify(state.task)) as TaskDocument; // no structuredClone in the workflow sandbox
  };
  const askingPerson: Promise<void>[] = [];
  let cancelRequested = false;
  // What a cancellation interrupts: the Codex turn, or the completion delivery in flight.
  let turnScope: CancellationScope | null = null;
  let deliveryScope: CancellationScope | null = null;

  // --- handlers first
  setHandler(getTaskQuery, () => state.task);
  onCancel(() => {
    if (cancelRequested) return;
    cancelRequested = true;
    turnScope?.cancel();
    // Before this gate a cancellation left a delivery in flight alone; tasks started then replay so.
    if (deliveryScope && shape.has(CANCEL_INTERRUPTS_DELIVERY)) deliveryScope.cancel();
  });
  setHandler(setNotifyTargetUpdate, ({ notify_target }) => state.setNotifyTarget(notify_target), {
    validator: ({ notify_target }) => state.checkNotifyTarget(notify_target),
  });
  setHandler(codexProgressSignal, (progress) => state.showProgress(progress));
  if (shape.has(PENDING_SHOWN_LATE)) setHandler(notificationPendingSignal, () => showSearchAttributes?.());
  const receive = (request: CodexRequest): string => {
    const { answerId, isNew } = state.receiveRequest(request);
    // Handlers run in the workflow's root scope: shield the wait from a Temporal cancellation, which
    // reaches this request through the turn's end instead.
    if (isNew) askingPerson.push(CancellationScope.nonCancellable(() => askPerson(input, state, request)));
    return answerId;
  };
  // How the previous release handed requests over (it then polled); tasks started then still use it.
  setHandler(codexServerRequestSignal, (request) => void receive(request));
  setHandler(
    askPersonUpdate,
    (request) => {
      const answerId = receive(request);
      return CancellationScope.nonCancellable(async () => {
        await condition(() => state.answerOf(answerId) !== undefined || isTerminalStatus(state.task.status));
        return state.answerOf(answerId) ?? null;
      });
    },
    { validator: (_request: CodexRequest) => state.checkTurnRunning() },
  );
  setHandler(
    approveUpdate,
    ({ request_id, decision }) => state.answerRequest(request_id, { decision, answered_by: 'person' }),
    {
      validator: ({ request_id, decision }) => state.checkApproval(request_id, decision),
    },
  );
  setHandler(
    answerUpdate,
    ({ request_id, answers }) => state.answerRequest(request_id, { answers, answered_by: 'person' }),
    {
      validator: ({ request_id, answers }) => state.checkAnswers(request_id, answers),
    },
  );
  const replies = handleReplies(state);

  // --- wait for a slot, then run Codex (in the task's own worktree when it has one)
  const slot = await admit(input, shape, state, () => cancelRequested);
  state.startTurn(input.prompt);
  state.repliesStartedTurn(input.replies ?? []);
  state.finishTurn((await openWorkspace(state)) ?? (await runTurnWithinQuota()));
  // The slot goes back with the next commands (the delivery's): the result never waits for the queue.
  const released = slot.release();
  replies.turnEnded();
  await closeWorkspace(state);

  // --- notify (a cancelled workflow still tells the person: nothing below may be cancelled)
  await CancellationScope.nonCancellable(async () => {
    if (!state.task.notify_target) return state.notificationSkipped();
    state.notificationStarted();
    const delivery = await deliverCompletion();
    if (delivery.ok && delivery.mirroredVersion !== undefined) {
      // The activity mirrored the sent task from the version it was handed, which is still this one.
      const mirrored = delivery.mirroredVersion === state.task.version + Math.max(1, delivery.attempts);
      state.notificationSent(delivery.at, delivery.attempts);
      if (mirrored) mirror.written(state.task.version);
    } else {
      state.notificationFinished(delivery);
    }
  });

  // --- mirror the final state once every request and handler is done
  await CancellationScope.nonCancellable(async () => {
    await released;
    await Promise.all(askingPerson);
    await condition(allHandlersFinished);
    showSearchAttributes?.(); // for changes an activity mirrored itself
    await mirror.finish();
  });
  // Replies that arrived too late for this turn run as the next one, in a fresh run.
  const nextTurn = replies.nextTurn(input);
  if (nextTurn) await continueAsNew<typeof codexTaskWorkflow>(nextTurn);
  return state.task;

  /** Runs the turn; a turn failing on the usage or rate limit waits for the reset and runs again. */
  async function runTurnWithinQuota(): Promise<TurnOutcome> {
    for (;;) {
      const outcome = await runTurn();
      const resumeAt = cancelRequested ? null : quotaResumeTime(outcome, Date.now(), input.quota_backoff_ms);
      // Before this gate such a turn ended the task; tasks started then replay so.
      if (resumeAt === null || !shape.has(QUOTA_PAUSES_TURN)) return outcome;
      await waitForQuota(input, shape, state, resumeAt, quotaReason(outcome), () => cancelRequested);
    }
  }

  async function runTurn(): Promise<TurnOutcome> {
    if (cancelRequested) return CANCELLED_BEFORE_START;
    turnScope = new CancellationScope();
    try {
      return turnOutcome(await turnScope.run(async () => runCodexTurn(input, state, await handOver())));
    } catch (err) {
      return classifyTurnFailure(err, { cancelRequested, turnTimeoutMs: input.turn_timeout_ms });
    } finally {
      turnScope = null;
    }
  }

  /**
   * The turn's one final message. A cancellation while it is being delivered (a receiver that keeps
   * failing, a slow one) stops that delivery and tells the person, once and under the same key,
   * that the task was cancelled: a channel that had already taken the result drops the repeat.
   */
  async function deliverCompletion(): Promise<Delivery> {
    const key = completionKey(state.task.task_id, state.turnNumber);
    // Shown as pending only once the activity reports the delivery slow (notificationPendingSignal).
    const showLate = shape.has(PENDING_SHOWN_LATE);
    deliveryScope = new CancellationScope();
    try {
      return await deliveryScope.run(async () =>
        deliver(
          input,
          state.task,
          key,
          notificationView(input, state, 'completion'),
          await handOver({ showNow: !showLate }),
          { signalPending: showLate },
        ),
      );
    } catch (err) {
      if (!isCancellation(err)) throw err;
    } finally {
      deliveryScope = null;
    }
    state.cancelledWhileDelivering();
    return deliver(input, state.task, key, notificationView(input, state, 'completion'), await handOver());
  }
}

/** Search attributes and the Web UI's current details follow every change of the task. */
function publish(state: TaskState): void {
  upsertTaskSearchAttributes(state);
  showDetails(state);
}

/** The Web UI's current details (workflow metadata, not a history event). */
function showDetails(state: TaskState): void {
  setCurrentDetails(state.details());
}

/** Upserts the search attributes when one of them differs from what the workflow last set. */
function searchAttributesOnChange(state: TaskState): () => void {
  // The first batch always upserts: the run starts as `running`, never as the starter's `queued`.
  let shown = '';
  return () => {
    const now = JSON.stringify(state.searchAttributes());
    if (now === shown) return;
    shown = now;
    upsertTaskSearchAttributes(state);
  };
}

function upsertTaskSearchAttributes(state: TaskState): void {
  const { status, notificationStatus, notifyTarget } = state.searchAttributes();
  upsertSearchAttributes([
    { key: CodexTaskStatusKey, value: status },
    { key: NotificationStatusKey, value: notificationStatus },
    { key: NotifyTargetKey, value: notifyTarget },
  ]);
}

/** Tells the person what is asked, then declines it if nobody answers before the deadline. */
async function askPerson(input: TaskWorkflowInput, state: TaskState, request: CodexRequest): Promise<void> {
  const taskId = state.task.task_id;
  const { request_id, kind, summary, details, options } = request;
  const asked = notificationView(input, state, 'request', {
    request_id,
    kind,
    summary,
    details,
    ...(options ? { options } : {}),
  });
  await CancellationScope.nonCancellable(() => deliver(input, state.task, requestKey(taskId, request_id), asked));
  const answered = await condition(
    () => state.answerOf(request_id) !== undefined || isTerminalStatus(state.task.status),
    input.request_timeout_ms,
  );
  if (answered || isTerminalStatus(state.task.status)) return;
  state.answerRequest(request_id, expiredAnswer(kind));
  const expired = notificationView(input, state, 'request_expired', { request_id, kind, summary });
  await CancellationScope.nonCancellable(() =>
    deliver(input, state.task, requestExpiredKey(taskId, request_id), expired),
  );
}

function validateInput(input: TaskWorkflowInput): void {
  const fail = (msg: string): never => {
    throw ApplicationFailure.nonRetryable(msg, INVALID_TASK_INPUT);
  };
  if (!input || typeof input !== 'object' || !input.task) fail('The workflow input must carry a task document.');
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') fail('The prompt must not be empty.');
  if (input.task.task_id !== workflowInfo().workflowId)
    fail(`task_id ${input.task.task_id} must equal the workflow id ${workflowInfo().workflowId}.`);
  if (input.task.notify_target !== null) {
    try {
      parseNotifyTarget(input.task.notify_target);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  if (!(input.turn_timeout_ms > 0) || !(input.request_timeout_ms > 0))
    fail('turn_timeout_ms and request_timeout_ms must be positive.');
}
