// Recurring tasks as Temporal Schedules: create, list, describe, pause/unpause, delete. Every run
// of a schedule is scheduledTaskWorkflow, which starts one ordinary task (see workflows/).
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSummary,
} from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import {
  SCHEDULE_ID_PATTERN,
  SCHEDULE_OVERLAP_POLICIES,
  scheduledTaskId,
  type ScheduleDocument,
  type ScheduleOverlap,
  type ScheduledRunInput,
  type ScheduledTaskTemplate,
} from '../contract/schedule';
import { oneLine } from '../contract/text';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type * as workflows from '../../workflows';

const SCHEDULE_WORKFLOW_TYPE = 'scheduledTaskWorkflow' satisfies keyof typeof workflows;

/** A run missed while Temporal or every worker was down is still taken within this window, not later. */
const CATCHUP_WINDOW = '10 minutes';
/** gRPC INVALID_ARGUMENT: the server refused the spec (a malformed cron expression, a bad time zone). */
const GRPC_INVALID_ARGUMENT = 3;

const OVERLAP: Record<ScheduleOverlap, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** What the memo carries, so `list` shows a schedule's task without describing each schedule. */
interface ScheduleMemo {
  codex_bridge_task: ScheduledTaskTemplate;
  task_queue: string;
  overlap: ScheduleOverlap;
  /** As given: Temporal keeps cron expressions only as calendars. */
  cron: string[];
}

export interface ScheduleRequest {
  schedule_id?: string;
  cron: string[];
  timezone?: string;
  overlap?: ScheduleOverlap;
  paused?: boolean;
}

export interface ScheduleServiceDeps {
  client: Client;
  taskQueue: string;
  /** Temporal errors that are not about schedules (unreachable server) become BridgeErrors here. */
  translate(err: unknown): Error;
}

export class ScheduleService {
  constructor(private readonly deps: ScheduleServiceDeps) {}

  async create(
    request: ScheduleRequest,
    task: ScheduledTaskTemplate,
    workflow: ScheduledRunInput['workflow'],
  ): Promise<ScheduleDocument> {
    const scheduleId = request.schedule_id ?? `schedule-${randomBytes(3).toString('hex')}`;
    validateScheduleId(scheduleId);
    if (request.cron.length === 0 || request.cron.some((c) => c.trim() === ''))
      throw new ValidationError('cron must name at least one non-empty cron expression.');
    const overlap = request.overlap ?? 'skip';
    if (!SCHEDULE_OVERLAP_POLICIES.includes(overlap))
      throw new ValidationError(`overlap must be one of ${SCHEDULE_OVERLAP_POLICIES.join(', ')}.`);
    const memo: ScheduleMemo = {
      codex_bridge_task: task,
      task_queue: this.deps.taskQueue,
      overlap,
      cron: request.cron,
    };
    const args: [ScheduledRunInput] = [{ schedule_id: scheduleId, task, workflow }];
    try {
      await this.deps.client.schedule.create({
        scheduleId,
        spec: { cronExpressions: request.cron, timezone: request.timezone },
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULE_WORKFLOW_TYPE,
          // Temporal appends each run's time: `<schedule id>-<time>`, from which the task id comes.
          workflowId: scheduleId,
          taskQueue: this.deps.taskQueue,
          args,
          staticSummary: `Schedule ${scheduleId}: ${oneLine(task.prompt, 100)}`,
        },
        policies: { overlap: OVERLAP[overlap], catchupWindow: CATCHUP_WINDOW },
        state: { paused: request.paused ?? false, note: request.paused ? 'created paused' : undefined },
        memo: memo as unknown as Record<string, unknown>,
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning)
        throw new ConflictError(`A schedule with id ${scheduleId} already exists: choose another schedule_id.`);
      // The client checks cron expressions itself (a TypeError); the server checks the rest.
      if (err instanceof TypeError || grpcCode(err) === GRPC_INVALID_ARGUMENT) {
        throw new ValidationError(
          `The schedule was refused (${oneLine(messageOf(err), 200).replace(/\.$/, '')}): check the cron expression and time zone.`,
        );
      }
      throw this.deps.translate(err);
    }
    return this.describe(scheduleId);
  }

  async list(): Promise<ScheduleDocument[]> {
    const found: ScheduleDocument[] = [];
    try {
      for await (const summary of this.deps.client.schedule.list()) {
        const memo = summary.memo as Partial<ScheduleMemo> | undefined;
        if (!memo?.codex_bridge_task || memo.task_queue !== this.deps.taskQueue) continue;
        found.push(toDocument(summary, memo as ScheduleMemo));
      }
    } catch (err) {
      throw this.deps.translate(err);
    }
    return found.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  }

  async describe(scheduleId: string): Promise<ScheduleDocument> {
    const description = await this.call(scheduleId, (h) => h.describe());
    const memo = description.memo as Partial<ScheduleMemo> | undefined;
    if (!memo?.codex_bridge_task) throw new NotFoundError(`Schedule ${scheduleId} does not start codex-bridge tasks.`);
    return toDocument(description, memo as ScheduleMemo);
  }

  async setPaused(scheduleId: string, paused: boolean, note?: string): Promise<ScheduleDocument> {
    await this.describe(scheduleId);
    await this.call(scheduleId, (h) =>
      paused ? h.pause(note ?? 'paused by request') : h.unpause(note ?? 'unpaused by request'),
    );
    return this.describe(scheduleId);
  }

  /** Stops future runs; a task already started by the schedule runs to its end and is notified. */
  async delete(scheduleId: string): Promise<void> {
    await this.describe(scheduleId);
    await this.call(scheduleId, (h) => h.delete());
  }

  private async call<T>(
    scheduleId: string,
    fn: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<T>,
  ): Promise<T> {
    validateScheduleId(scheduleId);
    try {
      return await fn(this.deps.client.schedule.getHandle(scheduleId));
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new NotFoundError(`Schedule ${scheduleId} does not exist.`);
      throw this.deps.translate(err);
    }
  }
}

function toDocument(s: ScheduleSummary | ScheduleDescription, memo: ScheduleMemo): ScheduleDocument {
  return {
    schedule_id: s.scheduleId,
    cron: memo.cron,
    timezone: s.spec?.timezone || null,
    overlap: memo.overlap,
    paused: s.state.paused,
    note: s.state.note || null,
    task: memo.codex_bridge_task,
    next_runs: s.info.nextActionTimes.map((d) => d.toISOString()),
    recent_runs: s.info.recentActions.flatMap((a) =>
      a.action.type === 'startWorkflow'
        ? [{ scheduled_at: a.scheduledAt.toISOString(), task_id: scheduledTaskId(a.action.workflow.workflowId) }]
        : [],
    ),
  };
}

function validateScheduleId(scheduleId: string): void {
  if (typeof scheduleId !== 'string' || !SCHEDULE_ID_PATTERN.test(scheduleId)) {
    throw new ValidationError(
      'schedule_id must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit.',
    );
  }
}

function grpcCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === 'number' ? e.code : e?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(err: unknown): string {
  const e = err as { details?: string; message?: string; cause?: { details?: string } };
  return e.cause?.details ?? e.details ?? e.message ?? String(err);
}
