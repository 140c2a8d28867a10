// Replies to a running task in the Temporal time-skipping test server, with a stand-in Codex
// activity that takes replies through the same relay as the real one: a reply Codex refuses to
// steer runs as the next turn; one taken by an attempt that never says what happened is not lost;
// the same reply id twice counts once; bad replies are refused with one sentence.
import { Context } from '@temporalio/activity';
import { createReplyRelay } from '../../activities/reply-relay';
import type { CodexTurnInput } from '../../src/contract/codex-turn';
import { ValidationError } from '../../src/errors';
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

/** In a fake turn: waits for the next reply, as the real activity does. */
function takeReply(input: CodexTurnInput) {
  const activity = Context.current();
  const relay = createReplyRelay()(input.taskId, input.turn, activity);
  return { relay, next: () => relay.next(activity.cancellationSignal) };
}

test('a reply Codex refuses to steer runs as the next turn, after one completion for the first', async () => {
  const notifier = new FakeNotifier();
  const codex = fakeCodex(async (input) => {
    if (input.turn === 1) {
      const { relay, next } = takeReply(input);
      const reply = await next();
      await relay.settle(reply!.reply_id, false, 'activeTurnNotSteerable');
    }
    return turnResult(input);
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'Review the change', cwd: h.workdir, notify_target: 'local' });
    await h.waitFor(task_id, (d) => d.status === 'running');
    const sent = await h.service.reply(task_id, 'Also check the docs.', 'r-refused');
    expect(sent.turns).toHaveLength(1);
    return h.result(task_id);
  });
  expect(final.status).toBe('completed');
  expect(codex.inputs.map((i) => [i.turn, i.prompt])).toEqual([
    [1, 'Review the change'],
    [2, 'Also check the docs.'],
  ]);
  expect(final.turns[0]!.replies).toBeUndefined();
  expect(final.turns[1]!.replies).toEqual([
    { reply_id: 'r-refused', prompt: 'Also check the docs.', delivered: 'turn_input' },
  ]);
  expect(final.queued_replies).toEqual([]);
  expect(notifier.completions(final.task_id).map((c) => c.idempotencyKey)).toEqual([
    `${final.task_id}:turn-1:completion`,
    `${final.task_id}:turn-2:completion`,
  ]);
  expect(await h.store.get(final.task_id)).toEqual(final);
});

test('a reply taken by a turn that ends without settling it runs as the next turn; a repeated reply id counts once', async () => {
  const codex = fakeCodex(async (input) => {
    if (input.turn === 1) await takeReply(input).next(); // taken, then the turn ends (an attempt lost mid-steer)
    return turnResult(input);
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: new FakeNotifier().notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'First', cwd: h.workdir, notify_target: 'local' });
    await h.waitFor(task_id, (d) => d.status === 'running');
    await h.service.reply(task_id, 'Second', 'r-lost');
    await h.service.reply(task_id, 'Second', 'r-lost').catch(() => undefined); // may land on either run: never twice
    return h.result(task_id);
  });
  expect(codex.inputs.map((i) => i.prompt)).toEqual(['First', 'Second']);
  expect(final.turns.flatMap((t) => t.replies ?? []).map((r) => r.reply_id)).toEqual(['r-lost']);
});

test('replies queued while a turn runs without steering become one next turn, in order', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const codex = fakeCodex(async (input) => {
    if (input.turn === 1) await gate;
    return turnResult(input);
  });
  const final = await h.withWorker({ runCodexTurn: codex, notifier: new FakeNotifier().notifier }, async () => {
    const { task_id } = await h.service.start({ prompt: 'Start', cwd: h.workdir });
    await h.waitFor(task_id, (d) => d.status === 'running');
    for (const n of [1, 2, 3]) {
      const doc = await h.service.reply(task_id, `Reply ${n}`, `r-order-${n}`);
      expect(doc.queued_replies?.map((r) => r.reply_id)).toEqual(
        Array.from({ length: n }, (_, i) => `r-order-${i + 1}`),
      );
    }
    release();
    return h.result(task_id);
  });
  expect(codex.inputs.map((i) => i.prompt)).toEqual(['Start', 'Reply 1\n\nReply 2\n\nReply 3']);
  expect(final.turns[1]!.replies?.map((r) => r.reply_id)).toEqual(['r-order-1', 'r-order-2', 'r-order-3']);
});

test('a malformed reply id or an empty prompt is refused with one sentence', async () => {
  await expect(h.service.reply('any-task', 'x', 'bad id!')).rejects.toThrow(ValidationError);
  await expect(h.service.reply('any-task', '  ', 'r1')).rejects.toThrow(/prompt must not be empty/);
});
