// The task's vocabulary, shared by the workflow, activities, store and edges.
// Pure: no Node APIs, so workflow code may import it.
import type { DeliveredReply, QueuedReply } from './replies';

/** Task ids name Temporal workflows and MongoDB documents; the edges and the service check them. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MAX_PROMPT_LENGTH = 100_000;

export const TASK_STATUSES = [
  'queued',
  'running',
  'waiting_for_input',
  'waiting_for_quota',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_TASK_STATUSES = ['completed', 'failed', 'cancelled', 'timed_out'] as const;
export type TerminalTaskStatus = (typeof TERMINAL_TASK_STATUSES)[number];

export function isTerminalStatus(status: TaskStatus): status is TerminalTaskStatus {
  return (TERMINAL_TASK_STATUSES as readonly string[]).includes(status);
}

/**
 * The notification lifecycle of a task:
 * - `pending`: a target exists, delivery not yet confirmed;
 * - `sent`: delivered (`notified_at` says when);
 * - `failed`: delivery given up (`notification_error` says why);
 * - `no_target`: terminal task without a target: never sent, never picked up again.
 * `null` while a task without a target is still running.
 */
export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed', 'no_target'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

export const APPROVAL_POLICIES = ['never', 'on-request', 'untrusted'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

/** Where a task runs: in its cwd as it is, or in a fresh git worktree on a branch of its own. */
export const ISOLATION_MODES = ['none', 'worktree'] as const;
export type IsolationMode = (typeof ISOLATION_MODES)[number];

/** A task's git worktree: where Codex ran, and what it left on the task's branch. */
export interface WorktreeRecord {
  path: string;
  /** The commit of the cwd the branch started from. */
  base_commit: string;
  /** Commits on the branch since base_commit, oldest first: Codex's own, then the bridge's snapshot. */
  commits: { sha: string; subject: string }[];
  /** `git diff --stat` of what Codex left uncommitted, saved by the bridge as the branch's last commit. */
  uncommitted_diff_stat: string | null;
  /** Whether the worktree directory has been removed (the branch always stays). */
  removed: boolean;
}

/** The answers a person can give to a pending approval. */
export const APPROVAL_DECISIONS = ['accept', 'accept_for_session', 'decline', 'cancel'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export type PendingRequestKind = 'command_approval' | 'file_change_approval' | 'permissions_approval' | 'user_input';

/** An approval or question waiting for a person, as the task document lists it. */
export interface PendingRequest {
  request_id: string;
  kind: PendingRequestKind;
  summary: string;
  created_at: string;
}

/** An approval or question as Codex asks it, handed from the Codex activity to the workflow. */
export interface CodexRequest {
  /** Unique within the task: `${taskId}-t${turn}-r${n}` (`-a${attempt}` before `-r` after a retry). */
  request_id: string;
  kind: PendingRequestKind;
  /** One line for lists and chat titles. */
  summary: string;
  /** What a person needs to decide: command and cwd, files and diff excerpt, questions and options. */
  details: string;
  /** A question's choices (question id and option label), for front ends with buttons. */
  options?: QuestionOption[];
  /**
   * The activity attempt that asked (absent: 1). A later attempt's request that repeats an earlier
   * attempt's word for word is the same request: the workflow maps it to the earlier id.
   */
  attempt?: number;
}

/** One choice of a question Codex asks: answering it is `{ [question_id]: [label] }`. */
export interface QuestionOption {
  question_id: string;
  label: string;
}

/** Who answered a request: the turn's policy, a person, or the deadline (which declines). */
export type RequestAnsweredBy = 'policy' | 'person' | 'deadline';

/** The answer to a CodexRequest: a decision for an approval, answers for a question. */
export type RequestAnswer =
  | { decision: ApprovalDecision; answered_by: RequestAnsweredBy }
  | { answers: Record<string, string[]>; answered_by: RequestAnsweredBy };

export interface CommandRecord {
  command: string;
  exit_code: number | null;
  status: string;
  output: string;
  duration_ms: number | null;
}

export interface FileChangeRecord {
  path: string;
  kind: string;
  diff: string;
}

export interface TokenUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export interface TaskResult {
  final_message: string | null;
  summary: string;
  thread_id: string | null;
  turn_id: string | null;
  usage: TokenUsage | null;
  commands: CommandRecord[];
  file_changes: FileChangeRecord[];
  diff: string | null;
}

export interface TaskError {
  type: string;
  message: string;
}

/** One Codex turn of a task (the first prompt, then each `reply`). */
export interface TurnRecord {
  turn: number;
  prompt: string;
  status: TaskStatus;
  result: TaskResult | null;
  error: TaskError | null;
  notification_status: NotificationStatus | null;
  notified_at: string | null;
  notification_error: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Replies this turn took: as its input, or added while it ran (absent: none). */
  replies?: DeliveredReply[];
}

/** The task document: what MongoDB holds and status/list/API return. */
export interface TaskDocument {
  task_id: string;
  workflow_id: string;
  run_id: string | null;
  prompt: string;
  cwd: string;
  model: string | null;
  sandbox: SandboxMode;
  approval_policy: ApprovalPolicy;
  /** Absent on tasks started before isolation existed: they ran in their cwd. */
  isolation?: IsolationMode;
  /** `codex/<task_id>` for a worktree task, once its worktree exists. */
  branch?: string | null;
  worktree?: WorktreeRecord | null;
  status: TaskStatus;
  /** While `queued` for a slot: how many queued tasks are ahead. */
  queue_position?: number | null;
  /** While `waiting_for_quota`: when the turn is tried again (ISO-8601). */
  resumes_at?: string | null;
  notify_target: string | null;
  notification_status: NotificationStatus | null;
  notified_at: string | null;
  notification_error: string | null;
  notification_attempts: number;
  pending_requests: PendingRequest[];
  /** Replies sent while a turn ran that wait for the next turn, in order (absent: none). */
  queued_replies?: QueuedReply[];
  result: TaskResult | null;
  error: TaskError | null;
  turns: TurnRecord[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  /** Monotonic per task: the mirror applies a write only if it is newer than what is stored. */
  version: number;
}

/** What a task is known to be before its workflow runs: queued, no turns, no notification yet. */
export interface NewTask {
  task_id: string;
  prompt: string;
  cwd: string;
  model: string | null;
  sandbox: SandboxMode;
  approval_policy: ApprovalPolicy;
  notify_target: string | null;
  /** Default `none`. */
  isolation?: IsolationMode;
  /** ISO-8601 time; created_at and updated_at. */
  created_at: string;
}

/** The task document for a newly started task (the workflow id is the task id). */
export function newTaskDocument(task: NewTask): TaskDocument {
  return {
    ...task,
    isolation: task.isolation ?? 'none',
    workflow_id: task.task_id,
    run_id: null,
    status: 'queued',
    branch: null,
    worktree: null,
    notification_status: null,
    notified_at: null,
    notification_error: null,
    notification_attempts: 0,
    pending_requests: [],
    result: null,
    error: null,
    turns: [],
    started_at: null,
    finished_at: null,
    updated_at: task.created_at,
    version: 0,
  };
}

/**
 * The task once its completion message was delivered at `at` (the channel's confirmation time) by
 * delivery attempt `attempts`. The workflow records it and the delivery activity mirrors it in the
 * same step, so both compute it here. The version moves on by the attempt number: an attempt whose
 * result never reached the workflow (its worker or Temporal went down) may have mirrored its own
 * sent document, and the attempt that completes must supersede it.
 */
export function withNotificationSent(task: TaskDocument, at: string, attempts: number): TaskDocument {
  const sent = { notification_status: 'sent', notified_at: at, notification_error: null } as const;
  const turns = task.turns.map((turn, i) => (i === task.turns.length - 1 ? { ...turn, ...sent } : turn));
  return {
    ...task,
    ...sent,
    turns,
    notification_attempts: attempts,
    version: task.version + Math.max(1, attempts),
    updated_at: at,
  };
}
