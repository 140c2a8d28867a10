// A task run's side of admission: before its turn it asks the task queue's admission workflow for a
// slot and waits, `queued` with its position, until granted or cancelled; its person hears once
// that it is queued; after the turn it gives the slot back. Every run asks, so a follow-up turn
// queues like a new task. Runs whose input carries no limits (admission off, or started before
// admission existed) skip all of it, and so do runs a worker without admission began (the shape).
import {
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  admissionWorkflowId,
  pauseAdmissionSignal,
  queuePositionSignal,
  releaseSlotSignal,
  slotGrantedSignal,
  type AdmissionLimits,
  type SlotRequest,
} from '../src/contract/admission';
import { queuedKey } from '../src/contract/idempotency';
import type { TaskDocument } from '../src/contract/task';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';
import { deliver, notificationView } from './task-activities';
import type { TaskState } from './task-state';
import { ADMISSION, type TaskShape } from './task-shape';

const { requestSlot } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  summary: 'Ask for a slot to run the turn',
});

export interface Slot {
  /** Gives the slot back (after the turn), once the queued notice, if any, has gone out. */
  release(): Promise<void>;
}

const NO_SLOT: Slot = { release: async () => undefined };

/** The limits this run is admitted under, or null when it runs without admission. */
function limitsOf(input: TaskWorkflowInput, shape: TaskShape): AdmissionLimits | null {
  return input.admission && shape.has(ADMISSION) ? input.admission : null;
}

/** Waits for a slot; a run cancelled while queued withdraws and gets no slot. */
export async function admit(
  input: TaskWorkflowInput,
  shape: TaskShape,
  state: TaskState,
  cancelled: () => boolean,
): Promise<Slot> {
  const limits = limitsOf(input, shape);
  if (!limits) return NO_SLOT;
  const heard = { granted: false, ahead: null as number | null, waiting: true };
  setHandler(slotGrantedSignal, () => void (heard.granted = true));
  setHandler(queuePositionSignal, ({ ahead }) => {
    // A position sent before the admission workflow heard of the grant or the withdrawal is stale.
    if (heard.granted || !heard.waiting || cancelled()) return;
    heard.ahead = ahead;
    state.queuedBehind(ahead);
  });
  const request = slotRequest(state.task, workflowInfo().runId, limits);
  await requestSlot({ admissionWorkflowId: admissionWorkflowId(workflowInfo().taskQueue), request });

  // Told once, when the run first hears it has to wait; later position changes only update the task.
  await condition(() => heard.granted || heard.ahead !== null || cancelled());
  const notice =
    heard.granted || cancelled() || !state.task.notify_target
      ? Promise.resolve()
      : deliver(input, state.task, queuedKey(state.task.task_id, state.turnNumber), {
          ...notificationView(input, state, 'queued'),
          queue_position: heard.ahead!,
        });
  await condition(() => heard.granted || cancelled());
  heard.waiting = false;
  const release = async () => {
    await tellAdmission(releaseSlotSignal, { task_id: request.task_id, run_id: request.run_id });
    await notice;
  };
  if (heard.granted) return { release };
  await release();
  return NO_SLOT;
}

/** The account waits for its usage limit until `until`: no queued task starts a turn before then. */
export async function pauseAdmissions(input: TaskWorkflowInput, shape: TaskShape, until: string): Promise<void> {
  if (limitsOf(input, shape)) await tellAdmission(pauseAdmissionSignal, { until });
}

export function slotRequest(task: TaskDocument, runId: string, limits: AdmissionLimits): SlotRequest {
  return {
    task_id: task.task_id,
    run_id: runId,
    // A worktree task writes in a working tree of its own, a read-only one in none.
    repository: task.sandbox === 'read-only' || task.isolation === 'worktree' ? null : task.cwd,
    notify_target: task.notify_target,
    limits,
  };
}

/**
 * Signals the admission workflow. One that is not running holds nothing of this run (it ends only
 * when nobody holds or waits for a slot), so there is nothing to give back then.
 */
async function tellAdmission<T>(signal: SignalDefinition<[T]>, arg: T): Promise<void> {
  try {
    await getExternalWorkflowHandle(admissionWorkflowId(workflowInfo().taskQueue)).signal(signal, arg);
  } catch {
    // not running: nothing to release or pause
  }
}
