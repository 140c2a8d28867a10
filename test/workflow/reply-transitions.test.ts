// A reply's changes to the task document, as plain functions: queued, taken, steered or handed
// back, and the queue turned into the next turn's input.
import { knownReplyIds, replyState } from '../../src/contract/replies';
import { newTaskDocument, type TaskDocument } from '../../src/contract/task';
import {
  nextQueuedReply,
  repliesPrompt,
  repliesRequeued,
  repliesStartedTurn,
  replyQueued,
  replySteered,
  replyTaken,
} from '../../workflows/reply-transitions';
import { startTurn } from '../../workflows/task-transitions';

const T0 = '2026-01-01T00:00:00.000Z';

function running(): TaskDocument {
  const task = newTaskDocument({
    task_id: 't1',
    prompt: 'p',
    cwd: '/repo',
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: null,
    created_at: T0,
  });
  return startTurn(task, 'p', T0);
}

test('replies queue in arrival order; the first still queued is the next one taken', () => {
  let task = replyQueued(running(), { reply_id: 'a', prompt: 'A' }, T0);
  task = replyQueued(task, { reply_id: 'b', prompt: 'B' }, T0);
  expect(task.queued_replies?.map((r) => [r.reply_id, r.state])).toEqual([
    ['a', 'queued'],
    ['b', 'queued'],
  ]);
  task = replyTaken(task, 'a');
  expect(nextQueuedReply(task)?.reply_id).toBe('b');
  expect(replyState(task, 'a')).toBe('queued');
});

test('a steered reply leaves the queue and joins the running turn; a refused one is queued again', () => {
  let task = replyQueued(
    replyQueued(running(), { reply_id: 'a', prompt: 'A' }, T0),
    { reply_id: 'b', prompt: 'B' },
    T0,
  );
  task = replySteered(replyTaken(task, 'a'), 'a');
  expect(task.turns[0]!.replies).toEqual([{ reply_id: 'a', prompt: 'A', delivered: 'steered' }]);
  expect(replyState(task, 'a')).toBe('in_turn');
  task = repliesRequeued(replyTaken(task, 'b'), new Set(['b']));
  expect(task.queued_replies).toEqual([expect.objectContaining({ reply_id: 'b', state: 'queued' })]);
  expect([...knownReplyIds(task)].sort()).toEqual(['a', 'b']);
});

test('the queue becomes the next turn: one prompt in order, each reply recorded once as its input', () => {
  let task = replyQueued(
    replyQueued(running(), { reply_id: 'a', prompt: 'A' }, T0),
    { reply_id: 'b', prompt: 'B' },
    T0,
  );
  const replies = task.queued_replies!.map(({ reply_id, prompt }) => ({ reply_id, prompt }));
  expect(repliesPrompt(replies)).toBe('A\n\nB');
  task = repliesStartedTurn(startTurn(task, repliesPrompt(replies), T0), replies);
  expect(task.queued_replies).toEqual([]);
  expect(task.turns[1]!.replies?.map((r) => [r.reply_id, r.delivered])).toEqual([
    ['a', 'turn_input'],
    ['b', 'turn_input'],
  ]);
  expect(task.turns[0]!.replies).toBeUndefined();
});

test('a document written before replies existed has none', () => {
  const task = running();
  delete task.queued_replies;
  expect(nextQueuedReply(task)).toBeUndefined();
  expect(knownReplyIds(task).size).toBe(0);
  expect(repliesRequeued(task).queued_replies).toEqual([]);
});
