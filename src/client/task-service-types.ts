// The shapes the client service takes and gives; the CLI and the HTTP API are thin edges over it.
import type { ApprovalDecision, ApprovalPolicy, SandboxMode, TaskDocument, TaskStatus } from '../contract/task';
import type { TaskListFilter } from '../store/task-store';
import type { TaskEvent } from '../contract/task-events';

export interface StartTaskRequest {
  prompt: string;
  cwd?: string;
  notify_target?: string | null;
  model?: string | null;
  sandbox?: SandboxMode;
  approval_policy?: ApprovalPolicy;
  task_id?: string;
}

/** Answers to a `requestUserInput`: question id → the chosen or typed answers. */
export type UserInputAnswers = Record<string, string[]>;

export interface WatcherReportItem {
  task_id: string;
  status: TaskStatus;
  notify_target: string | null;
  /** What the watcher did (or, in a dry run, would do). */
  action: 'send' | 'sent' | 'failed' | 'mark_no_target' | 'marked_no_target' | 'skipped_workflow_running';
  message?: string;
  error?: string;
}

export interface WatcherReport {
  dry_run: boolean;
  scanned: number;
  sent: number;
  failed: number;
  no_target: number;
  skipped: number;
  items: WatcherReportItem[];
}

/** What the CLI and HTTP API call. Every method throws BridgeError subclasses (src/errors.ts). */
export interface TaskServiceApi {
  start(request: StartTaskRequest): Promise<TaskDocument>;
  status(taskId: string): Promise<TaskDocument>;
  list(filter: TaskListFilter): Promise<TaskDocument[]>;
  cancel(taskId: string): Promise<void>;
  approve(taskId: string, requestId: string, decision: ApprovalDecision): Promise<TaskDocument>;
  answer(taskId: string, requestId: string, answers: UserInputAnswers): Promise<TaskDocument>;
  reply(taskId: string, prompt: string, replyId?: string): Promise<TaskDocument>;
  notifyCompleted(options: { dryRun?: boolean; retryFailed?: boolean }): Promise<WatcherReport>;
  /** The current turn's progress events; with `follow`, until the turn ends. */
  events(taskId: string, options?: { follow?: boolean; pollMs?: number; signal?: AbortSignal }): AsyncIterable<TaskEvent>;
}
