// The task workflow's messages as they were released before the askPerson update (see
// task-workflow.ts beside this file).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, PendingRequestKind, TaskDocument } from '../../../src/contract/task';

/** Stop the task: the Codex turn is interrupted, its process reaped, and the cancellation notified. */
export const cancelSignal = defineSignal<[{ reason?: string }?]>('cancel');

/** Add, change or clear (null) the notify target while the task runs. Validated against the grammar. */
export const setNotifyTargetUpdate = defineUpdate<TaskDocument, [{ notify_target: string | null }]>('setNotifyTarget');

/** Answer a pending approval. Rejected (before anything is recorded) when the request is not pending. */
export const approveUpdate = defineUpdate<TaskDocument, [{ request_id: string; decision: ApprovalDecision }]>('approve');

/** Answer a pending `requestUserInput`: question id → answers. */
export const answerUpdate = defineUpdate<TaskDocument, [{ request_id: string; answers: Record<string, string[]> }]>('answer');

/** The task document as the workflow holds it now (fresher than the MongoDB mirror). */
export const getTaskQuery = defineQuery<TaskDocument>('getTask');

// --- between the Codex activity and its workflow -------------------------------------------

export interface CodexServerRequestPayload {
  request_id: string;
  kind: PendingRequestKind;
  /** One line for lists and chat titles. */
  summary: string;
  /** What a person needs to decide: command and cwd, files and diff excerpt, questions and options. */
  details: string;
  /**
   * The activity attempt that asked (absent: 1). A later attempt's request that repeats an earlier
   * attempt's word for word is the same request: the workflow maps it to the earlier id.
   */
  attempt?: number;
}

/** The activity hands an approval or question to the workflow, which asks the person. */
export const codexServerRequestSignal = defineSignal<[CodexServerRequestPayload]>('codexServerRequest');

export interface CodexProgressPayload {
  items_started: number;
  items_completed: number;
  current_item: string | null;
  thread_id: string | null;
}

/** Throttled progress from the activity, shown in the Web UI's current details. */
export const codexProgressSignal = defineSignal<[CodexProgressPayload]>('codexProgress');

export type RequestAnswer =
  | { kind: 'decision'; decision: ApprovalDecision; answered_by: 'person' | 'deadline' }
  | { kind: 'answers'; answers: Record<string, string[]>; answered_by: 'person' | 'deadline' };

/** The activity polls this while the app-server waits; null while nobody has answered. */
export const getRequestAnswerQuery = defineQuery<RequestAnswer | null, [string]>('getRequestAnswer');
