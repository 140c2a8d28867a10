// Cancellation in every state, by both paths: the bridge's `cancel` (CLI, API, Hermes tool all call
// TaskService.cancel) and Temporal's own cancellation (the Web UI's "Request Cancellation",
// `temporal workflow cancel`), with the REAL codex binary. Whatever the state — queued, running,
// waiting for a person, delivering its result — the task ends the same way: status `cancelled`,
// no pending request, the mirror equal to the workflow's state, exactly one cancellation message to
// the target, no `codex app-server` left, and the workflow closed (Canceled when Temporal cancelled
// it, Completed when the bridge did).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readInboxLines } from '../../activities/notify/local-notifier';
import type { TaskDocument } from '../../src/contract/task';
import { TEMPORAL_CLI } from '../../src/infra/tool-paths';
import { getTaskQuery } from '../../src/contract/messages';
import { createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

const HEARTBEAT_TIMEOUT_MS = 8_000;

type CancelPath = 'bridge' | 'temporal';
const PATHS: CancelPath[] = ['bridge', 'temporal'];

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  h = await createE2eHarness({ workflowInput: { heartbeat_timeout_ms: HEARTBEAT_TIMEOUT_MS } });
  worker = await h.startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

async function cancel(path: CancelPath, taskId: string): Promise<void> {
  if (path === 'bridge') return h.service.cancel(taskId);
  // What the Web UI's button sends: a RequestCancelWorkflowExecution, here through the Temporal CLI.
  await promisify(execFile)(TEMPORAL_CLI, [
    'workflow',
    'cancel',
    '--address',
    h.config.temporal.address,
    '--namespace',
    h.config.temporal.namespace,
    '--workflow-id',
    taskId,
  ]);
}

/** The closed workflow's state and status, once the mirror has caught up with it. */
async function ended(taskId: string, path: CancelPath): Promise<TaskDocument> {
  const handle = h.client.workflow.getHandle(taskId);
  const closed = await eventually(
    () => handle.describe(),
    (d) => d.status.name !== 'RUNNING',
    90_000,
    `task ${taskId} to close`,
  );
  expect(closed.status.name).toBe(path === 'temporal' ? 'CANCELLED' : 'COMPLETED');
  const final = await handle.query(getTaskQuery);
  expect(final.status).toBe('cancelled');
  expect(final.pending_requests).toEqual([]);
  expect(final.notification_status).toBe('sent');
  expect(await h.store.get(taskId)).toEqual(final);
  await eventually(
    () => h.codexProcesses(),
    (pids) => pids.length === 0,
    15_000,
    'no codex app-server left',
  );
  return final;
}

const localMessages = async (taskId: string) =>
  (await readInboxLines(h.config.notifiers.localInbox)).filter((l) => l.task_id === taskId);

describe.each(PATHS)('cancelled through %s', (path) => {
  test('queued: no worker has picked the task up yet; Codex never runs', async () => {
    const queue = h.variant({ TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-queued-${path}` });
    const route = h.model.route(`queued-${path}`, [
      { items: [{ type: 'message', text: 'never', phase: 'final_answer' }] },
    ]);
    const { task_id } = await queue.service.start({
      prompt: `Wait in the queue ${route.tag}`,
      cwd: h.workdir(`queued-${path}`),
      notify_target: 'local',
    });
    expect((await h.store.get(task_id))?.status).toBe('queued');
    await cancel(path, task_id);

    const late = await h.startWorker({ config: queue.config });
    try {
      const final = await ended(task_id, path);
      expect(final.error?.type).toBe('Cancelled');
      expect(route.requests).toHaveLength(0);
      const lines = await localMessages(task_id);
      expect(lines.map((l) => [l.kind, l.title])).toEqual([['completion', expect.stringMatching(/cancelled/)]]);
    } finally {
      await late.stop();
    }
  });

  test('running: the turn is interrupted mid-flight', async () => {
    const route = h.model.route(`running-${path}`, [{ stall: true }]);
    const { task_id } = await h.service.start({
      prompt: `Think for a long time ${route.tag}`,
      cwd: h.workdir(`running-${path}`),
      notify_target: 'local',
    });
    await route.waitForRequests(1);
    await h.waitFor(task_id, (d) => d.status === 'running');
    await cancel(path, task_id);

    const final = await ended(task_id, path);
    expect(final.turns.map((t) => t.status)).toEqual(['cancelled']);
    const lines = await localMessages(task_id);
    expect(lines.map((l) => [l.kind, l.title])).toEqual([['completion', expect.stringMatching(/cancelled/)]]);
  });

  test('waiting for a person: the request is dropped and nothing it asked for runs', async () => {
    const route = h.model.route(`waiting-${path}`, [
      { items: [{ type: 'exec_command', cmd: 'echo never > never.txt', callId: `call_waiting_${path}` }] },
      { items: [{ type: 'message', text: 'should not get here', phase: 'final_answer' }] },
    ]);
    const cwd = h.workdir(`waiting-${path}`);
    const { task_id } = await h.service.start({
      prompt: `Write never.txt ${route.tag}`,
      cwd,
      notify_target: 'local',
      approval_policy: 'untrusted',
    });
    await h.waitFor(task_id, (d) => d.status === 'waiting_for_input' && d.pending_requests.length === 1, 60_000);
    await eventually(
      () => localMessages(task_id),
      (lines) => lines.length === 1,
      20_000,
      'the approval message',
    );
    await cancel(path, task_id);

    const final = await ended(task_id, path);
    expect(final.result?.final_message ?? null).not.toBe('should not get here');
    const lines = await localMessages(task_id);
    expect(lines.map((l) => l.kind)).toEqual(['request', 'completion']);
    expect(lines[1]!.title).toMatch(/cancelled/);
    expect(route.requests).toHaveLength(1);
  });

  test('delivering: a receiver that keeps failing stops being retried; the person is told once that the task was cancelled', async () => {
    const route = h.model.route(`delivering-${path}`, [
      { items: [{ type: 'message', text: 'All done.', phase: 'final_answer' }] },
    ]);
    const hook = `/cancel-delivering-${path}`;
    h.webhook.failNext(1000, { kind: 'status', status: 503 });
    try {
      const { task_id } = await h.service.start({
        prompt: `Finish quickly ${route.tag}`,
        cwd: h.workdir(`delivering-${path}`),
        notify_target: `webhook:${h.webhook.url(hook)}`,
      });
      await h.waitFor(task_id, (d) => d.status === 'completed' && d.notification_status === 'pending');
      const completionAttempts = () =>
        h.webhook.requests.filter(
          (r) => r.path === hook && (r.body as { kind?: string } | null)?.kind === 'completion',
        );
      await eventually(completionAttempts, (rs) => rs.length >= 2, 30_000, 'two failed delivery attempts');
      await cancel(path, task_id);
      h.webhook.reset(); // the receiver recovers: whatever is sent from now on is delivered

      const final = await ended(task_id, path);
      expect(final.error).toMatchObject({
        type: 'Cancelled',
        message: expect.stringMatching(/while its result was being delivered/),
      });
      expect(final.result?.final_message).toBe('All done.');
      const delivered = h.webhook.deliveredTo(hook);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.body).toMatchObject({
        kind: 'completion',
        status: 'cancelled',
        idempotency_key: `${task_id}:turn-1:completion`,
      });
    } finally {
      h.webhook.reset();
    }
  });
});
