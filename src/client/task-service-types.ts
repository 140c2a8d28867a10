// The shapes the client service takes and gives; the CLI and the HTTP API are thin edges over it.
import type { TaskListFilter, TaskListPage } from '../store/task-store';
import type {
  ApprovalDecision,
  ApprovalPolicy,
  IsolationMode,
  SandboxMode,
  TaskDocument,
  TaskStatus,
} from '../contract/task';
import type { ScheduleDocument, ScheduleOverlap } from '../contract/schedule';
import type { TaskEvent } from '../contract/task-events';

export interface StartTaskRequest {
  prompt: string;
  cwd?: string;
  notify_target?: string | null;
  model?: string | null;
  sandbox?: SandboxMode;
  approval_policy?: ApprovalPolicy;
  isolation?: IsolationMode;
  task_id?: string;
}

/** A recurring task: when it runs, and the task each run starts (the fields of `start`). */
export interface CreateScheduleRequest extends Omit<StartTaskRequest, 'task_id'> {
  schedule_id?: string;
  /** Cron expressions (5 fields; a 6th is the year; 7 put seconds first), UTC unless `timezone` says otherwise. */
  cron: string[];
  /** An IANA time zone name, e.g. Europe/Berlin. */
  timezone?: string;
  /** What a run due while the previous task still runs does; default `skip`. */
  overlap?: ScheduleOverlap;
  /** Create it paused. */
  paused?: boolean;
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
  list(filter: TaskListFilter): Promise<TaskListPage>;
  cancel(taskId: string): Promise<void>;
  approve(taskId: string, requestId: string, decision: ApprovalDecision): Promise<TaskDocument>;
  answer(taskId: string, requestId: string, answers: UserInputAnswers): Promise<TaskDocument>;
  reply(taskId: string, prompt: string, replyId?: string): Promise<TaskDocument>;
  notifyCompleted(options: { dryRun?: boolean; retryFailed?: boolean }): Promise<WatcherReport>;
  createSchedule(request: CreateScheduleRequest): Promise<ScheduleDocument>;
  listSchedules(): Promise<ScheduleDocument[]>;
  describeSchedule(scheduleId: string): Promise<ScheduleDocument>;
  /** Pauses (true) or unpauses (false) a schedule; `note` says why, in the Web UI too. */
  pauseSchedule(scheduleId: string, paused: boolean, note?: string): Promise<ScheduleDocument>;
  deleteSchedule(scheduleId: string): Promise<void>;
  /** The current turn's progress events; with `follow`, until the turn ends. */
  events(
    taskId: string,
    options?: { follow?: boolean; pollMs?: number; signal?: AbortSignal },
  ): AsyncIterable<TaskEvent>;
}
