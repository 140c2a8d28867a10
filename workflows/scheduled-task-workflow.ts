// The action of a task schedule: creates one ordinary task (its own id, document and
// notification) and runs codexTaskWorkflow as a child whose workflow id is the task id, waiting
// for it, so the schedule's overlap policy sees a run as busy until its task has ended.
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  executeChild,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { scheduledTaskId, type ScheduledRunInput } from '../src/contract/schedule';
import { newTaskDocument, type TaskDocument } from '../src/contract/task';
import { taskStartView } from '../src/contract/task-start';
import { codexTask, codexTaskWorkflow } from './task-workflow';

const { mirrorTask } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
  summary: 'Mirror the new task to MongoDB',
});

const TASK_TYPE_CODEX_TASK = 'task-type-codex-task';

export async function scheduledTaskWorkflow(input: ScheduledRunInput): Promise<TaskDocument> {
  const taskId = scheduledTaskId(workflowInfo().workflowId);
  const task = newTaskDocument({ ...input.task, task_id: taskId, created_at: new Date().toISOString() });
  // Visible to `list` at once, as a task started by hand is; the task's own mirror takes over.
  await mirrorTask(task);
  // Runs started before `codexTask` existed started their task as the type before it.
  return executeChild(patched(TASK_TYPE_CODEX_TASK) ? codexTask : codexTaskWorkflow, {
    workflowId: taskId,
    args: [{ ...input.workflow, task, prompt: task.prompt }],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // Terminating the starter (or deleting it with its schedule) must not take the task with it:
    // a task once started ends through its own steps and tells its person.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    ...taskStartView(task, task.prompt),
  });
}
