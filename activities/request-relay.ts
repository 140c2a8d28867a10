// Hands a Codex server request (approval or question) to the task's workflow and waits for the
// person's answer. Activities cannot receive signals, so the activity signals its workflow and then
// polls a query (the activity's heartbeat timer keeps running meanwhile); the workflow owns the
// deadline and the notification.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { codexServerRequestSignal, getRequestAnswerQuery, type CodexServerRequestPayload, type RequestAnswer } from '../workflows/messages';

export type RequestRelay = (taskId: string, request: CodexServerRequestPayload, options: { signal?: AbortSignal }) => Promise<RequestAnswer>;

export function createRequestRelay(client: Client, pollIntervalMs = 500): RequestRelay {
  return async (taskId, request, { signal }) => {
    const handle = client.workflow.getHandle(taskId);
    // The workflow ignores a request id it already knows, so a retried activity may signal again;
    // with the attempt it also recognises a retried attempt asking what an earlier one asked.
    const attempt = request.attempt ?? activityAttempt();
    await handle.signal(codexServerRequestSignal, attempt !== undefined ? { ...request, attempt } : request);
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled while waiting for an answer');
      const answer = await handle.query(getRequestAnswerQuery, request.request_id);
      if (answer) return answer;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  };
}

/** The attempt of the activity this relay runs in (undefined outside an activity). */
function activityAttempt(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}
