// Regression (found by test/faults/worker-sigkill.test.ts): when every attempt of the Codex
// activity ends in a heartbeat timeout — its worker crashed, was killed or hung — the task used to
// end `timed_out` with "Codex did not finish within <turn timeout> s", seconds after it started.
// It is a lost worker, not a slow turn: the task fails with CodexWorkerLost and says so.
import { TaskService } from '../../src/client/task-service';
import { FakeNotifier } from '../support/fake-notifier';
import { fakeCodex, turnResult } from '../support/fake-codex';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

let h: WorkflowHarness;

beforeAll(async () => {
  h = await createWorkflowHarness();
});

afterAll(async () => {
  await h?.close();
});

test('a turn whose worker stops heartbeating on every attempt fails as CodexWorkerLost, not timed_out', async () => {
  const notifier = new FakeNotifier();
  // Stands in for a worker that died mid-turn: never heartbeats, never answers within the timeout.
  const codex = fakeCodex(async (input) => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return turnResult(input);
  });
  const service = new TaskService({
    client: h.env.client,
    store: h.store,
    config: h.config,
    workflowInput: { heartbeat_timeout_ms: 1000 },
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return h.result(task_id);
  });
  expect(codex.inputs.length).toBe(3); // every attempt was tried
  expect(final.status).toBe('failed');
  expect(final.error?.type).toBe('CodexWorkerLost');
  expect(final.error?.message).toMatch(/stopped heartbeating/);
  expect(final.notification_status).toBe('sent');
  expect(notifier.completions(final.task_id)).toHaveLength(1);
  expect(await h.store.get(final.task_id)).toEqual(final);
});
