// start, status, list, cancel, approve, answer, reply, notify-completed: each validates its flags
// with the API's schemas, makes one TaskServiceApi call and prints the answer.
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  answersBodySchema,
  approvalBodySchema,
  listQuerySchema,
  notifyCompletedBodySchema,
  replyBodySchema,
  requestParamsSchema,
  startTaskBodySchema,
  taskParamsSchema,
} from '../api/schemas';
import {
  ISOLATION_MODES,
  APPROVAL_DECISIONS,
  APPROVAL_POLICIES,
  NOTIFICATION_STATUSES,
  SANDBOX_MODES,
  TASK_STATUSES,
} from '../contract/task';
import { action, cliConfig, defined, validate, withJson, withService, type CommandContext } from './command-kit';
import { describeReply, formatTaskBlock, formatTaskTable, formatWatcherReport } from './format';
import { newReplyId } from '../client/task-service';
import { UsageError } from './io';

export const FLAG_LABELS: Record<string, string> = {
  prompt: '--prompt',
  cwd: '--cwd',
  notify_target: '--notify-target',
  model: '--model',
  sandbox: '--sandbox',
  approval_policy: '--approval-policy',
  isolation: '--isolation',
  task_id: 'TASK_ID',
  reply_id: '--reply-id',
  request_id: 'REQUEST_ID',
  status: '--status',
  notification_status: '--notification-status',
  limit: '--limit',
  before: '--before',
  decision: '--decision',
  answers: '--answers',
};

/** In `start`, the task id is a flag, not the TASK_ID argument of the other commands. */
const START_LABELS: Record<string, string> = { ...FLAG_LABELS, task_id: '--task-id' };

export const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** The options that say what a task is (shared by `start` and `schedule create`). */
export function withTaskOptions(command: Command, prompt: string): Command {
  return command
    .requiredOption('--prompt <text>', prompt)
    .option('--cwd <dir>', 'working directory for Codex (relative paths resolve here); default: the service default')
    .option(
      '--notify-target <target>',
      'local | feishu:<chat_id> | hermes:<platform>:<chat_id>[:<thread_id>] | webhook:<url>',
    )
    .option('--model <model>', 'Codex model; default: the Codex default')
    .option('--sandbox <mode>', SANDBOX_MODES.join(' | '))
    .option('--approval-policy <policy>', APPROVAL_POLICIES.join(' | '))
    .option(
      '--isolation <mode>',
      `${ISOLATION_MODES.join(' | ')}: worktree runs Codex in a fresh git worktree on the branch codex/<task_id>`,
    );
}

/** Those options as request fields; a relative --cwd resolves against the caller's directory. */
export function taskFields(ctx: CommandContext, opts: Record<string, unknown>): Record<string, unknown> {
  return {
    prompt: opts.prompt,
    cwd:
      typeof opts.cwd === 'string' && opts.cwd !== '' ? path.resolve(ctx.io.cwd ?? process.cwd(), opts.cwd) : opts.cwd,
    notify_target: opts.notifyTarget,
    model: opts.model,
    sandbox: opts.sandbox,
    approval_policy: opts.approvalPolicy,
    isolation: opts.isolation,
  };
}

