// The worker's activities, built from their dependencies. The worker is the one place that builds
// the real ones (Codex runner, notifier registry, MongoDB store); tests inject fakes here.
import { Context } from '@temporalio/activity';
import * as os from 'node:os';
import * as path from 'node:path';
import { withNotificationSent, type TaskDocument } from '../src/contract/task';
import type { CodexTurnInput, CodexTurnResult } from '../src/contract/codex-turn';
import {
  createDeliverNotificationActivity,
  type DeliverNotificationInput,
  type DeliverNotificationResult,
} from './notify/deliver-notification';
import type { Notifier } from './notify/notifier';
import { requestSlot } from './admission';
import { notificationPendingSignal } from '../src/contract/messages';
import { createWorktreeActivities, type WorktreeSettings } from './workspace/git-worktree';

/** What mirrorTask needs of the store. */
export interface TaskMirror {
  applyMirror(doc: TaskDocument): Promise<'applied' | 'stale'>;
}

/** Hooks for metrics: each delivery attempt's outcome. */
export interface DeliveryObserver {
  delivered?(input: DeliverNotificationInput, result: DeliverNotificationResult): void;
  failed?(input: DeliverNotificationInput, error: Error): void;
}

export interface ActivityDeps {
  /** Runs one Codex turn: the real app-server activity, or a stand-in in tests and benchmarks. */
  runCodexTurn: (input: CodexTurnInput) => Promise<CodexTurnResult>;
  notifier: Notifier;
  store: TaskMirror;
  uiUrl?: string;
  namespace?: string;
  observer?: DeliveryObserver;
  /** Where worktree tasks get their worktrees; default: none configured (the worker passes the config's). */
  worktrees?: WorktreeSettings;
  /** After each mirror write (metrics). */
  onMirrored?(doc: TaskDocument, outcome: 'applied' | 'stale'): void;
}

export function createActivities(deps: ActivityDeps) {
  const deliver = createDeliverNotificationActivity({
    notifier: deps.notifier,
    uiUrl: deps.uiUrl,
    namespace: deps.namespace,
  });
  const write = async (doc: TaskDocument): Promise<void> => {
    const outcome = await deps.store.applyMirror(doc);
    deps.onMirrored?.(doc, outcome);
  };
  return {
    /**
     * Runs the turn and mirrors it as running once it has run for RUNNING_SHOWN_AFTER_MS (in the
     * background, retried while the turn runs): a shorter turn goes straight to its outcome, one
     * store write fewer, as a delivery goes straight to sent.
     */
    async runCodexTurn(input: CodexTurnInput): Promise<CodexTurnResult> {
      const running = input.mirror;
      if (!running) return deps.runCodexTurn(input);
      const turnDone = new AbortController();
      const writing = afterUnless(RUNNING_SHOWN_AFTER_MS, turnDone.signal, () =>
        writeUntil(write, running, turnDone.signal),
      );
      try {
        return await deps.runCodexTurn(input);
      } finally {
        turnDone.abort();
        // The workflow's next write must not race this one (a conditional update is not atomic on every store).
        await withTimeout(writing, MIRROR_SETTLE_MS).catch(() => undefined);
      }
    },
    requestSlot,
    ...createWorktreeActivities(deps.worktrees ?? { root: defaultWorktreeRoot(), retentionMs: 0 }),

    /**
     * Delivers one message; a retry uses the same idempotency key, so it never posts twice. The
     * pending state is mirrored only when it could be seen: a first attempt that delivers within
     * PENDING_SHOWN_AFTER_MS goes straight to sent (one store write instead of two); a slow, failed
     * or retried delivery shows pending. The delivery never waits for the store.
     */
    async deliverNotification(input: DeliverNotificationInput): Promise<DeliverNotificationResult> {
      const mirror = input.mirror;
      let shown = false;
      let pending: Promise<void> | undefined;
      const showPending = () => {
        if (shown) return pending;
        shown = true;
        // The first attempt tells the workflow when slow or failed, the second in case the first died silently.
        if (input.signalPending && deliveryAttempt() <= 2) tellWorkflowPending(input.view.task_id);
        pending = mirror ? write(mirror).catch(() => undefined) : undefined;
        return pending;
      };
      let timer: NodeJS.Timeout | undefined;
      if (deliveryAttempt() > 1) void showPending();
      else timer = setTimeout(() => void showPending(), PENDING_SHOWN_AFTER_MS);
      try {
        const result = await deliver(input);
        clearTimeout(timer);
        deps.observer?.delivered?.(input, result);
        if (!mirror) return result;
        // One write at a time: the sent state goes after the pending one has settled.
        if (pending) await withTimeout(pending, MIRROR_SETTLE_MS).catch(() => undefined);
        const sent = withNotificationSent(mirror, result.deliveredAt, result.attempt);
        const mirrored = await withTimeout(write(sent), MIRROR_AFTER_DELIVERY_MS).then(
          () => true,
          () => false,
        );
        return { ...result, mirroredVersion: mirrored ? sent.version : null };
      } catch (err) {
        clearTimeout(timer);
        // The next attempt waits its backoff: show the pending state (and do not race the next write).
        await withTimeout(showPending() ?? Promise.resolve(), MIRROR_SETTLE_MS).catch(() => undefined);
        deps.observer?.failed?.(input, err as Error);
        throw err;
      }
    },

    /** Writes the task document to MongoDB; the store ignores stale writes. */
    mirrorTask: write,
  };
}

/** A turn that takes longer than this mirrors the running state while it runs. */
const RUNNING_SHOWN_AFTER_MS = 1_000;
/** A first delivery attempt that takes longer than this mirrors the pending state while it runs. */
const PENDING_SHOWN_AFTER_MS = 1_000;
/** How long a delivered message waits for its mirror write before leaving it to the workflow. */
const MIRROR_AFTER_DELIVERY_MS = 5_000;
/** How long an activity waits for its earlier mirror write to settle before the next one. */
const MIRROR_SETTLE_MS = 2_000;

/** Runs `fn` after `ms`, unless `stop` aborts first. */
function afterUnless(ms: number, stop: AbortSignal, fn: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => resolve(fn()), ms);
    stop.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Writes `doc` until it is stored or `stop` aborts; a write the store refuses is tried again with backoff. */
async function writeUntil(
  write: (doc: TaskDocument) => Promise<void>,
  doc: TaskDocument,
  stop: AbortSignal,
): Promise<void> {
  for (let delayMs = 500; !stop.aborted; delayMs = Math.min(delayMs * 2, 30_000)) {
    if (
      await write(doc).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      stop.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function defaultWorktreeRoot(): string {
  return path.join(os.homedir(), '.codex-bridge', 'worktrees');
}

/** Best effort: the workflow shows the delivery pending (a lost signal leaves it shown as running a little longer). */
function tellWorkflowPending(taskId: string): void {
  try {
    Context.current()
      .client.workflow.getHandle(taskId)
      .signal(notificationPendingSignal)
      .catch(() => undefined);
  } catch {
    // Outside an activity (the repair watcher), or an activity without a client: no workflow to tell.
  }
}

/** The delivery activity's attempt (1 when called outside an activity: the repair watcher, tests). */
function deliveryAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
