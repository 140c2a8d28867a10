// The repair watcher: `notifyCompleted({ notifier: async (target, message) => … })` from
// src/watcher/notify-completed.ts over the REAL TaskStore, with the real Temporal client telling it which workflows still run. The store is seeded with task documents
// directly; only the "still running" task has a workflow (one no worker polls, so it stays open).
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { NotificationMessage } from '../../activities/notify/notifier';
import type { NotifyTarget } from '../../src/contract/notify-target';
import type { TaskDocument, TaskStatus } from '../../src/contract/task';
import { TaskStore } from '../../src/store/task-store';
import { notifyCompleted, type NotifyCompletedOptions } from '../../src/watcher/notify-completed';
import type { TaskWorkflowInput } from '../../src/contract/task-workflow-input';
import { makeTestEnv, type TestEnv } from '../support/test-env';

let testEnv: TestEnv;
let store: TaskStore;
let connection: Connection;
let client: Client;
const runningWorkflows: string[] = [];

beforeAll(async () => {
  testEnv = makeTestEnv();
  store = await TaskStore.connect(testEnv.config.mongo.uri, testEnv.config.mongo.db);
  connection = await Connection.connect({ address: testEnv.config.temporal.address });
  client = new Client({ connection, namespace: testEnv.config.temporal.namespace });
});

afterAll(async () => {
  for (const id of runningWorkflows)
    await client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await store?.close();
  await connection?.close();
});

interface Sent {
  target: NotifyTarget;
  message: NotificationMessage;
  key: string;
}

