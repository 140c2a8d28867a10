// Task snapshots for notification tests: one per outcome, overridable field by field.
import type { TaskNotificationView } from '../../../src/contract/notification';
import type { CommandRecord, FileChangeRecord, TaskResult } from '../../../src/contract/task';

export function command(
  cmd: string,
  exit_code: number | null,
  status = exit_code === 0 ? 'completed' : 'failed',
): CommandRecord {
  return { command: cmd, exit_code, status, output: '', duration_ms: 10 };
}

export function fileChange(path: string): FileChangeRecord {
  return { path, kind: 'update', diff: `--- a/${path}\n+++ b/${path}\n` };
}

export function result(overrides: Partial<TaskResult> = {}): TaskResult {
  return {
    final_message: 'All 42 tests pass now. I fixed the off-by-one in src/range.ts.',
    summary: 'fixed tests',
    thread_id: 'thr_1',
    turn_id: 'turn_1',
    usage: null,
    commands: [command('npm test', 0), command('npm run lint', 1)],
    file_changes: [fileChange('src/range.ts'), fileChange('test/range.test.ts')],
    diff: null,
    ...overrides,
  };
}

export function completionView(overrides: Partial<TaskNotificationView> = {}): TaskNotificationView {
  return {
    task_id: 'fix-tests',
    turn: 1,
    kind: 'completion',
    status: 'completed',
    prompt: 'Fix the failing tests in the range module',
    cwd: '/work/project',
    result: result(),
    error: null,
    started_at: '2025-01-01T10:00:00.000Z',
    finished_at: '2025-01-01T10:03:12.000Z',
    notify_target: 'local',
    ...overrides,
  };
}

export function requestView(overrides: Partial<TaskNotificationView> = {}): TaskNotificationView {
  return completionView({
    kind: 'request',
    status: 'waiting_for_input',
    result: null,
    finished_at: null,
    request: {
      request_id: 'req-7',
      kind: 'command_approval',
      summary: 'Run `rm -rf build` in /work/project',
      details: 'Command: rm -rf build\nCwd: /work/project\nReason: clean stale build output',
    },
    ...overrides,
  });
}
