// The one message a queued turn sends ("queued: 2 ahead"), and how `status` and `list` show a queued
// task's place.
import { buildNotificationMessage, renderPlainText } from '../../activities/notify/message';
import { formatTaskBlock, formatTaskTable } from '../../src/cli/format';
import type { TaskDocument } from '../../src/contract/task';
import { completionView } from './support/views';

test('a queued turn says how many tasks are ahead, and that it starts by itself', () => {
  const message = buildNotificationMessage(
    completionView({ kind: 'queued', status: 'queued', result: null, queue_position: 2, finished_at: null }),
  );
  expect(message.kind).toBe('queued');
  expect(message.title).toBe('⏳ Codex task fix-tests queued: 2 ahead');
  expect(message.fields).toContainEqual({ label: 'Queued', value: '2 ahead' });
  expect(renderPlainText(message)).toContain('It starts by itself when a slot frees');
});

test('status and list show a queued task as "queued (N ahead)"', () => {
  const task = {
    task_id: 'codex-1',
    status: 'queued',
    queue_position: 3,
    created_at: new Date().toISOString(),
    cwd: '/srv/app',
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: 'local',
    notification_status: null,
    prompt: 'p',
    turns: [],
    pending_requests: [],
    result: null,
    error: null,
    finished_at: null,
  } as unknown as TaskDocument;
  expect(formatTaskBlock(task).find((l) => l.startsWith('status'))).toMatch(/queued \(3 ahead\)$/);
  expect(formatTaskTable([task])[1]).toContain('queued (3 ahead)');
  expect(formatTaskTable([{ ...task, status: 'running', queue_position: null }])[1]).not.toContain('ahead');
});
