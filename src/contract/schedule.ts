// Recurring tasks: a Temporal Schedule whose every run starts one ordinary task. The schedule's
// action is the small scheduledTaskWorkflow, which creates the task and waits for it, so the
// schedule's overlap policy ("skip" by default) counts tasks, not starts.
import type { NewTask } from './task';
import type { TaskWorkflowInput } from './task-workflow-input';

/** Schedule ids name Temporal Schedules; a run's task id is the id plus the run's time. */
export const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What to do when a run is due while the previous one still runs (Temporal's overlap policies). */
export const SCHEDULE_OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'] as const;
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAP_POLICIES)[number];

/** The task every run starts: a new task's fields, without its id and creation time. */
export type ScheduledTaskTemplate = Omit<NewTask, 'task_id' | 'created_at'>;

/** The input of scheduledTaskWorkflow, fixed when the schedule is created. */
export interface ScheduledRunInput {
  schedule_id: string;
  task: ScheduledTaskTemplate;
  /** The task workflow's settings for every run (timeouts, request policy). */
  workflow: Omit<TaskWorkflowInput, 'task' | 'prompt'>;
}

/** A schedule as status/list/the API show it. */
export interface ScheduleDocument {
  schedule_id: string;
  cron: string[];
  timezone: string | null;
  overlap: ScheduleOverlap;
  paused: boolean;
  note: string | null;
  task: ScheduledTaskTemplate;
  /** The next times a task is due (ISO-8601). */
  next_runs: string[];
  /** The latest runs: when each was due and the task it started. */
  recent_runs: { scheduled_at: string; task_id: string }[];
}

/**
 * Temporal names a scheduled run's workflow `<schedule id>-<RFC 3339 time>`; the task it starts
 * takes that name without colons, which task ids do not allow: `nightly-2026-11-30T090000Z`.
 * Anyone holding the run's workflow id (the schedule's recent runs, the Web UI) finds the task.
 */
export function scheduledTaskId(runWorkflowId: string): string {
  return runWorkflowId.replace(/:/g, '');
}
