// The client service behind the CLI and the HTTP API: validates at the edge, starts and steers task
// workflows in Temporal, and reads task documents from the MongoDB mirror.
import { randomBytes } from 'node:crypto';
import {
  Client,
  Connection,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { Config } from '../config';
import { checkCwd, checkGitRepository } from '../cwd-policy';
import { formatNotifyTarget, parseNotifyTarget } from '../contract/notify-target';
import type { ApprovalDecision, TaskDocument } from '../contract/task';
import {
  APPROVAL_POLICIES,
  ISOLATION_MODES,
  MAX_PROMPT_LENGTH,
  SANDBOX_MODES,
  TASK_ID_PATTERN,
  isTerminalStatus,
  newTaskDocument,
} from '../contract/task';
import { BridgeError, ConflictError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import { TaskStore, type TaskListFilter, type TaskListPage } from '../store/task-store';
import { notifyCompleted } from '../watcher/notify-completed';
import { createNotifier } from '../../activities/notify/registry';
import type { Notifier } from '../../activities/notify/notifier';
import { answerUpdate, approveUpdate, cancelSignal, getTaskQuery } from '../contract/messages';
import { taskStartView } from '../contract/task-start';
import type { ScheduleDocument, ScheduledTaskTemplate } from '../contract/schedule';
import { ScheduleService } from './schedule-service';
import type * as workflows from '../../workflows';
import type { TaskWorkflowInput } from '../contract/task-workflow-input';
import type {
  CreateScheduleRequest,
  StartTaskRequest,
  TaskServiceApi,
  UserInputAnswers,
  WatcherReport,
} from './task-service-types';
import { oneLine } from '../contract/text';
import { REPLY_ID_PATTERN, knownReplyIds, replyUpdate } from '../contract/replies';
import type { TaskEvent } from '../contract/task-events';

/** The task workflow's type name; the compiler checks that the worker's bundle exports it. */
const WORKFLOW_TYPE = 'codexTask' satisfies keyof typeof workflows;
type TaskWorkflow = (typeof workflows)[typeof WORKFLOW_TYPE];

/** gRPC codes meaning Temporal could not be reached in time (grpc-js `status`). */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

export interface TaskServiceDeps {
  client: Client;
  store: TaskStore;
  config: Config;
  /** The watcher's notifier; defaults to the channel registry built from the configuration. */
  notifier?: Notifier;
  /** Per-run workflow settings with workflow-side defaults (fault tests shorten the heartbeat timeout). */
  workflowInput?: Pick<TaskWorkflowInput, 'heartbeat_timeout_ms' | 'notify_deadline_ms'>;
  /** The workflow type runs start as; the upgrade test starts them as an earlier release did. */
  workflowType?: TaskWorkflowType;
}

/** The task workflow's type names: today's, and the one tasks started as before it. */
export type TaskWorkflowType = typeof WORKFLOW_TYPE | 'codexTaskWorkflow';

export class TaskService implements TaskServiceApi {
  constructor(private readonly deps: TaskServiceDeps) {}

  private get config(): Config {
    return this.deps.config;
  }

  async start(request: StartTaskRequest): Promise<TaskDocument> {
    const taskId = request.task_id ?? newTaskId();
    validateTaskId(taskId);
    const task = newTaskDocument({
      ...this.checkNewTask(request),
      task_id: taskId,
      created_at: new Date().toISOString(),
    });
    const handle = await this.startRun(task, task.prompt, WorkflowIdReusePolicy.REJECT_DUPLICATE);
    task.run_id = handle.firstExecutionRunId;
    // Best effort: the workflow mirrors its own state; this makes the task visible to `list` at once.
    await this.deps.store.applyMirror(task).catch(() => undefined);
    return task;
  }

  /** A task every run of the schedule starts; the same checks as `start`, made once now. */
  async createSchedule(request: CreateScheduleRequest): Promise<ScheduleDocument> {
    const { schedule_id, cron, timezone, overlap, paused, ...taskRequest } = request;
    const template = this.checkNewTask(taskRequest);
    const probe = newTaskDocument({ ...template, task_id: 'schedule-probe', created_at: new Date().toISOString() });
    return this.schedules.create(
      { schedule_id, cron, timezone, overlap, paused },
      template,
      this.workflowSettings(probe),
    );
  }

  listSchedules(): Promise<ScheduleDocument[]> {
    return this.schedules.list();
  }

  describeSchedule(scheduleId: string): Promise<ScheduleDocument> {
    return this.schedules.describe(scheduleId);
  }

  pauseSchedule(scheduleId: string, paused: boolean, note?: string): Promise<ScheduleDocument> {
    return this.schedules.setPaused(scheduleId, paused, note);
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return this.schedules.delete(scheduleId);
  }

  private get schedules(): ScheduleService {
    this.scheduleService ??= new ScheduleService({
      client: this.deps.client,
      taskQueue: this.config.temporal.taskQueue,
      translate: (err) => this.translate(err, 'schedule'),
    });
    return this.scheduleService;
  }
  private scheduleService: ScheduleService | undefined;

  /** Validates what a new task is made of (everything but its id); one sentence when it is refused. */
  private checkNewTask(request: Omit<StartTaskRequest, 'task_id'>): ScheduledTaskTemplate {
    const prompt = typeof request.prompt === 'string' ? request.prompt : '';
    if (prompt.trim() === '') throw new ValidationError('prompt must not be empty.');
    if (prompt.length > MAX_PROMPT_LENGTH)
      throw new ValidationError(`prompt is longer than ${MAX_PROMPT_LENGTH} characters.`);
    const sandbox = request.sandbox ?? 'workspace-write';
    if (!SANDBOX_MODES.includes(sandbox))
      throw new ValidationError(`sandbox must be one of ${SANDBOX_MODES.join(', ')}.`);
    const approvalPolicy = request.approval_policy ?? 'never';
    if (!APPROVAL_POLICIES.includes(approvalPolicy))
      throw new ValidationError(`approval_policy must be one of ${APPROVAL_POLICIES.join(', ')}.`);
    let notifyTarget: string | null = null;
    if (request.notify_target !== undefined && request.notify_target !== null) {
      try {
        notifyTarget = formatNotifyTarget(parseNotifyTarget(request.notify_target));
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
    }
    let cwd: string;
    try {
      cwd = checkCwd(request.cwd ?? this.config.codex.allowedRoots[0] ?? process.cwd(), this.config.codex.allowedRoots);
    } catch (err) {
      throw new ValidationError((err as Error).message);
    }
    const isolation = request.isolation ?? this.config.isolation.defaultMode;
    if (!ISOLATION_MODES.includes(isolation))
      throw new ValidationError(`isolation must be one of ${ISOLATION_MODES.join(', ')}.`);
    if (isolation === 'worktree') {
      try {
        checkGitRepository(cwd);
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
    }
    return {
      prompt,
      cwd,
      model: request.model ?? null,
      sandbox,
      approval_policy: approvalPolicy,
      notify_target: notifyTarget,
      isolation,
    };
  }

  async status(taskId: string): Promise<TaskDocument> {
    validateTaskId(taskId);
    const doc = await this.fromStore(() => this.deps.store.get(taskId));
    if (doc) return doc;
    // Not mirrored yet (or the store lost it): ask the workflow itself.
    try {
      return await this.handle(taskId).query(getTaskQuery);
    } catch (err) {
      throw this.translate(err, taskId);
    }
  }

  async list(filter: TaskListFilter): Promise<TaskListPage> {
    const limit = filter.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new ValidationError('limit must be an integer from 1 to 1000.');
    return this.fromStore(() => this.deps.store.list({ ...filter, limit }));
  }

  async cancel(taskId: string): Promise<void> {
    validateTaskId(taskId);
    const handle = this.handle(taskId);
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING')
        throw new ConflictError(`Task ${taskId} has already finished; there is nothing to cancel.`);
      await handle.signal(cancelSignal, { reason: 'cancelled by request' });
    } catch (err) {
      throw this.translate(err, taskId);
    }
  }

  async approve(
    taskId: string,
    requestId: string,
    decision: ApprovalDecision,
    updateId?: string,
  ): Promise<TaskDocument> {
    validateTaskId(taskId);
    return this.update(taskId, () =>
      this.handle(taskId).executeUpdate(approveUpdate, { args: [{ request_id: requestId, decision }], updateId }),
    );
  }

  async answer(taskId: string, requestId: string, answers: UserInputAnswers, updateId?: string): Promise<TaskDocument> {
    validateTaskId(taskId);
    return this.update(taskId, () =>
      this.handle(taskId).executeUpdate(answerUpdate, { args: [{ request_id: requestId, answers }], updateId }),
    );
  }

  /**
   * A follow-up in the same Codex thread. While a turn runs, the reply goes to the running workflow
   * (update id = reply id): Codex gets it inside the turn when it accepts, or as the next turn.
   * Once the task has finished, the reply starts a new run of its workflow, carrying its history.
   * A reply id already seen by the task changes nothing.
   */
  async reply(taskId: string, prompt: string, replyId?: string): Promise<TaskDocument> {
    validateTaskId(taskId);
    if (typeof prompt !== 'string' || prompt.trim() === '') throw new ValidationError('prompt must not be empty.');
    if (prompt.length > MAX_PROMPT_LENGTH)
      throw new ValidationError(`prompt is longer than ${MAX_PROMPT_LENGTH} characters.`);
    const reply_id = replyId ?? newReplyId();
    if (!REPLY_ID_PATTERN.test(reply_id))
      throw new ValidationError(
        'reply_id must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.',
      );
    const handle = this.handle(taskId);
    let previous: TaskDocument;
    try {
      const description = await handle.describe();
      if (description.status.name === 'RUNNING') {
        const sent = await this.replyToRunningTurn(taskId, reply_id, prompt);
        if (sent) return sent;
      }
      previous = (await handle.result().catch(() => null)) ?? (await this.status(taskId));
    } catch (err) {
      throw this.translate(err, taskId);
    }
    if (knownReplyIds(previous).has(reply_id)) return previous;
    if (!isTerminalStatus(previous.status))
      throw new ConflictError(`Task ${taskId} is ${previous.status}: reply once it has finished.`);
    const task: TaskDocument = {
      ...previous,
      status: 'queued',
      version: previous.version + 1,
      updated_at: new Date().toISOString(),
    };
    const started = await this.startRun(task, prompt, WorkflowIdReusePolicy.ALLOW_DUPLICATE, [{ reply_id, prompt }]);
    task.run_id = started.firstExecutionRunId;
    await this.deps.store.applyMirror(task).catch(() => undefined);
    return task;
  }

  /** The reply, handed to the running workflow; null when the run finished before it got there. */
  private async replyToRunningTurn(taskId: string, replyId: string, prompt: string): Promise<TaskDocument | null> {
    try {
      const receipt = await this.handle(taskId).executeUpdate(replyUpdate, {
        args: [{ reply_id: replyId, prompt }],
        updateId: replyId,
      });
      return receipt.task;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new ConflictError(oneLine(err.cause?.message ?? err.message, 300));
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /**
   * The progress events of the task's current turn, oldest first. Without `follow`, what has
   * happened so far; with it, also what happens next (read from the store every `pollMs`), until
   * the turn ends. The events come from the store's task_events document, not from Temporal.
   */
  async *events(
    taskId: string,
    options: { follow?: boolean; pollMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<TaskEvent> {
    const task = await this.status(taskId); // validates the id; NotFound for an unknown task
    const logs = this.deps.store.events();
    const pollMs = options.pollMs ?? 200;
    // The turn to show: the one running, or about to run, or the last one.
    const turn = task.status === 'queued' ? task.turns.length + 1 : Math.max(1, task.turns.length);
    let cursor = { attempt: 0, seq: 0 };
    let lastStatusCheck = Date.now();
    for (;;) {
      const log = await this.fromStore(() => logs.get(taskId));
      if (log && log.turn >= turn) {
        if (log.attempt !== cursor.attempt) cursor = { attempt: log.attempt, seq: 0 }; // a retried attempt starts over
        for (const event of log.events) {
          if (event.seq <= cursor.seq) continue;
          cursor.seq = event.seq;
          yield event;
        }
        if (log.ended) return;
      }
      if (!options.follow || options.signal?.aborted) return;
      // A turn that ended without events (cancelled before Codex started) ends the wait too.
      if (Date.now() - lastStatusCheck > 2000) {
        lastStatusCheck = Date.now();
        const now = await this.status(taskId);
        if (isTerminalStatus(now.status) && now.turns.length <= turn && (!log || log.turn < turn)) return;
      }
      await sleep(pollMs, options.signal);
    }
  }

  /** Built once: the channels keep state across runs (Feishu's tenant token, Hermes' burned request ids). */
  private notifier: Notifier | undefined;
  private watcherNotifier(): Notifier {
    this.notifier ??= this.deps.notifier ?? createNotifier(this.config);
    return this.notifier;
  }

  async notifyCompleted(options: { dryRun?: boolean; retryFailed?: boolean }): Promise<WatcherReport> {
    return notifyCompleted({
      store: this.deps.store,
      notifier: this.watcherNotifier(),
      dryRun: options.dryRun,
      retryFailed: options.retryFailed,
      uiUrl: this.config.uiUrl,
      namespace: this.config.temporal.namespace,
      isWorkflowRunning: async (taskId) => {
        try {
          return (await this.handle(taskId).describe()).status.name === 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw this.translate(err, taskId);
        }
      },
    });
  }

  /** Temporal and the store both answer (for /healthz and doctor). */
  async health(): Promise<{ temporal: boolean; store: boolean }> {
    const [temporal, store] = await Promise.all([
      this.deps.client.connection.workflowService
        .getSystemInfo({})
        .then(() => true)
        .catch(() => false),
      this.deps.store
        .ping()
        .then(() => true)
        .catch(() => false),
    ]);
    return { temporal, store };
  }

  private async startRun(
    task: TaskDocument,
    prompt: string,
    reusePolicy: WorkflowIdReusePolicy,
    replies?: TaskWorkflowInput['replies'],
  ): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const input: TaskWorkflowInput = { ...this.workflowSettings(task), task, prompt, ...(replies ? { replies } : {}) };
    try {
      return await this.deps.client.workflow.start<TaskWorkflow>(this.deps.workflowType ?? WORKFLOW_TYPE, {
        taskQueue: this.config.temporal.taskQueue,
        workflowId: task.task_id,
        args: [input],
        workflowIdReusePolicy: reusePolicy,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        ...taskStartView(task, prompt),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ConflictError(
          reusePolicy === WorkflowIdReusePolicy.REJECT_DUPLICATE
            ? `A task with id ${task.task_id} already exists: choose another task_id.`
            : `Task ${task.task_id} is already running a turn: reply once it has finished.`,
        );
      }
      throw this.translate(err, task.task_id);
    }
  }

  /** A run's settings from the configuration (and the tests' overrides). */
  private workflowSettings(task: TaskDocument): Omit<TaskWorkflowInput, 'task' | 'prompt'> {
    return {
      turn_timeout_ms: this.config.codex.turnTimeoutMs,
      request_timeout_ms: this.config.codex.requestTimeoutMs,
      quota_backoff_ms: this.config.codex.quotaBackoffMs,
      ...(this.config.admission ? { admission: this.config.admission } : {}),
      server_request_policy: task.approval_policy === 'never' ? 'decline' : 'ask',
      ...this.deps.workflowInput,
    };
  }

  private async update(taskId: string, run: () => Promise<TaskDocument>): Promise<TaskDocument> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        // The validator refused: unknown, stale or already answered request, or a bad answer.
        throw new ConflictError(oneLine(err.cause?.message ?? err.message, 300));
      }
      // An update to a finished workflow answers NOT_FOUND, but the task exists: its requests are
      // no longer pending (409), not "no such task" (404).
      if (err instanceof WorkflowNotFoundError && (await this.hasFinished(taskId))) {
        throw new ConflictError(`Task ${taskId} has already finished: its requests can no longer be answered.`);
      }
      throw this.translate(err, taskId);
    }
  }

  private async hasFinished(taskId: string): Promise<boolean> {
    try {
      return (await this.handle(taskId).describe()).status.name !== 'RUNNING';
    } catch {
      return false;
    }
  }

  private handle(taskId: string): WorkflowHandle {
    return this.deps.client.workflow.getHandle(taskId);
  }

  private async fromStore<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof BridgeError) throw err;
      throw new UnavailableError(
        `The task store is unreachable: ${oneLine((err as Error).message, 200)}; check MONGODB_URI.`,
      );
    }
  }

  private translate(err: unknown, taskId: string): Error {
    if (err instanceof BridgeError) return err;
    if (err instanceof WorkflowNotFoundError) return new NotFoundError(`Task ${taskId} does not exist.`);
    const code = grpcCode(err);
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) {
      const detail = oneLine(
        (err instanceof ServiceError && err.cause instanceof Error ? err.cause : (err as Error)).message,
        200,
      );
      return new UnavailableError(
        `Temporal at ${this.config.temporal.address} is unreachable: ${detail}; start it or set TEMPORAL_ADDRESS.`,
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Connects to Temporal and the store; fails with one sentence when either is unreachable. */
export async function createTaskService(
  config: Config,
  options: { notifier?: Notifier } = {},
): Promise<{ service: TaskService; close(): Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 5000 });
  } catch (err) {
    throw new UnavailableError(
      `Temporal at ${config.temporal.address} is unreachable (${oneLine((err as Error).message, 160)}): start it (./scripts/dev) or set TEMPORAL_ADDRESS.`,
    );
  }
  let store: TaskStore;
  try {
    store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
  } catch (err) {
    await connection.close();
    throw err;
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const service = new TaskService({ client, store, config, notifier: options.notifier });
  return {
    service,
    close: async () => {
      await Promise.allSettled([connection.close(), store.close()]);
    },
  };
}

/** The gRPC status code of a failed Temporal call, bare or wrapped in the client's ServiceError. */
function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  if (err instanceof ServiceError && isGrpcServiceError(err.cause)) return err.cause.code;
  return undefined;
}

function validateTaskId(taskId: string): void {
  if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
    throw new ValidationError(
      'task_id must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    );
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** A reply's id when its sender gives none: unique, so each send is a new reply. */
export function newReplyId(): string {
  return `reply-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Readable, sortable, unique enough: codex-20261125-193446-a1b2c3. */
function newTaskId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `codex-${stamp}-${randomBytes(3).toString('hex')}`;
}
