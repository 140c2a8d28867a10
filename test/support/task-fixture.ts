// A task document for tests that need one without starting a task.
import { newTaskDocument, type TaskDocument } from '../../src/contract/task';

/** A task in /repo with a local target, as a person would start it, then `overrides`. */
export function taskFixture(taskId: string, overrides: Partial<TaskDocument> = {}): TaskDocument {
  return {
    ...newTaskDocument({
      task_id: taskId,
      prompt: 'Fix it',
      cwd: '/repo',
      model: null,
      sandbox: 'workspace-write',
      approval_policy: 'never',
      notify_target: 'local',
      created_at: '2026-01-01T00:00:00.000Z',
    }),
    ...overrides,
  };
}