/** One watcher run with an injected notifier that records what it is asked to send. */
async function watch(
  options: Partial<NotifyCompletedOptions> = {},
): Promise<{ report: Awaited<ReturnType<typeof notifyCompleted>>; sent: Sent[] }> {
  const sent: Sent[] = [];
  const report = await notifyCompleted({
    store,
    notifier: async (target, message, key) => {
      sent.push({ target, message, key });
    },
    isWorkflowRunning: async (taskId) => {
      try {
        return (await client.workflow.getHandle(taskId).describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    ...options,
  });
  return { report, sent };
}

const prefix = `w-${randomUUID().slice(0, 6)}`;
let seq = 0;

function doc(over: Partial<TaskDocument> & { status: TaskStatus }): TaskDocument {
  const id = `${prefix}-${++seq}`;
  const at = new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString();
  const terminal = ['completed', 'failed', 'cancelled', 'timed_out'].includes(over.status);
  return {
    task_id: id,
    workflow_id: id,
    run_id: null,
    prompt: `prompt of ${id}`,
    cwd: testEnv.scratch,
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: null,
    notification_status: null,
    notified_at: null,
    notification_error: null,
    notification_attempts: 0,
    pending_requests: [],
    result: terminal
      ? {
          final_message: `final message of ${id}`,
          summary: 'completed',
          thread_id: 'th',
          turn_id: 'tu',
          usage: null,
          commands: [],
          file_changes: [],
          diff: null,
        }
      : null,
    error: null,
    turns: [],
    created_at: at,
    started_at: at,
    finished_at: terminal ? at : null,
    updated_at: at,
    version: 5,
    ...over,
  };
}

test('dry run, no_target, idempotence, running workflows skipped, --retry-failed', async () => {
  const pending = doc({ status: 'completed', notify_target: 'feishu:oc_watch', notification_status: 'pending' });
  const noTarget = doc({
    status: 'failed',
    notify_target: null,
    notification_status: null,
    error: { type: 'X', message: 'boom' },
  });
  const stillRunning = doc({ status: 'running', notify_target: 'local', notification_status: null });
  const workflowRunning = doc({ status: 'completed', notify_target: 'local', notification_status: 'pending' });
  const failed = doc({
    status: 'completed',
    notify_target: 'hermes:telegram:-100123',
    notification_status: 'failed',
    notification_error: 'gateway down',
    notification_attempts: 4,
  });
  const sent = doc({
    status: 'completed',
    notify_target: 'local',
    notification_status: 'sent',
    notified_at: new Date().toISOString(),
    notification_attempts: 1,
  });
  const seeded = [pending, noTarget, stillRunning, workflowRunning, failed, sent];
  for (const d of seeded) expect(await store.applyMirror(d)).toBe('applied');

  // The "workflow still running" task: its workflow is open (nobody polls its queue), while the
  // store already shows it terminal — the workflow is the one to deliver, never the watcher.
  const input: TaskWorkflowInput = {
    task: { ...workflowRunning, status: 'queued' },
    prompt: 'p',
    turn_timeout_ms: 60_000,
    request_timeout_ms: 60_000,
    server_request_policy: 'decline',
  };
  await client.workflow.start('codexTaskWorkflow', {
    taskQueue: `${testEnv.config.temporal.taskQueue}-nobody`,
    workflowId: workflowRunning.task_id,
    args: [input],
  });
  runningWorkflows.push(workflowRunning.task_id);

  const snapshot = async () => Promise.all(seeded.map((d) => store.get(d.task_id)));
  const before = await snapshot();
  const mine = <T extends { task_id: string }>(report: { items: T[] }): T[] =>
    report.items.filter((i) => i.task_id.startsWith(prefix));

  // 1. Dry run: the preview, and nothing sent or written.
  const dry = await watch({ dryRun: true });
  expect(dry.sent).toEqual([]);
  expect(dry.report.dry_run).toBe(true);
  expect(mine(dry.report)).toEqual([
    expect.objectContaining({
      task_id: pending.task_id,
      action: 'send',
      message: expect.stringContaining(`final message of ${pending.task_id}`),
    }),
    expect.objectContaining({ task_id: noTarget.task_id, action: 'mark_no_target' }),
    expect.objectContaining({ task_id: workflowRunning.task_id, action: 'skipped_workflow_running' }),
  ]);
  expect(await snapshot()).toEqual(before);

  // 2. The real run: sends the pending one, marks the target-less one no_target, skips the rest.
  const first = await watch();
  expect(first.sent).toHaveLength(1);
  expect(first.sent[0]).toMatchObject({
    target: { kind: 'feishu', chatId: 'oc_watch' },
    key: `${pending.task_id}:turn-1:completion`,
  });
  expect(first.sent[0]!.message.text).toContain(`final message of ${pending.task_id}`);
  expect(mine(first.report).map((i) => [i.task_id, i.action])).toEqual([
    [pending.task_id, 'sent'],
    [noTarget.task_id, 'marked_no_target'],
    [workflowRunning.task_id, 'skipped_workflow_running'],
  ]);
  expect(await store.get(pending.task_id)).toMatchObject({
    notification_status: 'sent',
    notified_at: expect.any(String),
    notification_attempts: 1,
    version: 6,
  });
  expect(await store.get(noTarget.task_id)).toMatchObject({ notification_status: 'no_target', version: 6 });
  expect(await store.get(stillRunning.task_id)).toEqual(stillRunning);
  expect(await store.get(workflowRunning.task_id)).toEqual(workflowRunning);
  expect(await store.get(failed.task_id)).toEqual(failed);
  expect(await store.get(sent.task_id)).toEqual(sent);

  // 3. A second run sends nothing (no_target is never picked up again; the open workflow is still skipped).
  const afterFirst = await snapshot();
  const second = await watch();
  expect(second.sent).toEqual([]);
  expect(mine(second.report)).toEqual([
    expect.objectContaining({ task_id: workflowRunning.task_id, action: 'skipped_workflow_running' }),
  ]);
  expect(await snapshot()).toEqual(afterFirst);

  // 4. --retry-failed picks up `failed`.
  const retry = await watch({ retryFailed: true });
  expect(retry.sent).toHaveLength(1);
  expect(retry.sent[0]).toMatchObject({
    target: { kind: 'hermes', platform: 'telegram', chatId: '-100123' },
    key: `${failed.task_id}:turn-1:completion`,
  });
  expect(await store.get(failed.task_id)).toMatchObject({
    notification_status: 'sent',
    notification_error: null,
    notification_attempts: 5,
  });
  expect((await watch({ retryFailed: true })).sent).toEqual([]);
});

test('a failing notifier marks the task failed with the reason, and --retry-failed tries again', async () => {
  const task = doc({
    status: 'timed_out',
    notify_target: 'webhook:http://127.0.0.1:9/hook',
    notification_status: 'pending',
  });
  await store.applyMirror(task);

  const failing = await notifyCompleted({
    store,
    notifier: async () => {
      throw new Error('connection refused');
    },
  });
  expect(failing.items.filter((i) => i.task_id === task.task_id)).toEqual([
    expect.objectContaining({ action: 'failed', error: 'connection refused' }),
  ]);
  expect(await store.get(task.task_id)).toMatchObject({
    notification_status: 'failed',
    notification_error: 'connection refused',
    notification_attempts: 1,
  });

  expect((await watch()).sent.filter((s) => s.message.taskId === task.task_id)).toEqual([]); // not without --retry-failed
  const retried = await watch({ retryFailed: true });
  expect(retried.sent.map((s) => s.message.taskId)).toEqual([task.task_id]);
  expect(await store.get(task.task_id)).toMatchObject({
    notification_status: 'sent',
    notification_error: null,
    notification_attempts: 2,
  });
});
