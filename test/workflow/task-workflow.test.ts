// The task workflow's notification lifecycle in the Temporal time-skipping test server, with the
// design's fake notifier activity dependency and a stand-in Codex activity. Every case also checks
// that the MongoDB mirror ends equal to the workflow's own final state.
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TaskDocument } from '../../src/contract/task';
import { ConflictError, ValidationError } from '../../src/errors';
import { setNotifyTargetUpdate } from '../../src/contract/messages';
import { FakeNotifier } from '../support/fake-notifier';
import { answerText, askPerson, fakeCodex, runUntilCancelled, turnResult } from '../support/fake-codex';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

let h: WorkflowHarness;

beforeAll(async () => {
  h = await createWorkflowHarness();
});

afterAll(async () => {
  await h?.close();
});

async function expectMirrorMatches(final: TaskDocument): Promise<void> {
  expect(await h.store.get(final.task_id)).toEqual(final);
}

test('a completed task is notified exactly once and the mirror matches the workflow', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex();
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const started = await h.service.start({
      prompt: 'Investigate the failing tests',
      cwd: h.workdir,
      notify_target: 'feishu:oc_chat1',
    });
    expect(started.status).toBe('queued');
    return h.result(started.task_id);
  });
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('sent');
  expect(final.notified_at).not.toBeNull();
  expect(final.notification_attempts).toBe(1);
  expect(final.result?.final_message).toBe('Done: Investigate the failing tests');
  expect(notifier.calls).toHaveLength(1);
  expect(notifier.calls[0]!.target).toBe('feishu:oc_chat1');
  expect(notifier.calls[0]!.idempotencyKey).toBe(`${final.task_id}:turn-1:completion`);
  expect(codex.inputs).toHaveLength(1);
  await expectMirrorMatches(final);
});

test('transient notifier failures are retried until sent, and the attempts are counted', async () => {
  const notifier = new FakeNotifier().failNext(2, { retryable: true, message: 'HTTP 500 from the chat API' });
  const final = await h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return h.result(task_id);
  });
  expect(final.notification_status).toBe('sent');
  expect(final.notification_attempts).toBe(3);
  expect(notifier.calls).toHaveLength(3);
  expect(new Set(notifier.calls.map((c) => c.idempotencyKey)).size).toBe(1); // the same key every time
  expect(notifier.completions(final.task_id)).toHaveLength(1);
  await expectMirrorMatches(final);
});

/** The (task status, notification status) pairs the run upserted as search attributes, in order. */
async function upsertedStatuses(taskId: string): Promise<string[]> {
  const { events } = await h.env.client.workflow.getHandle(taskId).fetchHistory();
  const text = (field: { data?: Uint8Array | null } | undefined) =>
    field?.data ? (JSON.parse(Buffer.from(field.data).toString()) as string) : '?';
  return (events ?? []).flatMap((e) => {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    return fields ? [`${text(fields.CodexTaskStatus)}/${text(fields.NotificationStatus)}`] : [];
  });
}

test('search attributes: a quick delivery goes from running straight to sent; a slow one shows pending first', async () => {
  const quick = new FakeNotifier();
  const slow = new FakeNotifier().failNext(1, { retryable: true, message: 'HTTP 503 from the chat API' });
  const run = (notifier: FakeNotifier) =>
    h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
      const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
      return h.result(task_id);
    });
  const quickTask = await run(quick);
  const slowTask = await run(slow);
  expect(await upsertedStatuses(quickTask.task_id)).toEqual(['running/none', 'completed/sent']);
  // The failed first attempt told the workflow (notificationPending), which showed the delivery pending.
  expect(await upsertedStatuses(slowTask.task_id)).toEqual(['running/none', 'completed/pending', 'completed/sent']);
  await expectMirrorMatches(slowTask);
});

test('a permanent failure marks the notification failed with the reason, after one attempt', async () => {
  const notifier = new FakeNotifier().failForever({
    retryable: false,
    message: 'The Feishu bot is not in chat oc_x: add the bot to the chat (code 230002).',
  });
  const final = await h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'feishu:oc_x' });
    return h.result(task_id);
  });
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('failed');
  expect(final.notification_error).toMatch(/bot is not in chat oc_x/);
  expect(final.notification_attempts).toBe(1);
  expect(notifier.calls).toHaveLength(1);
  await expectMirrorMatches(final);
});

test('a rate limit asking for hours of backoff completes in test time', async () => {
  const notifier = new FakeNotifier().failNext(3, {
    retryable: true,
    message: 'rate limited',
    retryAfterMs: 2 * 60 * 60_000,
  });
  const wallStart = Date.now();
  const { final, run } = await h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return { final: await h.result(task_id), run: await h.env.client.workflow.getHandle(task_id).describe() };
  });
  expect(final.notification_status).toBe('sent');
  expect(notifier.calls).toHaveLength(4);
  // The retries honoured the announced reset: ≥ 2 h apart in workflow time…
  const gapsMs = notifier.calls.slice(1).map((c, i) => c.at - notifier.calls[i]!.at);
  expect(run.closeTime!.getTime() - run.startTime.getTime()).toBeGreaterThanOrEqual(3 * 2 * 60 * 60_000);
  // …while the wall clock barely moved.
  expect(Date.now() - wallStart).toBeLessThan(60_000);
  expect(gapsMs.every((g) => g < 30_000)).toBe(true);
});

