// Signals, updates and queries of a task workflow. The client, the activities and the CLI import
// these same constants, so message names and payloads are typed end to end. The README lists them
// with JSON payloads for `temporal workflow signal|update|query`.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, CodexRequest, RequestAnswer, TaskDocument } from './task';

/** Stop the task: the Codex turn is interrupted, its process reaped, and the cancellation notified. */
export const cancelSignal = defineSignal<[{ reason?: string }?]>('cancel');

/** Add, change or clear (null) the notify target while the task runs. Validated against the grammar. */
export const setNotifyTargetUpdate = defineUpdate<TaskDocument, [{ notify_target: string | null }]>('setNotifyTarget');

/** Answer a pending approval. Rejected (before anything is recorded) when the request is not pending. */
export const approveUpdate = defineUpdate<TaskDocument, [{ request_id: string; decision: ApprovalDecision }]>(
  'approve',
);

/** Answer a pending `requestUserInput`: question id → answers. */
export const answerUpdate = defineUpdate<TaskDocument, [{ request_id: string; answers: Record<string, string[]> }]>(
  'answer',
);

/** The task document as the workflow holds it now (fresher than the MongoDB mirror). */
export const getTaskQuery = defineQuery<TaskDocument>('getTask');

// --- between the Codex activity and its workflow -------------------------------------------

/**
 * The Codex activity asks a person through the workflow and waits for the answer: the handler
 * records the request, tells the person, and returns once they answer (or the deadline declines
 * it). The activity passes the request id as the update id, so asking again returns the same
 * answer. Null: the turn ended before anyone answered.
 */
export const askPersonUpdate = defineUpdate<RequestAnswer | null, [CodexRequest]>('askPerson');

/**
 * How the Codex activity handed over a request before askPerson existed (it then polled for the
 * answer). Nothing sends it any more; the workflow still handles it so that histories recorded
 * with it replay, and tasks that asked through it finish.
 */
export const codexServerRequestSignal = defineSignal<[CodexRequest]>('codexServerRequest');

export interface CodexProgressPayload {
  items_started: number;
  items_completed: number;
  current_item: string | null;
  thread_id: string | null;
}

/** Throttled progress from the activity, shown in the Web UI's current details. */
export const codexProgressSignal = defineSignal<[CodexProgressPayload]>('codexProgress');

/**
 * From the completion's delivery activity once the delivery is slow (a first attempt over a
 * second, a failed attempt, a retry): the search attributes then show the notification pending.
 * A delivery that ends sooner sends nothing, and the upsert after it shows the outcome.
 */
export const notificationPendingSignal = defineSignal('notificationPending');
