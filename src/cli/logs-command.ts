// `codex-bridge logs <TASK_ID> [-f] [--json]`: the current turn's progress events, one line each
// (JSON lines with --json); with -f it keeps printing them as they happen until the turn ends.
import type { Command } from 'commander';
import { taskParamsSchema } from '../api/schemas';
import type { TaskEvent } from '../contract/task-events';
import { action, cliConfig, validate, withJson, withService, type CommandContext } from './command-kit';

export function registerLogsCommand(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('logs')
      .description("the task's progress events (commands, file changes, plan, tokens); -f follows the running turn")
      .argument('<TASK_ID>', 'the task id')
      .option('-f, --follow', 'keep printing events as they happen, until the turn ends'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ codex-bridge logs fix-lint-1 -f\n  $ codex-bridge logs fix-lint-1 --json | jq -r .text\n',
    )
    .action(
      action(ctx, async ({ args, opts, out }) => {
        const { task_id } = validate(taskParamsSchema, { task_id: args[0] }, { task_id: 'TASK_ID' });
        await withService(ctx, cliConfig(ctx.io), async (s) => {
          for await (const event of s.events(task_id, { follow: opts.follow === true }))
            out.result(event, formatEvent(event));
        });
      }),
    );
}

/** "12:03:04  $ npm test": the worker's time of day, then what happened. */
export function formatEvent(event: TaskEvent): string {
  return `${event.at.slice(11, 19)}  ${event.text}`;
}
