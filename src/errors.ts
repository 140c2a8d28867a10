// Errors the edges (CLI, HTTP API) translate into exit codes and HTTP statuses. Callers branch on
// the class, never on message text. Each message is one sentence a person can act on.

export type BridgeErrorCode = 'validation_error' | 'not_found' | 'conflict' | 'unavailable' | 'operation_failed';

export abstract class BridgeError extends Error {
  abstract readonly code: BridgeErrorCode;
  /** The HTTP status the API answers with. */
  abstract readonly httpStatus: number;
  /** The CLI's exit code. */
  abstract readonly exitCode: number;
}

/** Bad input: nothing was created or changed. */
export class ValidationError extends BridgeError {
  override readonly name = 'ValidationError';
  readonly code = 'validation_error';
  readonly httpStatus = 400;
  readonly exitCode = 2;
}

export class NotFoundError extends BridgeError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly httpStatus = 404;
  readonly exitCode = 3;
}

/** Duplicate task id, or a request that is no longer pending. */
export class ConflictError extends BridgeError {
  override readonly name = 'ConflictError';
  readonly code = 'conflict';
  readonly httpStatus = 409;
  readonly exitCode = 4;
}

/** Temporal or the store cannot be reached. */
export class UnavailableError extends BridgeError {
  override readonly name = 'UnavailableError';
  readonly code = 'unavailable';
  readonly httpStatus = 503;
  readonly exitCode = 1;
}

export class OperationFailedError extends BridgeError {
  override readonly name = 'OperationFailedError';
  readonly code = 'operation_failed';
  readonly httpStatus = 500;
  readonly exitCode = 1;
}
