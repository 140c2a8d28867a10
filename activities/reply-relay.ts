// Carries replies sent while a turn runs from the task's workflow to the Codex activity: `next`
// waits (one waiting Update, long-polled by the client) for the next queued reply and takes it;
// `settle` tells the workflow whether Codex took it into the turn. Update ids name the turn, the
// attempt and the call, so a call repeated after a lost connection attaches to the same update.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '@temporalio/activity';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { settleReplyUpdate, takeReplyUpdate } from '../src/contract/replies';

export interface TurnReplies {
  /** The next reply for the running turn; null once the workflow says the turn is over. */
  next(signal: AbortSignal): Promise<{ reply_id: string; prompt: string } | null>;
  settle(replyId: string, steered: boolean, reason?: string): Promise<void>;
}

export type ReplyRelay = (taskId: string, turn: number, activity: Context) => TurnReplies;

export function createReplyRelay(options: { retryDelayMs?: number } = {}): ReplyRelay {
  const retryDelayMs = options.retryDelayMs ?? 1000;
  return (taskId, turn, activity) => {
    // Resolved per call: an activity run outside a worker (unit tests) has no client to build it with.
    const handle = () => activity.client.workflow.getHandle(taskId);
    const prefix = `${taskId}-t${turn}-a${activity.info.attempt}`;
    let taken = 0;
    const retrying = async <T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
      for (;;) {
        signal?.throwIfAborted();
        try {
          return await call();
        } catch (err) {
          // The call failed, not the update: ask again for the same update id.
          const transient = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || err instanceof ServiceError;
          if (!transient) throw err;
        }
        await sleep(retryDelayMs, undefined, signal ? { signal } : undefined);
      }
    };
    return {
      next(signal) {
        const updateId = `${prefix}-take-${++taken}`;
        return retrying(() => handle().executeUpdate(takeReplyUpdate, { args: [{ turn }], updateId }), signal);
      },
      settle(replyId, steered, reason) {
        const updateId = `${prefix}-settle-${replyId}`;
        return retrying(() =>
          handle().executeUpdate(settleReplyUpdate, {
            args: [{ reply_id: replyId, steered, ...(reason ? { reason } : {}) }],
            updateId,
          }),
        );
      },
    };
  };
}
