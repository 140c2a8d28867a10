// A worktree task's workspace around its turn: open the task's git worktree before Codex runs,
// close it after (its changes saved on the task's branch, the worktree removed or kept for the
// configured retention). Tasks without worktree isolation issue no commands here.
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { oneLine } from '../src/contract/text';
import type { TaskState } from './task-state';
import type { TurnOutcome } from './task-transitions';

const worktrees = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
  summary: 'Git worktree of the task',
});

/** The branch a worktree task's changes land on. */
export function worktreeBranch(taskId: string): string {
  return `codex/${taskId}`;
}

/** Opens the worktree; a failure is the turn's outcome (the turn then never starts). */
export async function openWorkspace(state: TaskState): Promise<TurnOutcome | null> {
  const task = state.task;
  if (task.isolation !== 'worktree') return null;
  const branch = worktreeBranch(task.task_id);
  try {
    const opened = await worktrees.openWorktree({
      task_id: task.task_id,
      cwd: task.cwd,
      branch,
      base_commit: task.worktree?.base_commit ?? null,
    });
    state.worktreeOpened(branch, opened);
    return null;
  } catch (err) {
    const cause = (err as { cause?: Error }).cause ?? (err as Error);
    return {
      status: 'failed',
      result: null,
      error: {
        type: 'WorktreeFailed',
        message: `The task's git worktree could not be created: ${oneLine(cause.message, 500)}`,
      },
    };
  }
}

/** After the turn: saves and lists the branch's commits, removes the worktree (unless retained). */
export async function closeWorkspace(state: TaskState): Promise<void> {
  const task = state.task;
  if (task.isolation !== 'worktree' || !task.branch || !task.worktree || task.worktree.removed) return;
  const closed = await worktrees.closeWorktree({
    task_id: task.task_id,
    cwd: task.cwd,
    branch: task.branch,
    base_commit: task.worktree.base_commit,
    turn: state.turnNumber,
  });
  state.worktreeClosed(closed);
}
