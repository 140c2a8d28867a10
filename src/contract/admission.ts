// Admission: how many turns run at once. One admission workflow per task queue holds the queue
// durably in Temporal; a task run asks it for a slot (requestSlot), waits for slotGranted (hearing
// its queue position meanwhile) and gives the slot back (releaseSlot) when its turn ends.
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Limits on turns running at once; 0 means no limit. */
export interface AdmissionLimits {
  /** All tasks of the task queue (what the workers can hold). */
  max_running: number;
  /** Tasks writing in one working tree. */
  per_repository: number;
  /** Tasks of one notify target (one person cannot starve the rest). */
  per_notify_target: number;
}

/** One task run asking for a slot (a follow-up turn is a new run and asks again). */
export interface SlotRequest {
  task_id: string;
  run_id: string;
  /** The working tree the task writes in; null when it counts against no repository limit. */
  repository: string | null;
  notify_target: string | null;
  /** The limits the bridge that started the task was configured with. */
  limits: AdmissionLimits;
}

/** The admission workflow's state: carried over when it continues as new, and its query's answer. */
export interface AdmissionSnapshot {
  /** First come, first served. */
  queued: SlotRequest[];
  running: SlotRequest[];
  /** No queued task starts a turn before this time (the Codex account waits for its usage limit). */
  paused_until: string | null;
}

export function admissionWorkflowId(taskQueue: string): string {
  return `codex-bridge-admission-${taskQueue}`;
}

export const requestSlotSignal = defineSignal<[SlotRequest]>('requestSlot');
/** The run's turn ended, or it was cancelled while queued: its slot or its place is free. */
export const releaseSlotSignal = defineSignal<[{ task_id: string; run_id: string }]>('releaseSlot');
/** A task hit the usage limit: no queued task starts a turn before `until` (ISO-8601). */
export const pauseAdmissionSignal = defineSignal<[{ until: string }]>('pauseAdmission');
/** To a task run: its turn may start. Repeated to running holders to find the ones that have closed. */
export const slotGrantedSignal = defineSignal<[]>('slotGranted');
/** To a task run: how many queued tasks are ahead of it. */
export const queuePositionSignal = defineSignal<[{ ahead: number }]>('queuePosition');
export const admissionStateQuery = defineQuery<AdmissionSnapshot>('admissionState');
