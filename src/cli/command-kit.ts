// The plumbing every command shares: its --json flag, turning a thrown error into an exit code,
// validating flags with the API's schemas, and opening/closing the task service around a call.
import type { Command } from 'commander';
import type { z } from 'zod';
import { describeIssues, parseRequest } from '../api/schemas';
import type { TaskServiceApi } from '../client/task-service-types';
import { loadConfig, type Config } from '../config';
import { ValidationError } from '../errors';
import { registerConfigSecrets } from '../logging';
import { Output, type CliDeps, type CliIo, type ServiceHandle } from './io';

export interface CommandContext {
  io: CliIo;
  deps: CliDeps;
  /** Set by the command that ran; runCli returns it. */
  exitCode: number;
}

export interface ActionInput {
  /** Positional arguments, in declaration order. */
  args: string[];
  opts: Record<string, unknown>;
  out: Output;
}

/** Adds --json to a command. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print one JSON document on stdout (errors too, as {"error":{"code","message"}})');
}

/** Wraps a command body: builds its Output, maps a throw to its exit code. */
export function action(ctx: CommandContext, body: (input: ActionInput) => Promise<number | void>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const opts = command.opts();
    const out = new Output(ctx.io, opts.json === true);
    try {
      ctx.exitCode = (await body({ args: command.processedArgs as string[], opts, out })) ?? 0;
    } catch (error) {
      ctx.exitCode = out.fail(error);
    }
  };
}

/** Loads the configuration from the CLI's environment and registers its secrets for redaction. */
export function cliConfig(io: CliIo): Config {
  const config = loadConfig(io.env);
  registerConfigSecrets(config);
  return config;
}

/**
 * Validates command-line values with the same schema the HTTP API uses; the sentence names the
 * flag (`--notify-target`) or argument (`TASK_ID`) instead of the JSON field.
 */
export function validate<S extends z.ZodType>(schema: S, data: unknown, labels: Record<string, string>): z.output<S> {
  const result = parseRequest(schema, data);
  if (result.success) return result.data;
  const label = (path: string) => {
    const [head, ...rest] = path.split('.');
    return [labels[head!] ?? head, ...rest].join('.');
  };
  throw new ValidationError(describeIssues(result.error, { subject: 'the command line', label }));
}

/** Drops undefined values, so absent flags stay absent (and strict schemas see no extra keys). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The task service of deps, or the real one, imported on use: commands that need none (doctor, dev, --help) never load Temporal's client. */
export async function openService(ctx: CommandContext, config: Config): Promise<ServiceHandle> {
  if (ctx.deps.createService) return ctx.deps.createService(config);
  const { createTaskService } = await import('../client/task-service');
  return createTaskService(config);
}

/** Opens the task service for one call and always closes it. */
export async function withService<T>(
  ctx: CommandContext,
  config: Config,
  fn: (service: TaskServiceApi) => Promise<T>,
): Promise<T> {
  const handle = await openService(ctx, config);
  try {
    return await fn(handle.service);
  } finally {
    await handle.close();
  }
}
