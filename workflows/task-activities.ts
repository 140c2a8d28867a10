// The task workflow's calls to its activities, each with its timeouts and retry policy: the Codex
// turn, one durable delivery, and the mirror that keeps MongoDB in step with the task.
import type { NotificationKind, TaskNotificationView } from '../src/contract/notification';
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { CodexTurnInput, CodexTurnResult } from '../src/contract/codex-turn';
import { CODEX_NON_RETRYABLE_TYPES, NOTIFY_NON_RETRYABLE_TYPES } from '../src/contract/failure-types';
import { describeNotifyTarget } from '../src/contract/notify-target';
import type { TaskDocument } from '../src/contract/task';
import { oneLine } from '../src/contract/text';
import type { TaskState } from './task-state';
import { deliveryFailure, type Delivery } from './task-transitions';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';

type Activities = ReturnType<typeof createActivities>;

const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
const DEFAULT_NOTIFY_DEADLINE_MS = 24 * 60 * 60_000;

/** Runs this run's Codex turn; the activity heartbeats, and is retried when its worker is lost. */
export function runCodexTurn(
  input: TaskWorkflowInput,
  state: TaskState,
  mirror?: TaskDocument,
): Promise<CodexTurnResult> {
  const task = state.task;
  // A person's decision time is not the turn's: the bound allows for the longest wait for one.
  const waitAllowance = input.server_request_policy === 'ask' ? input.request_timeout_ms : 0;
  const codex = proxyActivities<Activities>({
    // The activity enforces the turn timeout itself (and reports `timed_out`); this bound only
    // catches a turn that cannot even do that.
    startToCloseTimeout: input.turn_timeout_ms + waitAllowance + 5 * 60_000,
    heartbeatTimeout: input.heartbeat_timeout_ms ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...CODEX_NON_RETRYABLE_TYPES] },
    summary: `Codex turn ${state.turnNumber}: ${oneLine(input.prompt, 60)}`,
  });
  const previousTurn = task.turns.length > 1 ? task.turns[task.turns.length - 2] : undefined;
  const turnInput: CodexTurnInput = {
    taskId: task.task_id,
    turn: state.turnNumber,
    prompt: input.prompt,
    cwd: state.workingDirectory,
    model: task.model,
    sandbox: task.sandbox,
    approvalPolicy: task.approval_policy,
    threadId: previousTurn?.result?.thread_id ?? null,
    timeoutMs: input.turn_timeout_ms,
    serverRequestPolicy: input.server_request_policy,
    ...(mirror ? { mirror } : {}),
    notifyTarget: task.notify_target,
  };
  return codex.runCodexTurn(turnInput);
}

/** One durable delivery: retried with backoff until sent, rejected for good, or out of time. */
export async function deliver(
  input: TaskWorkflowInput,
  task: TaskDocument,
  idempotencyKey: string,
  view: TaskNotificationView,
  mirror?: TaskDocument,
  options: { signalPending?: boolean } = {},
): Promise<Delivery> {
  if (!task.notify_target) return { ok: false, error: 'no notify target', attempts: 0 };
  const notify = proxyActivities<Activities>({
    // Above every channel's per-request timeout (at most 100 s, checked by the config).
    startToCloseTimeout: '2m',
    scheduleToCloseTimeout: input.notify_deadline_ms ?? DEFAULT_NOTIFY_DEADLINE_MS,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '10m',
      nonRetryableErrorTypes: [...NOTIFY_NON_RETRYABLE_TYPES],
    },
    summary: `Notify ${describeNotifyTarget(task.notify_target)} (${view.kind})`,
  });
  try {
    const receipt = await notify.deliverNotification({
      target: task.notify_target,
      idempotencyKey,
      view,
      ...(mirror ? { mirror } : {}),
      ...(options.signalPending ? { signalPending: true } : {}),
    });
    // With a mirror, the time the channel confirmed, as the activity mirrored it (recorded in the
    // history with the result); otherwise workflow time, as runs before that recorded it.
    if (mirror)
      return {
        ok: true,
        at: receipt.deliveredAt,
        attempts: receipt.attempt,
        mirroredVersion: receipt.mirroredVersion ?? null,
      };
    return { ok: true, at: new Date().toISOString(), attempts: receipt.attempt };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return deliveryFailure(err);
  }
}

/** What a message about the task says: the task as it stands, and the request it asks about. */
export function notificationView(
  input: TaskWorkflowInput,
  state: TaskState,
  kind: NotificationKind,
  request?: TaskNotificationView['request'],
): TaskNotificationView {
  const { task } = state;
  // This run's turn; none yet while the run waits for a slot.
  const turn = task.turns[state.turnNumber - 1];
  return {
    task_id: task.task_id,
    turn: state.turnNumber,
    kind,
    status: task.status,
    prompt: input.prompt,
    cwd: task.cwd,
    result: task.result,
    error: task.error,
    started_at: turn?.started_at ?? null,
    finished_at: turn?.finished_at ?? null,
    notify_target: task.notify_target,
    request,
    ...(task.branch ? { branch: task.branch, worktree: task.worktree ?? null } : {}),
  };
}

export interface MirrorOptions {
  /** Runs before each write, once per batch of changes (the search attributes follow here). */
  beforeWrite?: () => void;
}

/**
 * Keeps the MongoDB mirror in step: one write in flight, the latest version wins, and the main
 * line never waits for it (the store may be down for a while). `finish` writes what is left;
 * `written` skips a version an activity mirrored itself.
 */
export interface Mirror {
  finish(): Promise<void>;
  /** An activity mirrored this version along with its own work: no write of its own for it. */
  written(version: number): void;
  /** Resolves once no write is in flight, so that an activity's own write cannot race one. */
  idle(): Promise<void>;
}

export function startMirror(state: TaskState, options: MirrorOptions = {}): Mirror {
  let mirroredVersion = state.task.version; // the starter stored this version already
  let done = false;
  let inFlight: Promise<void> | null = null;
  const mirror = proxyActivities<Activities>({
    startToCloseTimeout: '20s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: 'Mirror task state to MongoDB',
  });
  const pump = CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => state.task.version > mirroredVersion || done);
      // Nothing newer: either finished, or an activity mirrored the change that woke the pump.
      if (state.task.version <= mirroredVersion) {
        if (done) return;
        continue;
      }
      options.beforeWrite?.();
      const snapshot: TaskDocument = JSON.parse(JSON.stringify(state.task)); // no structuredClone in the workflow sandbox
      inFlight = mirror.mirrorTask(snapshot);
      await inFlight;
      inFlight = null;
      mirroredVersion = Math.max(mirroredVersion, snapshot.version);
    }
  });
  return {
    finish: () => {
      done = true;
      return pump;
    },
    written: (version) => {
      mirroredVersion = Math.max(mirroredVersion, version);
    },
    idle: async () => {
      while (inFlight) await inFlight;
    },
  };
}
