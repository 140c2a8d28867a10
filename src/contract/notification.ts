// What the workflow hands the delivery activity: a snapshot of the task at the moment of an event.
// The activity builds the message from it (activities/notify/message.ts).
import type { PendingRequestKind, QuestionOption, TaskError, TaskResult, TaskStatus, WorktreeRecord } from './task';

/** What is being told: a finished turn, a question waiting for a person or expired, a pause, a queued turn. */
export type NotificationKind = 'completion' | 'request' | 'request_expired' | 'quota_paused' | 'queued';

/** Everything the message is built from: a snapshot of the task at the moment of the event. */
export interface TaskNotificationView {
  task_id: string;
  turn: number;
  kind: NotificationKind;
  status: TaskStatus;
  prompt: string;
  cwd: string;
  result: TaskResult | null;
  error: TaskError | null;
  started_at: string | null;
  finished_at: string | null;
  notify_target: string | null;
  /** For `quota_paused`: when the turn is tried again, and why it waits. */
  resumes_at?: string;
  quota_reason?: string;
  /** For `queued`: how many queued tasks are ahead. */
  queue_position?: number;
  /** A worktree task's branch, and what its worktree left there. */
  branch?: string;
  worktree?: WorktreeRecord | null;
  /** Set for `request` and `request_expired`: the question waiting for a person. */
  request?: {
    request_id: string;
    kind: PendingRequestKind;
    summary: string;
    /** What exactly is asked: the command and its cwd, the files and a diff excerpt, the questions and options. */
    details?: string;
    /** A question's choices, when it offers some. */
    options?: QuestionOption[];
  };
}
