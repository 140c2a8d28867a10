// The Temporal activity around CodexRunner: heartbeats the turn's progress (and the app-server's
// pid, so that a retry after a worker crash can reap it), turns Temporal cancellation into an
// interrupted turn, and reports errors as typed ApplicationFailures (see errors.ts).
import { createHash } from 'node:crypto';
import { CancelledFailure } from '@temporalio/common';
import { Context, type Info } from '@temporalio/activity';
import type { CodexRunner } from './codex-runner';
import { toCodexActivityFailure } from './errors';
import { HeartbeatThrottle } from './heartbeat-throttle';
import { withQuotaReset } from './usage-limit';
import { reapOrphanAppServer } from './orphan-reaper';
import { killTaggedProcesses, taggedProcesses } from './process-sweep';
import type { ReplyRelay } from '../reply-relay';
import type { RequestRelay } from '../request-relay';
import type { TurnEventPublisher } from '../turn-event-publisher';
import type { ProgressMessenger } from '../progress-messages';
import type { CodexHeartbeat, CodexTurnInput, CodexTurnResult } from '../../src/contract/codex-turn';

export interface RunCodexTurnActivityOptions {
  /** Used when the input's serverRequestPolicy is `ask`; without it such requests are declined. */
  relay?: RequestRelay;
  /** Carries replies sent while the turn runs into it; without it they wait for the next turn. */
  replies?: ReplyRelay;
  /** Publishes the turn's progress events (for `logs`, the API's event stream, progress messages). */
  events?: TurnEventPublisher;
  /** The turn's progress message in the task's chat, where the channel can edit one. */
  progress?: ProgressMessenger;
  /** Called with each heartbeat sent (e.g. to mirror progress into the workflow). */
  onProgress?(taskId: string, heartbeat: CodexHeartbeat, activity: Context): void;
  /** Heartbeat at least this often. Default 2000 ms. */
  heartbeatIntervalMs?: number;
}

export function createRunCodexTurnActivity(runner: CodexRunner, options: RunCodexTurnActivityOptions = {}) {
  return async function runCodexTurn(input: CodexTurnInput): Promise<CodexTurnResult> {
    const context = Context.current();
    const orphan = await reapOrphanAppServer(context.info.heartbeatDetails);
    if (orphan?.reaped)
      context.log.warn('Killed the Codex app-server a previous attempt left running', { pid: orphan.pid });
    // A worker killed within its heartbeat throttle interval (1-2 s) never sent the heartbeat with
    // its app-server's pid and tag, but the tag of every earlier attempt is known here.
    for (let attempt = 1; attempt < context.info.attempt; attempt++) {
      const tag = attemptProcessTag(context.info, input, attempt);
      if (taggedProcesses(tag).length === 0) continue;
      await killTaggedProcesses(tag, 500);
      context.log.warn('Killed what a previous attempt of this Codex turn left running', { attempt });
    }

    const heartbeats = new HeartbeatThrottle(
      (heartbeat) => {
        context.heartbeat(heartbeat);
        options.onProgress?.(input.taskId, heartbeat, context);
      },
      options.heartbeatIntervalMs ?? 2000,
      {
        pid: null,
        processTag: null,
        threadId: input.threadId,
        turnId: null,
        itemsStarted: 0,
        itemsCompleted: 0,
        currentItem: null,
      },
    );
    const relay = options.relay;
    const sinks = [
      options.events?.(input.taskId, input.turn, context.info.attempt),
      options.progress?.(input.taskId, input.turn, input.notifyTarget ?? null),
    ].filter((sink) => sink != null);
    try {
      const result = await runner.runTurn(input, {
        signal: context.cancellationSignal,
        attempt: context.info.attempt,
        processTag: attemptProcessTag(context.info, input, context.info.attempt),
        onProgress: (heartbeat) => heartbeats.update(heartbeat),
        replies: options.replies?.(input.taskId, input.turn, context),
        onEvent: sinks.length ? (event) => sinks.forEach((sink) => sink.push(event)) : undefined,
        onServerRequest:
          input.serverRequestPolicy === 'ask' && relay
            ? (request, signal) => relay(input.taskId, request, { signal, activity: context })
            : undefined,
      });
      if (context.cancellationSignal.aborted) {
        // Temporal expects a cancelled activity to throw; the partial result rides along as details.
        const reason: unknown = context.cancellationSignal.reason;
        throw new CancelledFailure(reason instanceof Error ? reason.message : 'CANCELLED', [result]);
      }
      return withQuotaReset(result);
    } catch (err) {
      throw toCodexActivityFailure(err);
    } finally {
      heartbeats.stop();
      await Promise.all(sinks.map((sink) => sink.end()));
    }
  };
}

export type RunCodexTurnActivity = ReturnType<typeof createRunCodexTurnActivity>;

/** The process tag of one attempt of one Codex turn activity (UUID-shaped, derived, never random). */
export function attemptProcessTag(
  info: Pick<Info, 'workflowExecution' | 'activityId'>,
  input: Pick<CodexTurnInput, 'taskId' | 'turn'>,
  attempt: number,
): string {
  const hex = createHash('sha256')
    .update(
      [
        info.workflowExecution?.workflowId,
        info.workflowExecution?.runId,
        info.activityId,
        input.taskId,
        input.turn,
        attempt,
      ].join('\0'),
    )
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
