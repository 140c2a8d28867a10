// Every change a reply makes to the task document, as plain functions (unit-tested directly). A
// reply sent while a turn runs is queued; the Codex activity takes queued replies one at a time and
// steers each into the running turn, or hands it back; whatever is still queued when the turn ends
// becomes the next turn's input, in the order the replies arrived.
import { queuedReplies, type DeliveredReply, type QueuedReply } from '../src/contract/replies';
import type { TaskDocument, TurnRecord } from '../src/contract/task';

/** A reply arrives: it waits at the end of the queue. */
export function replyQueued(
  task: TaskDocument,
  reply: { reply_id: string; prompt: string },
  now: string,
): TaskDocument {
  const queued: QueuedReply = { reply_id: reply.reply_id, prompt: reply.prompt, state: 'queued', received_at: now };
  return { ...task, queued_replies: [...queuedReplies(task), queued] };
}

/** The first reply still queued (the one the running turn gets next). */
export function nextQueuedReply(task: TaskDocument): QueuedReply | undefined {
  return queuedReplies(task).find((r) => r.state === 'queued');
}

/** The Codex activity took a reply to steer it into the running turn. */
export function replyTaken(task: TaskDocument, replyId: string): TaskDocument {
  return {
    ...task,
    queued_replies: queuedReplies(task).map((r) => (r.reply_id === replyId ? { ...r, state: 'steering' } : r)),
  };
}

/** Codex took the reply into the running turn: it leaves the queue and joins the turn's record. */
export function replySteered(task: TaskDocument, replyId: string): TaskDocument {
  const reply = queuedReplies(task).find((r) => r.reply_id === replyId);
  if (!reply) return task;
  const delivered: DeliveredReply = { reply_id: reply.reply_id, prompt: reply.prompt, delivered: 'steered' };
  const next = { ...task, queued_replies: queuedReplies(task).filter((r) => r.reply_id !== replyId) };
  return withLastTurn(next, (turn) => ({ ...turn, replies: [...(turn.replies ?? []), delivered] }));
}

/** Codex refused to steer (or the activity that took replies is gone): they wait for the next turn. */
export function repliesRequeued(task: TaskDocument, replyIds?: ReadonlySet<string>): TaskDocument {
  const requeue = (r: QueuedReply) => r.state === 'steering' && (!replyIds || replyIds.has(r.reply_id));
  return { ...task, queued_replies: queuedReplies(task).map((r) => (requeue(r) ? { ...r, state: 'queued' } : r)) };
}

/** The prompt of a turn made of replies: each reply once, in order. */
export function repliesPrompt(replies: readonly { prompt: string }[]): string {
  return replies.map((r) => r.prompt).join('\n\n');
}

/** A turn starts from replies: they leave the queue and are recorded as the turn's input. */
export function repliesStartedTurn(
  task: TaskDocument,
  replies: readonly { reply_id: string; prompt: string }[],
): TaskDocument {
  if (replies.length === 0) return task;
  const ids = new Set(replies.map((r) => r.reply_id));
  const delivered: DeliveredReply[] = replies.map((r) => ({
    reply_id: r.reply_id,
    prompt: r.prompt,
    delivered: 'turn_input',
  }));
  const next = { ...task, queued_replies: queuedReplies(task).filter((r) => !ids.has(r.reply_id)) };
  return withLastTurn(next, (turn) => ({ ...turn, replies: [...(turn.replies ?? []), ...delivered] }));
}

function withLastTurn(task: TaskDocument, change: (turn: TurnRecord) => TurnRecord): TaskDocument {
  if (task.turns.length === 0) return task;
  const turns = task.turns.slice();
  turns[turns.length - 1] = change(turns[turns.length - 1]!);
  return { ...task, turns };
}