test('no target → no_target, and the notifier is never called', async () => {
  const notifier = new FakeNotifier();
  const final = await h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir });
    return h.result(task_id);
  });
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('no_target');
  expect(notifier.calls).toHaveLength(0);
  await expectMirrorMatches(final);
});

test('cancel interrupts the turn, and the cancellation is notified', async () => {
  const notifier = new FakeNotifier();
  const final = await h.withWorker(
    { runCodexTurn: fakeCodex(runUntilCancelled), notifier: notifier.notifier },
    async () => {
      const { task_id } = await h.service.start({
        prompt: 'long job',
        cwd: h.workdir,
        notify_target: 'hermes:telegram:-100123',
      });
      await h.waitFor(task_id, (d) => d.status === 'running');
      await h.service.cancel(task_id);
      return h.result(task_id);
    },
  );
  expect(final.status).toBe('cancelled');
  expect(final.notification_status).toBe('sent');
  expect(notifier.completions(final.task_id)).toHaveLength(1);
  expect(notifier.completions(final.task_id)[0]!.message.title).toMatch(/cancel/i);
  await expectMirrorMatches(final);
  await expect(h.service.cancel(final.task_id)).rejects.toBeInstanceOf(ConflictError);
});

test('a failed Codex turn is failed and notified with its error', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex((i) =>
    turnResult(i, {
      status: 'failed',
      finalMessage: null,
      error: { type: 'ModelError', message: 'model said 400: bad request' },
    }),
  );
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return h.result(task_id);
  });
  expect(final.status).toBe('failed');
  expect(final.error).toEqual({ type: 'ModelError', message: 'model said 400: bad request' });
  expect(final.notification_status).toBe('sent');
  expect(notifier.completions(final.task_id)[0]!.message.text).toMatch(/bad request/);
  await expectMirrorMatches(final);
});

test('a non-retryable Codex activity error fails the task at once and is notified', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex(() => {
    throw ApplicationFailure.nonRetryable('The working directory /nope does not exist.', 'CwdMissing');
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return h.result(task_id);
  });
  expect(final.status).toBe('failed');
  expect(final.error?.type).toBe('CwdMissing');
  expect(codex.inputs).toHaveLength(1);
  expect(notifier.completions(final.task_id)).toHaveLength(1);
});

test('a target added while the task runs is the one notified', async () => {
  const notifier = new FakeNotifier();
  const final = await h.withWorker(
    { runCodexTurn: fakeCodex(runUntilCancelled), notifier: notifier.notifier },
    async () => {
      const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir });
      await h.waitFor(task_id, (d) => d.status === 'running');
      const handle = h.env.client.workflow.getHandle(task_id);
      await expect(
        handle.executeUpdate(setNotifyTargetUpdate, { args: [{ notify_target: 'telegram:oops' }] }),
      ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      const updated = await handle.executeUpdate(setNotifyTargetUpdate, { args: [{ notify_target: 'local' }] });
      expect(updated.notify_target).toBe('local');
      await h.service.cancel(task_id);
      return h.result(task_id);
    },
  );
  expect(final.notification_status).toBe('sent');
  expect(notifier.calls.map((c) => c.target)).toEqual(['local']);
});

test('an approval is asked in the chat, answered by an update, and reaches the turn; a second answer is refused', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex(async (input) => {
    const answer = await askPerson(input, {
      request_id: 'req-1',
      kind: 'command_approval',
      summary: 'Run `npm test`',
      details: '$ npm test (in /repo)',
    });
    return turnResult(input, { finalMessage: `decision was ${answerText(answer)}` });
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({
      prompt: 'p',
      cwd: h.workdir,
      notify_target: 'local',
      approval_policy: 'untrusted',
    });
    const waiting = await h.waitFor(task_id, (d) => d.status === 'waiting_for_input');
    expect(waiting.pending_requests.map((r) => r.request_id)).toEqual(['req-1']);
    await expect(h.service.approve(task_id, 'req-unknown', 'accept')).rejects.toBeInstanceOf(ConflictError);
    const answered = await h.service.approve(task_id, 'req-1', 'accept');
    expect(answered.pending_requests).toEqual([]);
    await expect(h.service.approve(task_id, 'req-1', 'decline')).rejects.toThrow(/already been answered/);
    return h.result(task_id);
  });
  expect(final.result?.final_message).toBe('decision was accept');
  await expect(h.service.approve(final.task_id, 'req-1', 'accept')).rejects.toBeInstanceOf(ConflictError); // finished task
  const kinds = [...notifier.delivered.values()].map((d) => d.message.kind);
  expect(kinds).toEqual(['request', 'completion']);
  expect(notifier.calls[0]!.message.text).toMatch(/req-1/);
});

