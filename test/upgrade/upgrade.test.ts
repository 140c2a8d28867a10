// Running workflows survive the upgrade that replaced the signal-and-poll request relay with the
// askPerson update: a task starts on the previous workflow code and its previous Codex activity,
// which hands its approval over with the codexServerRequest signal and polls for the answer; the
// worker is then replaced by today's (new workflow bundle, new activity) while the person has not
// answered yet. Today's worker replays the history (signal included), the retried Codex attempt asks
// the same question through askPerson, the person answers once, and the task finishes.
import { Context } from '@temporalio/activity';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TaskService } from '../../src/client/task-service';
import { createBridgeWorker } from '../../src/worker';
import { answerText, askPerson, fakeCodex, turnResult } from '../support/fake-codex';
import { FakeNotifier } from '../support/fake-notifier';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';
import {
  codexServerRequestSignal as previousRequestSignal,
  getRequestAnswerQuery as previousAnswerQuery,
} from './previous-workflow/messages';

let h: WorkflowHarness;
let previousBundle: WorkflowBundleWithSourceMap;
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

beforeAll(async () => {
  h = await createWorkflowHarness();
  previousBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./previous-workflow'), logger: silent });
});

afterAll(async () => {
  await h?.close();
});

const question = { kind: 'command_approval' as const, summary: 'Run `npm test`', details: 'Command: npm test' };

test('a task waiting for a person on the previous code finishes on the new code, asked once', async () => {
  const notifier = new FakeNotifier();
  // A short heartbeat timeout: the first attempt's worker is gone, its retry must come soon.
  const service = new TaskService({
    client: h.env.client,
    store: h.store,
    config: h.config,
    workflowInput: { heartbeat_timeout_ms: 3_000 },
    workflowType: 'codexTaskWorkflow', // the type the previous code knew
  });

  // --- the previous worker: signal the request, then poll the query until answered or stopped
  const previousCodex = fakeCodex(async (input) => {
    const activity = Context.current();
    const handle = h.env.client.workflow.getHandle(input.taskId);
    const requestId = `${input.taskId}-t1-r1`;
    await handle.signal(previousRequestSignal, { request_id: requestId, ...question, attempt: activity.info.attempt });
    for (;;) {
      // A query in flight is not answered once the worker stops polling: stop waiting on cancel.
      const answer = await Promise.race([handle.query(previousAnswerQuery, requestId), activity.cancelled]);
      if (answer) return turnResult(input, { finalMessage: `previous code got ${answer.kind}` });
      await activity.sleep(100); // throws once the worker shuts down and cancels the attempt
    }
  });
  const previous = await createBridgeWorker(h.config, {
    connection: h.env.nativeConnection,
    workflowBundle: previousBundle,
    deps: { store: h.store, notifier: notifier.notifier, runCodexTurn: previousCodex },
    // No sticky queue: the test server would otherwise keep the task's workflow tasks on the
    // stopped worker's queue (a real server moves them after a timeout).
    workerOptions: { maxCachedWorkflows: 0 },
  });
  const previousRun = previous.worker.run();
  const { task_id } = await service.start({
    prompt: 'p',
    cwd: h.workdir,
    notify_target: 'local',
    approval_policy: 'untrusted',
    task_id: 'upgrade-1',
  });
  const waiting = await h.waitFor(task_id, (d) => d.status === 'waiting_for_input');
  expect(waiting.pending_requests.map((r) => r.request_id)).toEqual([`${task_id}-t1-r1`]);
  await waitUntil(() => notifier.calls.some((c) => c.message.kind === 'request'));

  // --- the upgrade: the previous worker stops while the person has not answered
  previous.worker.shutdown();
  await previousRun;
  await previous.close();

  // --- today's worker: the retried attempt asks again (a new id naming the attempt) through askPerson
  const codex = fakeCodex(async (input) => {
    const attempt = Context.current().info.attempt;
    const answer = await askPerson(input, { request_id: `${input.taskId}-t1-a${attempt}-r1`, ...question });
    return turnResult(input, { finalMessage: `attempt ${attempt} got ${answerText(answer)}` });
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    await waitUntil(() => codex.inputs.length > 0);
    const answered = await service.approve(task_id, `${task_id}-t1-r1`, 'accept');
    expect(answered.pending_requests).toEqual([]);
    return h.result(task_id);
  });

  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('attempt 2 got accept');
  expect(previousCodex.inputs).toHaveLength(1);
  // Asked once, in the task's conversation, and told the result once.
  expect(notifier.calls.filter((c) => c.message.kind === 'request')).toHaveLength(1);
  expect(notifier.completions(task_id)).toHaveLength(1);
  expect(await h.store.get(task_id)).toEqual(final);
  // The history holds both hand-overs, and today's code replayed it without a failed workflow task.
  const { events } = await h.env.client.workflow.getHandle(task_id).fetchHistory();
  expect(events?.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? [])).toContain(
    'codexServerRequest',
  );
  expect(
    events?.flatMap((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? []),
  ).toContain('askPerson');
  expect(events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
});

async function waitUntil(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('the expected state was not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
