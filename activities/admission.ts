// Asks the task queue's admission workflow for a slot, starting it if it is not running yet
// (signal-with-start: the one call that both creates the queue and joins it).
import { Context } from '@temporalio/activity';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { requestSlotSignal, type SlotRequest } from '../src/contract/admission';

export async function requestSlot(input: { admissionWorkflowId: string; request: SlotRequest }): Promise<void> {
  const context = Context.current();
  await context.client.workflow.signalWithStart('admissionWorkflow', {
    workflowId: input.admissionWorkflowId,
    taskQueue: context.info.taskQueue,
    args: [],
    signal: requestSlotSignal,
    signalArgs: [input.request],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: 'codex-bridge admission: the queue of tasks waiting for a slot',
  });
}