test('asking again under the same request id attaches to the same update: one message, one answer', async () => {
  const notifier = new FakeNotifier();
  const request = {
    request_id: 'req-2',
    kind: 'user_input' as const,
    summary: 'Which branch?',
    details: '[q1] Which branch?',
  };
  const codex = fakeCodex(async (input) => {
    const [first, second] = await Promise.all([askPerson(input, request), askPerson(input, request)]);
    return turnResult(input, { finalMessage: `${answerText(first)} / ${answerText(second)}` });
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({
      prompt: 'p',
      cwd: h.workdir,
      notify_target: 'local',
      approval_policy: 'untrusted',
    });
    const waiting = await h.waitFor(task_id, (d) => d.status === 'waiting_for_input');
    expect(waiting.pending_requests.map((r) => r.request_id)).toEqual(['req-2']);
    await h.service.answer(task_id, 'req-2', { q1: ['main'] });
    return h.result(task_id);
  });
  expect(final.result?.final_message).toBe('{"q1":["main"]} / {"q1":["main"]}');
  expect(notifier.calls.filter((c) => c.message.kind === 'request')).toHaveLength(1);
  const { events } = await h.env.client.workflow.getHandle(final.task_id).fetchHistory();
  expect(
    events?.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'askPerson',
    ),
  ).toHaveLength(1);
});

test('a request nobody answers is declined at its deadline and the person is told', async () => {
  const deadlineHarness = await createWorkflowHarness({ CODEX_BRIDGE_REQUEST_TIMEOUT: '2s' });
  try {
    const notifier = new FakeNotifier();
    const codex = fakeCodex(async (input) => {
      const answer = await askPerson(input, {
        request_id: 'req-9',
        kind: 'command_approval',
        summary: 'Run rm',
        details: '$ rm -rf build',
      });
      return turnResult(input, { finalMessage: `answered ${answerText(answer)} by ${answer.answered_by}` });
    });
    const final = await deadlineHarness.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
      const { task_id } = await deadlineHarness.service.start({
        prompt: 'p',
        cwd: deadlineHarness.workdir,
        notify_target: 'local',
        approval_policy: 'untrusted',
      });
      return deadlineHarness.result(task_id);
    });
    expect(final.result?.final_message).toBe('answered decline by deadline');
    expect([...notifier.delivered.values()].map((d) => d.message.kind)).toEqual([
      'request',
      'request_expired',
      'completion',
    ]);
  } finally {
    await deadlineHarness.close();
  }
});

test('reply runs a follow-up turn in the same thread with its own notification', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex();
  const second = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'first', cwd: h.workdir, notify_target: 'local' });
    await h.result(task_id);
    const queued = await h.service.reply(task_id, 'now also fix X');
    expect(queued.status).toBe('queued');
    const handle = h.env.client.workflow.getHandle(task_id);
    return handle.result();
  });
  expect(
    second.turns.map((t: TaskDocument['turns'][number]) => [t.turn, t.prompt, t.status, t.notification_status]),
  ).toEqual([
    [1, 'first', 'completed', 'sent'],
    [2, 'now also fix X', 'completed', 'sent'],
  ]);
  expect(codex.inputs[1]!.threadId).toBe(codex.inputs[0]!.threadId ?? `thread-${second.task_id}`);
  expect(notifier.completions(second.task_id).map((d) => d.idempotencyKey)).toEqual([
    `${second.task_id}:turn-1:completion`,
    `${second.task_id}:turn-2:completion`,
  ]);
  await expectMirrorMatches(second);
});

test('a duplicate task id is a conflict and runs nothing twice; bad input creates nothing', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex();
  await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    await h.service.start({ prompt: 'p', cwd: h.workdir, task_id: 'dup-task-1' });
    await expect(h.service.start({ prompt: 'p', cwd: h.workdir, task_id: 'dup-task-1' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await h.result('dup-task-1');
  });
  expect(codex.inputs.filter((i) => i.taskId === 'dup-task-1')).toHaveLength(1);
  await expect(
    h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'slack:#general', task_id: 'bad-target-1' }),
  ).rejects.toBeInstanceOf(ValidationError);
  await expect(h.service.start({ prompt: ' ', cwd: h.workdir, task_id: 'bad-prompt-1' })).rejects.toBeInstanceOf(
    ValidationError,
  );
  await expect(
    h.service.start({ prompt: 'p', cwd: '/definitely/not/here', task_id: 'bad-cwd-1' }),
  ).rejects.toBeInstanceOf(ValidationError);
  for (const id of ['bad-target-1', 'bad-prompt-1', 'bad-cwd-1']) expect(await h.store.get(id)).toBeNull();
});

test('a stale or repeated mirror write never moves a document backwards', async () => {
  const notifier = new FakeNotifier();
  const final = await h.withWorker({ runCodexTurn: fakeCodex(), notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
    return h.result(task_id);
  });
  const older: TaskDocument = { ...final, status: 'running', notification_status: null, version: final.version - 3 };
  expect(await h.store.applyMirror(older)).toBe('stale');
  expect(await h.store.applyMirror(final)).toBe('stale'); // repeated
  expect(await h.store.get(final.task_id)).toEqual(final);
  const newer = { ...final, version: final.version + 1, notification_error: 'x' };
  expect(await h.store.applyMirror(newer)).toBe('applied');
});
