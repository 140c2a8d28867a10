// A schedule's run in the time-skipping test server: scheduledTaskWorkflow, started the way a
// Temporal Schedule starts it (workflow id `<schedule id>-<time>`), creates one ordinary task
// whose id comes from that name, runs it as a child and waits for it. (The test server has no
// Schedules themselves; test/e2e/schedules.test.ts runs real ones on the dev server.)
import type { ScheduledRunInput } from '../../src/contract/schedule';
import { FakeNotifier } from '../support/fake-notifier';
import { fakeCodex, runUntilCancelled } from '../support/fake-codex';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

let h: WorkflowHarness;

beforeAll(async () => {
  h = await createWorkflowHarness();
});

afterAll(async () => {
  await h?.close();
});

function runInput(prompt: string, notify_target: string | null): ScheduledRunInput {
  return {
    schedule_id: 'nightly',
    task: { prompt, cwd: h.workdir, model: null, sandbox: 'workspace-write', approval_policy: 'never', notify_target },
    workflow: { turn_timeout_ms: 60 * 60_000, request_timeout_ms: 24 * 60 * 60_000, server_request_policy: 'decline' },
  };
}

test('a run creates one task named after the run, runs it to the end, notifies once and mirrors it', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex();
  const runId = 'nightly-2026-11-30T09:00:00Z';
  const { starter, task } = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const handle = await h.env.client.workflow.start('scheduledTaskWorkflow', {
      taskQueue: h.config.temporal.taskQueue,
      workflowId: runId,
      args: [runInput('Update the dependencies', 'feishu:oc_nightly')],
    });
    const starter = await handle.result();
    return { starter, task: await h.result('nightly-2026-11-30T090000Z') };
  });
  expect(task.task_id).toBe('nightly-2026-11-30T090000Z');
  expect(task.workflow_id).toBe(task.task_id);
  expect(task.status).toBe('completed');
  expect(task.prompt).toBe('Update the dependencies');
  expect(task.notification_status).toBe('sent');
  expect(starter).toEqual(task);
  expect(notifier.calls).toHaveLength(1);
  expect(notifier.calls[0]!.idempotencyKey).toBe('nightly-2026-11-30T090000Z:turn-1:completion');
  expect(codex.inputs.map((i) => i.taskId)).toEqual(['nightly-2026-11-30T090000Z']);
  expect(await h.store.get(task.task_id)).toEqual(task);
  const description = await h.env.client.workflow.getHandle(task.task_id).describe();
  expect(description.parentExecution?.workflowId).toBe(runId);
});

test('the run stays open while its task runs (so overlap "skip" sees it busy), and cancelling the task ends both', async () => {
  const notifier = new FakeNotifier();
  const runId = 'nightly-2026-12-01T09:00:00Z';
  const taskId = 'nightly-2026-12-01T090000Z';
  const final = await h.withWorker(
    { runCodexTurn: fakeCodex(runUntilCancelled), notifier: notifier.notifier },
    async () => {
      const handle = await h.env.client.workflow.start('scheduledTaskWorkflow', {
        taskQueue: h.config.temporal.taskQueue,
        workflowId: runId,
        args: [runInput('Long job', 'local')],
      });
      await h.waitFor(taskId, (t) => t.status === 'running');
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await h.service.cancel(taskId);
      return handle.result();
    },
  );
  expect(final.task_id).toBe(taskId);
  expect(final.status).toBe('cancelled');
  expect(notifier.completions(taskId)).toHaveLength(1);
});