export function registerTaskCommands(program: Command, ctx: CommandContext): void {
  withJson(
    withTaskOptions(
      program.command('start').description('start a Codex task; prints its task_id (with --json: the task document)'),
      'what Codex should do',
    ).option('--task-id <id>', 'your own task id (also the Temporal workflow id); default: generated'),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge start --prompt "make the failing tests pass" --cwd . --notify-target local',
        'codex-bridge start --prompt "summarise the README" --notify-target feishu:oc_0123abcd --sandbox read-only',
        'codex-bridge start --prompt "fix lint" --task-id fix-lint-1 --json | jq .status',
      ),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const body = validate(
          startTaskBodySchema,
          defined({ ...taskFields(ctx, opts), task_id: opts.taskId }),
          START_LABELS,
        );
        const config = cliConfig(ctx.io);
        const task = await withService(ctx, config, (s) => s.start(body));
        out.result(task, task.task_id);
      }),
    );

  withJson(program.command('status').description('show one task').argument('<TASK_ID>', 'the task id'))
    .addHelpText(
      'after',
      examples('codex-bridge status fix-lint-1', 'codex-bridge status fix-lint-1 --json | jq .result.final_message'),
    )
    .action(
      action(ctx, async ({ args, out }) => {
        const { task_id } = validate(taskParamsSchema, { task_id: args[0] }, FLAG_LABELS);
        const task = await withService(ctx, cliConfig(ctx.io), (s) => s.status(task_id));
        out.result(task, formatTaskBlock(task));
      }),
    );

  withJson(
    program
      .command('list')
      .description('list tasks, newest first')
      .option('--status <status>', TASK_STATUSES.join(' | '))
      .option('--notification-status <status>', NOTIFICATION_STATUSES.join(' | '))
      .option('--notify-target <target>', 'only tasks notifying this target')
      .option('--limit <n>', 'at most this many (1-1000, default 50)')
      .option('--before <cursor>', 'the next page: the cursor the previous page printed'),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge list',
        'codex-bridge list --status running --limit 10',
        'codex-bridge list --notification-status failed --json',
        'codex-bridge list --limit 20 --before <cursor>',
      ),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const filter = validate(
          listQuerySchema,
          defined({
            status: opts.status,
            notification_status: opts.notificationStatus,
            notify_target: opts.notifyTarget,
            limit: opts.limit,
            before: opts.before,
          }),
          FLAG_LABELS,
        );
        const page = await withService(ctx, cliConfig(ctx.io), (s) => s.list(filter));
        out.result(page, [
          ...formatTaskTable(page.tasks),
          ...(page.next_cursor ? [`More: --before ${page.next_cursor}`] : []),
        ]);
      }),
    );

  withJson(
    program
      .command('cancel')
      .description('cancel a task (Codex is interrupted; the cancellation is notified)')
      .argument('<TASK_ID>', 'the task id'),
  )
    .addHelpText('after', examples('codex-bridge cancel fix-lint-1'))
    .action(
      action(ctx, async ({ args, out }) => {
        const { task_id } = validate(taskParamsSchema, { task_id: args[0] }, FLAG_LABELS);
        await withService(ctx, cliConfig(ctx.io), (s) => s.cancel(task_id));
        out.result({ task_id, status: 'cancelling' }, `Cancelling ${task_id}.`);
      }),
    );

  withJson(
    program
      .command('approve')
      .description('answer a pending approval')
      .argument('<TASK_ID>', 'the task id')
      .argument('<REQUEST_ID>', 'the request id (see `status`)')
      .requiredOption('--decision <decision>', APPROVAL_DECISIONS.join(' | ')),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge approve fix-lint-1 req-1 --decision accept',
        'codex-bridge approve fix-lint-1 req-2 --decision decline',
      ),
    )
    .action(
      action(ctx, async ({ args, opts, out }) => {
        const params = validate(requestParamsSchema, { task_id: args[0], request_id: args[1] }, FLAG_LABELS);
        const { decision } = validate(approvalBodySchema, { decision: opts.decision }, FLAG_LABELS);
        const task = await withService(ctx, cliConfig(ctx.io), (s) =>
          s.approve(params.task_id, params.request_id, decision),
        );
        out.result(
          task,
          `Sent "${decision}" for request ${params.request_id} of ${params.task_id}; the task is ${task.status}.`,
        );
      }),
    );

  withJson(
    program
      .command('answer')
      .description('answer a pending requestUserInput')
      .argument('<TASK_ID>', 'the task id')
      .argument('<REQUEST_ID>', 'the request id (see `status`)')
      .requiredOption('--answers <json>', 'question id → answers, as JSON, e.g. \'{"q1":["yes"]}\''),
  )
    .addHelpText('after', examples(`codex-bridge answer fix-lint-1 req-3 --answers '{"q1":["use pnpm"]}'`))
    .action(
      action(ctx, async ({ args, opts, out }) => {
        const params = validate(requestParamsSchema, { task_id: args[0], request_id: args[1] }, FLAG_LABELS);
        let answers: unknown;
        try {
          answers = JSON.parse(String(opts.answers));
        } catch {
          throw new UsageError(`--answers is not valid JSON: give an object such as '{"q1":["yes"]}'.`);
        }
        const body = validate(answersBodySchema, { answers }, FLAG_LABELS);
        const task = await withService(ctx, cliConfig(ctx.io), (s) =>
          s.answer(params.task_id, params.request_id, body.answers),
        );
        out.result(task, `Answered request ${params.request_id} of ${params.task_id}; the task is ${task.status}.`);
      }),
    );

  withJson(
    program
      .command('reply')
      .description(
        'follow-up in the same Codex thread: into the running turn when Codex accepts it, else as the next turn',
      )
      .argument('<TASK_ID>', 'the task id')
      .requiredOption('--prompt <text>', 'what Codex should do next')
      .option('--reply-id <id>', 'names the reply: sending it again changes nothing'),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge reply fix-lint-1 --prompt "now also update the changelog"',
        'codex-bridge reply fix-lint-1 --prompt "use pnpm" --reply-id r1',
      ),
    )
    .action(
      action(ctx, async ({ args, opts, out }) => {
        const { task_id } = validate(taskParamsSchema, { task_id: args[0] }, FLAG_LABELS);
        const { prompt, reply_id } = validate(
          replyBodySchema,
          defined({ prompt: opts.prompt, reply_id: opts.replyId }),
          FLAG_LABELS,
        );
        const id = reply_id ?? newReplyId();
        const task = await withService(ctx, cliConfig(ctx.io), (s) => s.reply(task_id, prompt, id));
        out.result(task, describeReply(task, id));
      }),
    );

  withJson(
    program
      .command('notify-completed')
      .description('the one-shot repair watcher: notify terminal tasks whose notification is still pending')
      .option('--dry-run', 'show what would be sent; send and write nothing')
      .option('--retry-failed', 'also retry tasks whose notification failed'),
  )
    .addHelpText(
      'after',
      examples('codex-bridge notify-completed --dry-run', 'codex-bridge notify-completed --retry-failed --json'),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const body = validate(
          notifyCompletedBodySchema,
          defined({ dry_run: opts.dryRun, retry_failed: opts.retryFailed }),
          FLAG_LABELS,
        );
        const report = await withService(ctx, cliConfig(ctx.io), (s) =>
          s.notifyCompleted({ dryRun: body?.dry_run, retryFailed: body?.retry_failed }),
        );
        out.result(report, formatWatcherReport(report));
        return report.failed > 0 ? 1 : 0;
      }),
    );
}
