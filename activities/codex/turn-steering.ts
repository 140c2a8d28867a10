// Adds replies to a running turn with `turn/steer`, one at a time, in the order the workflow hands
// them out. Codex refuses some turns (`activeTurnNotSteerable`) and any turn that has just ended;
// a refused reply goes back to the workflow, and the rest then wait for the next turn, so their
// order holds.
import { abortable } from './abortable';
import type { AppServerClient } from './app-server-client';
import type { TurnReplies } from '../reply-relay';

export interface SteeringTarget {
  threadId: string;
  turnId: string;
  /** True once the turn has reported its outcome. */
  isOver(): boolean;
  /** Codex took this reply into the turn. */
  onSteered?(prompt: string): void;
}

/**
 * Runs until the turn is over or Codex refuses a reply. Returns when the last reply it took is
 * settled, so the caller can wait for it before reporting the turn's result.
 */
export async function steerReplies(
  client: Pick<AppServerClient, 'request'>,
  target: SteeringTarget,
  replies: TurnReplies,
  turnOver: AbortSignal,
): Promise<void> {
  for (;;) {
    let reply: { reply_id: string; prompt: string } | null;
    try {
      reply = await abortable(replies.next(turnOver), turnOver);
    } catch {
      return; // the turn is over, or the workflow cannot be reached: replies wait for the next turn
    }
    if (!reply) return;
    let refusal: string | null = null;
    if (target.isOver() || turnOver.aborted) refusal = 'the turn was over';
    else {
      try {
        await client.request('turn/steer', {
          threadId: target.threadId,
          expectedTurnId: target.turnId,
          clientUserMessageId: reply.reply_id,
          input: [{ type: 'text', text: reply.prompt, text_elements: [] }],
        });
      } catch (err) {
        refusal = err instanceof Error ? err.message : String(err);
      }
    }
    if (refusal === null) target.onSteered?.(reply.prompt);
    await replies.settle(reply.reply_id, refusal === null, refusal ?? undefined).catch(() => undefined);
    if (refusal !== null) return;
  }
}
