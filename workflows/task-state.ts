// The state of one task workflow run and every change to it. Each named method is one state change:
// it applies a transition from task-transitions.ts, bumps the document's version (the mirror writes
// a version only if it is newer than the stored one) and publishes the task (search attributes and
// the Web UI's current details). No Temporal APIs are called here: the workflow passes `publish`.
import type { CodexProgressPayload } from '../src/contract/messages';
import { parseNotifyTarget, describeNotifyTarget } from '../src/contract/notify-target';
import type {
  ApprovalDecision,
  CodexRequest,
  PendingRequest,
  RequestAnswer,
  TaskDocument,
  TurnRecord,
  WorktreeRecord,
} from '../src/contract/task';
import { APPROVAL_DECISIONS, isTerminalStatus, withNotificationSent } from '../src/contract/task';
import {
  cancelledWhileDelivering,
  changeNotifyTarget,
  finishTurn,
  findRepeatedRequest,
  notificationFinished,
  notificationSkipped,
  notificationStarted,
  notifyTargetLocked,
  repeatKey,
  requestAnswered,
  requestAsked,
  startTurn,
  type Delivery,
  type TurnOutcome,
} from './task-transitions';
import { repliesRequeued, repliesStartedTurn, replyQueued, replySteered, replyTaken } from './reply-transitions';

export class TaskState {
  /** The turn this run executes (1 for the first prompt, then one more per `reply`). */
  readonly turnNumber: number;
  private progress: CodexProgressPayload | null = null;
  /** Why the task waits for quota (shown in the Web UI); set on this run's first pause. */
  private quotaReason: string | null = null;
  private lastError: string | null = null;
  /** Every request asked in this run, by its own id. */
  private readonly requests = new Map<string, CodexRequest>();
  private readonly answers = new Map<string, RequestAnswer>();
  /** A retried attempt's request id → the earlier request it repeats (see findRepeatedRequest). */
  private readonly aliases = new Map<string, string>();
  private readonly matched = new Set<string>();

  constructor(
    public task: TaskDocument,
    private readonly publish: (state: TaskState) => void,
  ) {
    this.turnNumber = task.turns.length + 1;
  }

  get turn(): TurnRecord {
    return this.task.turns[this.task.turns.length - 1]!;
  }

  // --- the turn

  startTurn(prompt: string): void {
    // Only a task that was queued carries queue_position: documents of runs before admission keep their shape.
    const task = this.task.queue_position === undefined ? this.task : { ...this.task, queue_position: null };
    this.apply(startTurn(task, prompt, now()));
  }

  finishTurn(outcome: TurnOutcome): void {
    if (outcome.error) this.lastError = outcome.error.message;
    this.apply(finishTurn(this.task, outcome, now()));
  }

  /** Where Codex runs: the task's worktree while it exists, else its cwd. */
  get workingDirectory(): string {
    const worktree = this.task.worktree;
    return worktree && !worktree.removed ? worktree.path : this.task.cwd;
  }

  // --- admission

  /** Waiting for a slot, `ahead` queued tasks before it. */
  queuedBehind(ahead: number): void {
    if (this.task.status === 'queued' && this.task.queue_position === ahead) return;
    this.apply({ ...this.task, status: 'queued', queue_position: ahead });
  }

  // --- the usage limit

  /** The turn waits for quota until `resumesAt`; true on this run's first pause (the person is told then). */
  waitForQuota(resumesAt: string, reason: string): boolean {
    const first = this.quotaReason === null;
    this.quotaReason = reason;
    this.apply({ ...this.task, status: 'waiting_for_quota', resumes_at: resumesAt });
    return first;
  }

  resumeAfterQuota(): void {
    this.apply({ ...this.task, status: 'running', resumes_at: null });
  }

  // --- the worktree (worktree isolation only)

  worktreeOpened(branch: string, opened: Pick<WorktreeRecord, 'path' | 'base_commit'>): void {
    const earlier = this.task.worktree;
    this.apply({
      ...this.task,
      branch,
      worktree: { commits: [], uncommitted_diff_stat: null, ...earlier, ...opened, removed: false },
    });
  }

  worktreeClosed(record: WorktreeRecord): void {
    this.apply({ ...this.task, worktree: record });
  }

  showProgress(progress: CodexProgressPayload): void {
    this.progress = progress;
    this.publish(this);
  }

  // --- the notification

  notificationSkipped(): void {
    this.apply(notificationSkipped(this.task));
  }

  notificationStarted(): void {
    this.apply(notificationStarted(this.task));
  }

  notificationFinished(delivery: Delivery): void {
    if (!delivery.ok) this.lastError = delivery.error;
    this.apply(notificationFinished(this.task, delivery));
  }

  /** Delivered, as the delivery activity mirrored it: the same document, version and time. */
  notificationSent(at: string, attempts: number): void {
    this.task = withNotificationSent(this.task, at, attempts);
    this.publish(this);
  }

  cancelledWhileDelivering(): void {
    this.apply(cancelledWhileDelivering(this.task));
  }

  /** Throws the reason a notify target is refused now (malformed, or the task already notified). */
  checkNotifyTarget(target: string | null): void {
    if (target !== null) parseNotifyTarget(target);
    const locked = notifyTargetLocked(this.task);
    if (locked) throw new Error(locked);
  }

  setNotifyTarget(target: string | null): TaskDocument {
    this.apply(changeNotifyTarget(this.task, target));
    return this.task;
  }

  // --- requests to a person

