// Replies sent while a turn runs: what the task document shows of them, and the messages that carry
// them from the client to the workflow and on into the running Codex turn. Pure: workflow code
// imports it.
import { defineUpdate } from '@temporalio/workflow';
import type { TaskDocument } from './task';

/** Reply ids name Temporal updates (de-duplication) and appear in the task document. */
export const REPLY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * A reply the workflow holds: `queued` until it is delivered, `steering` while the Codex activity
 * is adding it to the running turn (then it is steered, or queued again for the next turn).
 */
export interface QueuedReply {
  reply_id: string;
  prompt: string;
  state: 'queued' | 'steering';
  received_at: string;
}

/** How a reply reached Codex: added to the running turn, or as (part of) a turn's input. */
export interface DeliveredReply {
  reply_id: string;
  prompt: string;
  delivered: 'steered' | 'turn_input';
}

/** What the sender of a reply learns: where it is now. */
export interface ReplyReceipt {
  reply_id: string;
  /** `steered`: in the running turn; `queued`: runs as the next turn when this one ends. */
  state: 'steered' | 'queued';
  task: TaskDocument;
}

/** The replies waiting for a turn, in order. */
export function queuedReplies(task: TaskDocument): QueuedReply[] {
  return task.queued_replies ?? [];
}

/** Every reply id the task has seen: queued, steered into a turn, or a turn's input. */
export function knownReplyIds(task: TaskDocument): Set<string> {
  const ids = new Set(queuedReplies(task).map((r) => r.reply_id));
  for (const turn of task.turns) for (const r of turn.replies ?? []) ids.add(r.reply_id);
  return ids;
}

/** Where a known reply is now: taken by a turn, or still waiting. */
export function replyState(task: TaskDocument, replyId: string): 'in_turn' | 'queued' | undefined {
  if (queuedReplies(task).some((r) => r.reply_id === replyId)) return 'queued';
  for (const turn of task.turns) if (turn.replies?.some((r) => r.reply_id === replyId)) return 'in_turn';
  return undefined;
}

/**
 * A reply to a running task. Update id = reply id: a repeated send is the same reply. Waits a few
 * seconds for Codex to take it into the running turn, then answers where it is.
 */
export const replyUpdate = defineUpdate<ReplyReceipt, [{ reply_id: string; prompt: string }]>('reply');

// --- between the Codex activity and its workflow -------------------------------------------

/** The next queued reply for the running turn (marked `steering`), or null once the turn is over. */
export const takeReplyUpdate = defineUpdate<{ reply_id: string; prompt: string } | null, [{ turn: number }]>(
  'takeReply',
);

/** The activity's word on a reply it took: steered into the turn, or refused (queued again). */
export const settleReplyUpdate = defineUpdate<void, [{ reply_id: string; steered: boolean; reason?: string }]>(
  'settleReply',
);
