// A deliberately non-deterministic change of the task workflow (an extra timer before anything
// else): replaying the committed histories against it must fail.
import { sleep } from '@temporalio/workflow';
import { codexTask as original } from '../../../workflows/task-workflow';
import type { TaskWorkflowInput } from '../../../src/contract/task-workflow-input';

export async function codexTask(input: TaskWorkflowInput) {
  await sleep(10);
  return original(input);
}
