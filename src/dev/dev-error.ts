// The launcher's expected failures (port taken, a child died, a tool missing): one sentence a person
// can act on, printed without a stack trace. A subclass of OperationFailedError so
// the CLI maps it to exit code 1 like any other failed operation.
import { OperationFailedError } from '../errors';

export class DevError extends OperationFailedError {}
