// Hands an approval or question Codex asks to the task's workflow and waits for the person's answer.
// One waiting Update per request: the workflow's `askPerson` handler records the request, tells the
// person, and returns when they answer or the deadline declines it; the client long-polls for that
// result, so nothing is polled here. The request id is the update id: asking again (a lost
// connection, a repeated call) attaches to the same update and gets the same answer.
//
// The Codex activity stays alive while a person decides, because Codex's app-server cannot resume a
// pending request in another process: the answer must reach the process that asked.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '@temporalio/activity';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { CodexRequest, RequestAnswer } from '../src/contract/task';
import { askPersonUpdate } from '../src/contract/messages';

/** Asks a person through the task's workflow; resolves with their (or the deadline's) answer. */
export type RequestRelay = (
  taskId: string,
  request: CodexRequest,
  options: { signal: AbortSignal; activity: Context },
) => Promise<RequestAnswer>;

export function createRequestRelay(options: { retryDelayMs?: number } = {}): RequestRelay {
  const retryDelayMs = options.retryDelayMs ?? 1000;
  return async (taskId, request, { signal, activity }) => {
    const handle = activity.client.workflow.getHandle(taskId);
    for (;;) {
      signal.throwIfAborted();
      try {
        const answer = await handle.executeUpdate(askPersonUpdate, { args: [request], updateId: request.request_id });
        if (!answer) throw new Error(`The turn ended before request ${request.request_id} was answered.`);
        return answer;
      } catch (err) {
        // The call failed, not the update (a timeout, Temporal briefly unreachable): ask again for
        // the same update. A refused update, or a workflow that is gone, ends the wait.
        const transient = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || err instanceof ServiceError;
        if (!transient) throw err;
      }
      await sleep(retryDelayMs, undefined, { signal });
    }
  };
}
