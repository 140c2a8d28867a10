// What a CLI command may touch (streams, environment, services) and how it answers: a human text on
// stdout, or exactly one JSON document with --json. Errors become one sentence on stderr and an
// exit code; with --json the same error is also the one JSON document on stdout, so a script that
// parses stdout always gets something to parse.
import type { Config } from '../config';
import { ConfigError } from '../config';
import type { TaskServiceApi } from '../client/task-service-types';
import { BridgeError } from '../errors';
import { oneSentence } from '../api/http-errors';

export interface Writer {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
  /** Relative --cwd values resolve against this; default process.cwd(). */
  cwd?: string;
}

export interface ServiceHandle {
  service: TaskServiceApi;
  close(): Promise<void>;
}

export interface CliDeps {
  /** Builds the task service; default: createTaskService from src/client/task-service. */
  createService?: (config: Config) => Promise<ServiceHandle>;
  /** Stops long-running commands (worker, serve) besides SIGINT/SIGTERM; tests use it. */
  signal?: AbortSignal;
}

/** The CLI's exit codes (the README lists them). */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, conflict: 4 } as const;

/** A command line that does not make sense (unknown flag, missing argument, bad JSON in a flag). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliFailure {
  exitCode: number;
  code: string;
  message: string;
}

/** Maps anything a command throws to its exit code, a stable code and one sentence. */
export function describeFailure(error: unknown): CliFailure {
  if (error instanceof BridgeError)
    return { exitCode: error.exitCode, code: error.code, message: oneSentence(error.message) };
  if (error instanceof ConfigError)
    return { exitCode: EXIT.usage, code: 'config_error', message: oneSentence(error.message) };
  if (error instanceof UsageError)
    return { exitCode: EXIT.usage, code: 'usage_error', message: oneSentence(error.message) };
  // Launcher and infrastructure errors are written as sentences for people; anything else is a bug.
  const message = error instanceof Error ? error.message : String(error);
  const named =
    error instanceof Error && error.name !== 'Error' && error.name !== 'TypeError' && error.name !== 'RangeError';
  return {
    exitCode: EXIT.failed,
    code: 'operation_failed',
    message: oneSentence(named ? message : `Unexpected error: ${message}`),
  };
}

/** One command's answer channel, in human or --json form. */
export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Prints the result: `human` lines, or `data` as the one JSON document (on one line, so line-reading scripts work). */
  result(data: unknown, human: string | string[]): void {
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify(data)}\n`);
      return;
    }
    const lines = Array.isArray(human) ? human : [human];
    if (lines.length > 0) this.io.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Progress for people; never on stdout, which --json reserves for the answer. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** Reports a failure and returns its exit code. */
  fail(error: unknown): number {
    const failure = describeFailure(error);
    this.io.stderr.write(`codex-bridge: ${failure.message}\n`);
    if (this.json)
      this.io.stdout.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
    return failure.exitCode;
  }
}
