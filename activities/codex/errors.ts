// The Codex errors the activity throws, each as an ApplicationFailure whose `type` is a key of
// CODEX_ERROR_TYPES (the table itself lives in src/contract/failure-types.ts, which the workflow
// imports too); the workflow and the edges branch on the type, never on text.
//
// Not errors:
// - a turn the model failed (HTTP 400, retries exhausted, context window, unreachable model…) is a
//   `failed` CodexTurnResult carrying Codex's message; its `error.type` is Codex's codexErrorInfo
//   (badRequest, httpConnectionFailed, contextWindowExceeded, other…);
// - a turn past its timeout is a `timed_out` result;
// - a cancelled activity throws Temporal's CancelledFailure (details: [the partial result]).
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CODEX_ERROR_TYPES } from '../../src/contract/failure-types';

export { CODEX_ERROR_TYPES };

export type CodexErrorType = keyof typeof CODEX_ERROR_TYPES;

/** What the runner throws; the activity turns it into an ApplicationFailure of the same type. */
export class CodexRunError extends Error {
  override readonly name = 'CodexRunError';
  constructor(
    readonly type: CodexErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The Temporal failure for an error thrown by the runner (anything unknown stays retryable). */
export function toCodexActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof CodexRunError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !CODEX_ERROR_TYPES[err.type].retryable,
      cause: err.cause instanceof Error ? err.cause : undefined,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
