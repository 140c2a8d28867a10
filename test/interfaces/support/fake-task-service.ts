// A TaskServiceApi that records every call and answers from an in-memory map, so the edges (CLI,
// HTTP API) can be tested for what they send and how they translate answers and errors.
import type { TaskListFilter, TaskListPage } from '../../../src/store/task-store';
import type { TaskEvent } from '../../../src/contract/task-events';
import type {
  CreateScheduleRequest,
  StartTaskRequest,
  TaskServiceApi,
  UserInputAnswers,
  WatcherReport,
} from '../../../src/client/task-service-types';
import type { ApprovalDecision, TaskDocument } from '../../../src/contract/task';
import { newTaskDocument } from '../../../src/contract/task';
import { ConflictError, NotFoundError } from '../../../src/errors';
import { encodeListCursor } from '../../../src/store/list-cursor';
import type { ScheduleDocument } from '../../../src/contract/schedule';

export interface RecordedCall {
  method: keyof TaskServiceApi;
  args: unknown[];
}

export class FakeTaskService implements TaskServiceApi {
  readonly calls: RecordedCall[] = [];
  readonly tasks = new Map<string, TaskDocument>();
  /** When set, the next call of that method throws it (once). */
  readonly failNext = new Map<keyof TaskServiceApi, unknown>();
  private seq = 0;

  async start(request: StartTaskRequest): Promise<TaskDocument> {
    this.record('start', request);
    const taskId = request.task_id ?? `task-${++this.seq}`;
    if (this.tasks.has(taskId)) throw new ConflictError(`A task with id ${taskId} already exists.`);
    const doc = makeTaskDocument({
      task_id: taskId,
      prompt: request.prompt,
      cwd: request.cwd ?? '/work',
      notify_target: request.notify_target ?? null,
      notification_status: request.notify_target ? 'pending' : null,
      model: request.model ?? null,
      sandbox: request.sandbox ?? 'workspace-write',
      approval_policy: request.approval_policy ?? 'never',
    });
    this.tasks.set(taskId, doc);
    return doc;
  }

  async status(taskId: string): Promise<TaskDocument> {
    this.record('status', taskId);
    return this.get(taskId);
  }

  async list(filter: TaskListFilter): Promise<TaskListPage> {
    this.record('list', filter);
    const tasks = [...this.tasks.values()]
      .filter((t) => (filter.status ? t.status === filter.status : true))
      .filter((t) => (filter.notification_status ? t.notification_status === filter.notification_status : true))
      .filter((t) => (filter.notify_target ? t.notify_target === filter.notify_target : true))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    const page = tasks.slice(0, filter.limit ?? 50);
    const last = page[page.length - 1];
    return { tasks: page, next_cursor: tasks.length > page.length && last ? encodeListCursor(last) : null };
  }

  async cancel(taskId: string): Promise<void> {
    this.record('cancel', taskId);
    this.get(taskId);
  }

  async approve(taskId: string, requestId: string, decision: ApprovalDecision): Promise<TaskDocument> {
    this.record('approve', taskId, requestId, decision);
    return this.takeRequest(taskId, requestId);
  }

  async answer(taskId: string, requestId: string, answers: UserInputAnswers): Promise<TaskDocument> {
    this.record('answer', taskId, requestId, answers);
    return this.takeRequest(taskId, requestId);
  }

  async reply(taskId: string, prompt: string): Promise<TaskDocument> {
    this.record('reply', taskId, prompt);
    return this.get(taskId);
  }

  /** Events a test sets per task; `events` yields them. */
  readonly taskEvents = new Map<string, TaskEvent[]>();

  async *events(taskId: string, options: { follow?: boolean } = {}): AsyncGenerator<TaskEvent> {
    this.record('events', taskId, options);
    this.get(taskId);
    for (const event of this.taskEvents.get(taskId) ?? []) yield event;
  }

  async notifyCompleted(options: { dryRun?: boolean; retryFailed?: boolean }): Promise<WatcherReport> {
    this.record('notifyCompleted', options);
    return { dry_run: options.dryRun ?? false, scanned: 0, sent: 0, failed: 0, no_target: 0, skipped: 0, items: [] };
  }

  readonly schedules = new Map<string, ScheduleDocument>();

  async createSchedule(request: CreateScheduleRequest): Promise<ScheduleDocument> {
    this.record('createSchedule', request);
    const id = request.schedule_id ?? `schedule-${++this.seq}`;
    if (this.schedules.has(id)) throw new ConflictError(`A schedule with id ${id} already exists.`);
    const doc: ScheduleDocument = {
      schedule_id: id,
      cron: request.cron,
      timezone: request.timezone ?? null,
      overlap: request.overlap ?? 'skip',
      paused: request.paused ?? false,
      note: null,
      task: {
        prompt: request.prompt,
        cwd: request.cwd ?? '/work',
        model: request.model ?? null,
        sandbox: request.sandbox ?? 'workspace-write',
        approval_policy: request.approval_policy ?? 'never',
        notify_target: request.notify_target ?? null,
      },
      next_runs: [],
      recent_runs: [],
    };
    this.schedules.set(id, doc);
    return doc;
  }

  async listSchedules(): Promise<ScheduleDocument[]> {
    this.record('listSchedules');
    return [...this.schedules.values()];
  }

  async describeSchedule(scheduleId: string): Promise<ScheduleDocument> {
    this.record('describeSchedule', scheduleId);
    return this.getSchedule(scheduleId);
  }

  async pauseSchedule(scheduleId: string, paused: boolean, note?: string): Promise<ScheduleDocument> {
    this.record('pauseSchedule', scheduleId, paused, note);
    const doc = { ...this.getSchedule(scheduleId), paused, note: note ?? null };
    this.schedules.set(scheduleId, doc);
    return doc;
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    this.record('deleteSchedule', scheduleId);
    this.getSchedule(scheduleId);
    this.schedules.delete(scheduleId);
  }

  private getSchedule(scheduleId: string): ScheduleDocument {
    const doc = this.schedules.get(scheduleId);
    if (!doc) throw new NotFoundError(`Schedule ${scheduleId} does not exist.`);
    return doc;
  }

  callsOf(method: keyof TaskServiceApi): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private record(method: keyof TaskServiceApi, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failNext.get(method);
    if (failure !== undefined) {
      this.failNext.delete(method);
      throw failure;
    }
  }

  private get(taskId: string): TaskDocument {
    const doc = this.tasks.get(taskId);
    if (!doc) throw new NotFoundError(`There is no task ${taskId}.`);
    return doc;
  }

  private takeRequest(taskId: string, requestId: string): TaskDocument {
    const doc = this.get(taskId);
    if (!doc.pending_requests.some((r) => r.request_id === requestId)) {
      throw new ConflictError(`Request ${requestId} of task ${taskId} is not pending.`);
    }
    const updated = { ...doc, pending_requests: doc.pending_requests.filter((r) => r.request_id !== requestId) };
    this.tasks.set(taskId, updated);
    return updated;
  }
}

export function makeTaskDocument(overrides: Partial<TaskDocument> & { task_id: string }): TaskDocument {
  const queued = newTaskDocument({
    task_id: overrides.task_id,
    prompt: 'fix the tests',
    cwd: '/work',
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: null,
    created_at: new Date().toISOString(),
  });
  return { ...queued, run_id: 'run-1', version: 1, ...overrides };
}
