// The input of one run of codexTaskWorkflow. The first run carries a fresh `queued` document; a
// follow-up (`reply`) starts a new run of the same workflow id carrying the finished document.
import type { TaskDocument } from './task';
import type { ServerRequestPolicy } from './codex-turn';
import type { AdmissionLimits } from './admission';

export interface TaskWorkflowInput {
  /** The task as it stands when this run starts (status `queued`, or terminal for a follow-up). */
  task: TaskDocument;
  /** The prompt of the turn this run executes. */
  prompt: string;
  /** The replies this run's prompt is made of (a follow-up turn), recorded in its turn. */
  replies?: { reply_id: string; prompt: string }[];
  turn_timeout_ms: number;
  /** How long a pending approval or question waits for a person before it is declined. */
  request_timeout_ms: number;
  /** A worker that stops heartbeating this long is presumed dead and the turn is retried. */
  heartbeat_timeout_ms?: number;
  /** How long delivery is retried before the notification is marked `failed`. */
  notify_deadline_ms?: number;
  server_request_policy: ServerRequestPolicy;
  /** How long a turn that failed on the usage or rate limit waits when Codex gave no reset time. */
  quota_backoff_ms?: number;
  /** Limits on turns running at once; absent: the task starts without asking for a slot. */
  admission?: AdmissionLimits;
}