  /**
   * Records what Codex asks. Returns the id whose answer the asker gets, and whether the request
   * is new (then the person must be told): a request already known, or a retried attempt repeating
   * an earlier one, is not asked again.
   */
  receiveRequest(request: CodexRequest): { answerId: string; isNew: boolean } {
    const id = request.request_id;
    if (this.requests.has(id)) return { answerId: id, isNew: false };
    const alias = this.aliases.get(id);
    if (alias !== undefined) return { answerId: alias, isNew: false };
    const same = findRepeatedRequest(this.requests.values(), request, this.matched);
    if (same) {
      this.matched.add(repeatKey(request, same));
      this.aliases.set(id, same.request_id);
      return { answerId: same.request_id, isNew: false };
    }
    this.requests.set(id, request);
    this.apply(requestAsked(this.task, request, now()));
    return { answerId: id, isNew: true };
  }

  /** Throws once the turn has ended: an attempt still asking then is one nobody waits for. */
  checkTurnRunning(): void {
    if (isTerminalStatus(this.task.status))
      throw new Error(`Task ${this.task.task_id} is ${this.task.status}: its turn asks nothing more.`);
  }

  /** The first answer counts; a repeated one changes nothing. */
  answerRequest(requestId: string, answer: RequestAnswer): TaskDocument {
    if (this.answers.has(requestId)) return this.task;
    this.answers.set(requestId, answer);
    this.apply(requestAnswered(this.task, requestId));
    return this.task;
  }

  answerOf(requestId: string): RequestAnswer | undefined {
    return this.answers.get(this.aliases.get(requestId) ?? requestId);
  }

  /** Throws unless `requestId` is a pending approval and `decision` one of the decisions. */
  checkApproval(requestId: string, decision: ApprovalDecision): void {
    const pending = this.requirePending(requestId);
    if (pending.kind === 'user_input')
      throw new Error(`Request ${requestId} is a question: answer it instead of approving it.`);
    if (!(APPROVAL_DECISIONS as readonly string[]).includes(decision))
      throw new Error(`decision must be one of ${APPROVAL_DECISIONS.join(', ')}.`);
  }

  /** Throws unless `requestId` is a pending question and `answers` maps question ids to strings. */
  checkAnswers(requestId: string, answers: unknown): void {
    const pending = this.requirePending(requestId);
    if (pending.kind !== 'user_input')
      throw new Error(`Request ${requestId} is an approval: approve or decline it instead.`);
    const ok =
      answers !== null &&
      typeof answers === 'object' &&
      !Array.isArray(answers) &&
      Object.values(answers).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
    if (!ok) throw new Error('answers must map each question id to a list of strings.');
  }

  private requirePending(requestId: string): PendingRequest {
    const pending = this.task.pending_requests.find((r) => r.request_id === requestId);
    if (pending) return pending;
    throw new Error(
      this.answers.has(requestId)
        ? `Request ${requestId} has already been answered.`
        : `Request ${requestId} is not pending on task ${this.task.task_id}.`,
    );
  }

  // --- replies sent while a turn runs (see replies.ts)

  queueReply(reply: { reply_id: string; prompt: string }): void {
    this.apply(replyQueued(this.task, reply, now()));
  }

  /** The Codex activity took the reply to steer it into the running turn. */
  takeReply(replyId: string): void {
    this.apply(replyTaken(this.task, replyId));
  }

  replySteered(replyId: string): void {
    this.apply(replySteered(this.task, replyId));
  }

  /** Taken replies (all, or these) wait for the next turn again. */
  requeueReplies(replyIds?: ReadonlySet<string>): void {
    const taken = (this.task.queued_replies ?? []).some(
      (r) => r.state === 'steering' && (!replyIds || replyIds.has(r.reply_id)),
    );
    if (taken) this.apply(repliesRequeued(this.task, replyIds));
  }

  /** This run's turn was started by these replies. */
  repliesStartedTurn(replies: readonly { reply_id: string; prompt: string }[]): void {
    if (replies.length > 0) this.apply(repliesStartedTurn(this.task, replies));
  }

  // --- what the Web UI shows

  searchAttributes(): { status: string; notificationStatus: string; notifyTarget: string } {
    const { status, notification_status, notify_target } = this.task;
    return {
      status,
      notificationStatus: notification_status ?? 'none',
      notifyTarget: notify_target ? describeNotifyTarget(notify_target) : 'none',
    };
  }

  /** The Web UI's current details: status, notification, Codex's progress, open requests, last error. */
  details(): string {
    const task = this.task;
    const target = task.notify_target ? ` → ${describeNotifyTarget(task.notify_target)}` : '';
    const lines = [
      `**Status:** ${task.status} (turn ${this.turnNumber})`,
      `**Notification:** ${task.notification_status ?? 'not yet'}${target}`,
    ];
    const p = this.progress;
    if (task.status === 'queued' && typeof task.queue_position === 'number')
      lines.push(`**Queued:** ${task.queue_position} ahead, waiting for a slot`);
    if (task.status === 'waiting_for_quota') lines.push(`**Paused until:** ${task.resumes_at} — ${this.quotaReason}`);
    if (task.branch)
      lines.push(
        `**Branch:** ${task.branch}${task.worktree && !task.worktree.removed ? ` (worktree ${task.worktree.path})` : ''}`,
      );
    if (p)
      lines.push(
        `**Codex:** ${p.items_completed}/${p.items_started} items done${p.current_item ? `, now: ${p.current_item}` : ''}`,
      );
    for (const r of task.pending_requests)
      lines.push(`**Waiting for a person:** ${r.summary} (request ${r.request_id})`);
    if (this.lastError) lines.push(`**Last error:** ${this.lastError}`);
    return lines.join('\n\n');
  }

  private apply(next: TaskDocument): void {
    this.task = { ...next, version: next.version + 1, updated_at: now() };
    this.publish(this);
  }
}

/** Workflow time inside a workflow (deterministic, what the history shows). */
function now(): string {
  return new Date().toISOString();
}
