// A stand-in for the Codex activity in workflow tests: scripted results, or a turn that runs until
// it is cancelled (heartbeating, as the real activity does).
import { Context } from '@temporalio/activity';
import type { CodexTurnInput, CodexTurnResult } from '../../src/contract/codex-turn';
import { createRequestRelay } from '../../activities/request-relay';
import type { CodexRequest, RequestAnswer } from '../../src/contract/task';

export function turnResult(input: CodexTurnInput, overrides: Partial<CodexTurnResult> = {}): CodexTurnResult {
  return {
    status: 'completed',
    finalMessage: `Done: ${input.prompt}`,
    threadId: input.threadId ?? `thread-${input.taskId}`,
    turnId: `turn-${input.turn}`,
    usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0, total_tokens: 15 },
    commands: [],
    fileChanges: [],
    diff: null,
    durationMs: 5,
    error: null,
    requests: [],
    ...overrides,
  };
}

export type FakeCodex = ((input: CodexTurnInput) => Promise<CodexTurnResult>) & { inputs: CodexTurnInput[] };

export function fakeCodex(
  behaviour: (input: CodexTurnInput) => Promise<CodexTurnResult> | CodexTurnResult = (i) => turnResult(i),
): FakeCodex {
  const inputs: CodexTurnInput[] = [];
  const fn = (async (input: CodexTurnInput) => {
    inputs.push(input);
    return behaviour(input);
  }) as FakeCodex;
  fn.inputs = inputs;
  return fn;
}

/** Heartbeats until the activity is cancelled, then reports an interrupted turn (as the real one does). */
export async function runUntilCancelled(input: CodexTurnInput): Promise<CodexTurnResult> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat({ itemsStarted: 1 });
    try {
      await ctx.sleep(200);
    } catch {
      // cancelled: the real activity interrupts the turn and reaps the process, then rethrows
      throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    }
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    void input;
  }
}

/** Asks a person through the task's workflow, as the real activity does, from inside a fake turn. */
export function askPerson(input: CodexTurnInput, request: Omit<CodexRequest, 'attempt'>): Promise<RequestAnswer> {
  const activity = Context.current();
  return createRequestRelay()(
    input.taskId,
    { ...request, attempt: activity.info.attempt },
    { signal: activity.cancellationSignal, activity },
  );
}

/** An answer as one word: the decision, or the answers as JSON. */
export function answerText(answer: RequestAnswer): string {
  return 'decision' in answer ? answer.decision : JSON.stringify(answer.answers);
}
