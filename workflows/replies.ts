// Replies to a running task. The client's `reply` update queues the reply (update id = reply id, and
// the task remembers every reply id, so a repeated send changes nothing); the Codex activity takes
// queued replies one at a time (`takeReply`, a waiting update) and steers each into the running
// turn, then says whether Codex took it (`settleReply`). A reply Codex refuses, or one still queued
// when the turn ends, runs as the next turn: this run continues as new with the queued replies as
// its prompt, in the order they arrived. Nothing is dropped and nothing is applied twice.
import { CancellationScope, condition, setHandler } from '@temporalio/workflow';
import {
  REPLY_ID_PATTERN,
  knownReplyIds,
  queuedReplies,
  replyState,
  replyUpdate,
  settleReplyUpdate,
  takeReplyUpdate,
  type ReplyReceipt,
} from '../src/contract/replies';
import { MAX_PROMPT_LENGTH, isTerminalStatus } from '../src/contract/task';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';
import { nextQueuedReply, repliesPrompt } from './reply-transitions';
import type { TaskState } from './task-state';

/** How long a reply's sender waits for Codex to take it into the running turn. */
const STEER_WAIT = '5s';

export interface ReplyDesk {
  /** The turn is over: replies taken but not confirmed wait for the next turn. */
  turnEnded(): void;
  /** The next run's input when replies wait for a turn, else null. */
  nextTurn(input: TaskWorkflowInput): TaskWorkflowInput | null;
}

export function handleReplies(state: TaskState): ReplyDesk {
  let turnStarted = false;
  let turnOver = false;
  // True while the Codex activity of this turn takes replies; false before, after a refusal, and
  // once the turn is over (a reply then waits for the next turn without waiting here).
  let steerable = false;
  const refused = new Set<string>();
  const running = () => turnStarted && !turnOver && !isTerminalStatus(state.task.status);

  const receipt = (replyId: string): ReplyReceipt => ({
    reply_id: replyId,
    state: replyState(state.task, replyId) === 'in_turn' ? 'steered' : 'queued',
    task: state.task,
  });

  setHandler(
    replyUpdate,
    ({ reply_id, prompt }) =>
      CancellationScope.nonCancellable(async () => {
        if (knownReplyIds(state.task).has(reply_id)) return receipt(reply_id);
        state.queueReply({ reply_id, prompt });
        if (steerable && running()) {
          await condition(
            () => replyState(state.task, reply_id) === 'in_turn' || refused.has(reply_id) || !steerable || !running(),
            STEER_WAIT,
          );
        }
        return receipt(reply_id);
      }),
    { validator: ({ reply_id, prompt }) => checkReply(reply_id, prompt) },
  );

  setHandler(
    takeReplyUpdate,
    ({ turn }) =>
      CancellationScope.nonCancellable(async () => {
        if (turn !== state.turnNumber) return null;
        turnStarted = true;
        steerable = true;
        await condition(() => nextQueuedReply(state.task) !== undefined || !running());
        const reply = nextQueuedReply(state.task);
        if (!running() || !reply) return null;
        state.takeReply(reply.reply_id);
        return { reply_id: reply.reply_id, prompt: reply.prompt };
      }),
    {
      // A take that reaches the workflow after the turn ended (a retried attempt's, held back while
      // a workflow task waited for a dead worker) is refused rather than accepted: an accepted one
      // would be recorded after the turn's end, which a replay delivers together with it, in the
      // other order.
      validator: ({ turn }) => {
        if (turn === state.turnNumber && (turnOver || isTerminalStatus(state.task.status)))
          throw new Error('The turn is over: replies wait for the next turn.');
      },
    },
  );

  setHandler(settleReplyUpdate, ({ reply_id, steered }) => {
    const taken = queuedReplies(state.task).find((r) => r.reply_id === reply_id && r.state === 'steering');
    if (!taken) return;
    if (steered) return state.replySteered(reply_id);
    refused.add(reply_id);
    steerable = false;
    state.requeueReplies(new Set([reply_id]));
  });

  return {
    turnEnded() {
      turnOver = true;
      steerable = false;
      state.requeueReplies();
    },
    nextTurn(input) {
      const waiting = queuedReplies(state.task);
      if (waiting.length === 0) return null;
      const replies = waiting.map(({ reply_id, prompt }) => ({ reply_id, prompt }));
      return { ...input, task: { ...state.task, status: 'queued' }, prompt: repliesPrompt(replies), replies };
    },
  };
}

/** Throws the reason a reply is refused: a malformed id or an empty or oversized prompt. */
function checkReply(replyId: unknown, prompt: unknown): void {
  if (typeof replyId !== 'string' || !REPLY_ID_PATTERN.test(replyId)) {
    throw new Error('reply_id must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.');
  }
  if (typeof prompt !== 'string' || prompt.trim() === '') throw new Error('prompt must not be empty.');
  if (prompt.length > MAX_PROMPT_LENGTH) throw new Error(`prompt is longer than ${MAX_PROMPT_LENGTH} characters.`);
}
