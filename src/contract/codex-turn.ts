// What the workflow asks of a Codex turn and what it gets back. Plain data: it crosses the
// Temporal boundary, so workflow code imports these types (type-only).
import type {
  ApprovalPolicy,
  CommandRecord,
  FileChangeRecord,
  PendingRequestKind,
  RequestAnsweredBy,
  SandboxMode,
  TaskDocument,
  TokenUsage,
} from './task';

/** How server requests (approvals, questions) are answered while the turn runs. */
export type ServerRequestPolicy =
  /** Decline every approval and answer questions with nothing (safe default). */
  | 'decline'
  /** Accept every approval (for trusted sandboxes); questions get their first option. */
  | 'accept'
  /** Hand each request to the task's workflow and wait for a person's answer. */
  | 'ask';

export interface CodexTurnInput {
  taskId: string;
  /** 1 for the task's first prompt, then 2, 3… for each follow-up `reply`. */
  turn: number;
  prompt: string;
  cwd: string;
  model: string | null;
  sandbox: SandboxMode;
  approvalPolicy: ApprovalPolicy;
  /** Resume this Codex thread (`thread/resume`) instead of starting a new one. */
  threadId: string | null;
  /** The turn is interrupted and reported `timed_out` after this long. */
  timeoutMs: number;
  serverRequestPolicy: ServerRequestPolicy;
  /** The task as the turn starts, for the activity to mirror (instead of a mirror activity of its own). */
  mirror?: TaskDocument;
  /** Where the task's messages go when the turn starts: a channel that can edit gets a progress message. */
  notifyTarget?: string | null;
}

export type CodexTurnStatus = 'completed' | 'failed' | 'interrupted' | 'timed_out';

/** A request (approval, question) the turn received and how it was answered. */
export interface RequestRecord {
  request_id: string;
  kind: PendingRequestKind;
  summary: string;
  /** The decision or answer given (accept, decline, answers JSON…); `none` if unanswered. */
  answer: string;
  /** `none`: the turn ended (interrupted, timed out) before anyone answered. */
  answered_by: RequestAnsweredBy | 'none';
}

export interface CodexTurnResult {
  status: CodexTurnStatus;
  finalMessage: string | null;
  threadId: string | null;
  turnId: string | null;
  /** Tokens used by this turn alone (the thread's total after minus before). */
  usage: TokenUsage | null;
  commands: CommandRecord[];
  fileChanges: FileChangeRecord[];
  /** Unified diff of the whole turn (`turn/diff/updated`). */
  diff: string | null;
  durationMs: number;
  /** Codex's own error text for a failed turn. */
  error: { type: string; message: string } | null;
  /**
   * Set when the turn failed on the usage or rate limit: when Codex says the limit resets (ISO),
   * or null when it did not say.
   */
  quota_resets_at?: string | null;
  requests: RequestRecord[];
}

/** Heartbeat details: what the Web UI shows and what the next attempt needs to reap an orphan. */
export interface CodexHeartbeat {
  pid: number | null;
  /** The app-server's process tag: proves a pid is still ours, and finds what it started. */
  processTag: string | null;
  threadId: string | null;
  turnId: string | null;
  itemsStarted: number;
  itemsCompleted: number;
  currentItem: string | null;
}
