// `schedule create | list | describe | pause | unpause | delete`: recurring tasks as Temporal
// Schedules. Each validates its flags with the API's schemas and makes one TaskServiceApi call.
import type { Command } from 'commander';
import { createScheduleBodySchema, pauseScheduleBodySchema, scheduleParamsSchema } from '../api/schemas';
import { SCHEDULE_OVERLAP_POLICIES, type ScheduleDocument } from '../contract/schedule';
import { describeNotifyTarget } from '../contract/notify-target';
import { oneLine } from '../contract/text';
import { action, cliConfig, defined, validate, withJson, withService, type CommandContext } from './command-kit';
import type { TaskServiceApi } from '../client/task-service-types';
import { formatColumns } from './format';
import { FLAG_LABELS, examples, taskFields, withTaskOptions } from './task-commands';

const LABELS: Record<string, string> = {
  ...FLAG_LABELS,
  schedule_id: 'SCHEDULE_ID',
  cron: '--cron',
  timezone: '--timezone',
  overlap: '--overlap',
  note: '--note',
};
const CREATE_LABELS: Record<string, string> = { ...LABELS, schedule_id: '--schedule-id' };

export function registerScheduleCommands(program: Command, ctx: CommandContext): void {
  const schedule = program
    .command('schedule')
    .description('recurring tasks: a Temporal Schedule whose every run starts one ordinary task')
    .addHelpText(
      'after',
      examples(
        'codex-bridge schedule create --cron "0 9 * * 1-5" --prompt "triage new issues" --cwd . --notify-target local',
        'codex-bridge schedule list',
      ),
    );

  withJson(
    withTaskOptions(
      schedule
        .command('create')
        .description('create a schedule; prints its id (with --json: the schedule)')
        .requiredOption(
          '--cron <expr...>',
          'cron expression(s): minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5"',
        ),
      'what Codex should do on every run',
    )
      .option('--timezone <zone>', 'IANA time zone for the cron expression, e.g. Europe/Berlin (default UTC)')
      .option(
        '--overlap <policy>',
        `${SCHEDULE_OVERLAP_POLICIES.join(' | ')} (default skip: no run while the previous task runs)`,
      )
      .option('--paused', 'create it paused')
      .option('--schedule-id <id>', 'your own schedule id; default: generated'),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge schedule create --cron "0 9 * * 1-5" --prompt "triage new issues" --cwd . --notify-target local',
        'codex-bridge schedule create --schedule-id nightly --cron "30 2 * * *" --timezone Europe/Berlin --prompt "update deps" --json',
      ),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const body = validate(
          createScheduleBodySchema,
          defined({
            schedule_id: opts.scheduleId,
            cron: opts.cron,
            timezone: opts.timezone,
            overlap: opts.overlap,
            paused: opts.paused === true ? true : undefined,
            ...taskFields(ctx, opts),
          }),
          CREATE_LABELS,
        );
        const created = await withService(ctx, cliConfig(ctx.io), (s) => s.createSchedule(body));
        out.result(created, created.schedule_id);
      }),
    );

  withJson(schedule.command('list').description('list schedules'))
    .addHelpText('after', examples('codex-bridge schedule list', 'codex-bridge schedule list --json'))
    .action(
      action(ctx, async ({ out }) => {
        const schedules = await withService(ctx, cliConfig(ctx.io), (s) => s.listSchedules());
        out.result({ schedules }, formatScheduleTable(schedules));
      }),
    );

  /** A sub-command that takes one schedule id and prints what `run` answers. */
  const byId = (
    verb: string,
    description: string,
    run: (service: TaskServiceApi, scheduleId: string) => Promise<[unknown, string | string[]]>,
  ) =>
    withJson(schedule.command(verb).description(description).argument('<SCHEDULE_ID>', 'the schedule id'))
      .addHelpText('after', examples(`codex-bridge schedule ${verb} nightly`))
      .action(
        action(ctx, async ({ args, out }) => {
          const { schedule_id } = validate(scheduleParamsSchema, { schedule_id: args[0] }, LABELS);
          const [result, text] = await withService(ctx, cliConfig(ctx.io), (s) => run(s, schedule_id));
          out.result(result, text);
        }),
      );

  byId('describe', 'one schedule: its task, next runs and recent tasks', async (s, id) => {
    const found = await s.describeSchedule(id);
    return [found, formatScheduleBlock(found)];
  });

  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    withJson(
      schedule
        .command(verb)
        .description(paused ? 'pause a schedule: no runs until unpaused' : 'unpause a schedule')
        .argument('<SCHEDULE_ID>', 'the schedule id')
        .option('--note <text>', 'why (shown in the Web UI)'),
    )
      .addHelpText(
        'after',
        examples(`codex-bridge schedule ${verb} nightly${paused ? ' --note "release freeze"' : ''}`),
      )
      .action(
        action(ctx, async ({ args, opts, out }) => {
          const { schedule_id } = validate(scheduleParamsSchema, { schedule_id: args[0] }, LABELS);
          const body = validate(pauseScheduleBodySchema, defined({ note: opts.note }), LABELS);
          const changed = await withService(ctx, cliConfig(ctx.io), (s) =>
            s.pauseSchedule(schedule_id, paused, body?.note),
          );
          out.result(changed, `Schedule ${schedule_id} is ${changed.paused ? 'paused' : 'running'}.`);
        }),
      );
  }

  byId('delete', 'delete a schedule (tasks it already started run to their end)', async (s, id) => {
    await s.deleteSchedule(id);
    return [{ schedule_id: id, deleted: true }, `Deleted schedule ${id}.`];
  });
}

export function formatScheduleTable(schedules: ScheduleDocument[]): string[] {
  if (schedules.length === 0) return ['No schedules.'];
  const rows = schedules.map((s) => [
    s.schedule_id,
    s.cron.join(' | ') + (s.timezone ? ` (${s.timezone})` : ''),
    s.paused ? 'paused' : 'active',
    s.next_runs[0] ?? '-',
    s.task.notify_target ? describeNotifyTarget(s.task.notify_target) : '-',
    oneLine(s.task.prompt, 40),
  ]);
  return formatColumns([['SCHEDULE ID', 'CRON', 'STATE', 'NEXT RUN', 'NOTIFY TARGET', 'PROMPT'], ...rows]);
}

function formatScheduleBlock(s: ScheduleDocument): string[] {
  return [
    `schedule:   ${s.schedule_id}`,
    `cron:       ${s.cron.join(' | ')}${s.timezone ? ` (${s.timezone})` : ' (UTC)'}`,
    `state:      ${s.paused ? 'paused' : 'active'}${s.note ? ` — ${s.note}` : ''}; overlap ${s.overlap}`,
    `prompt:     ${oneLine(s.task.prompt, 200)}`,
    `cwd:        ${s.task.cwd}`,
    `notify:     ${s.task.notify_target ? describeNotifyTarget(s.task.notify_target) : '-'}`,
    `next runs:  ${s.next_runs.slice(0, 3).join(', ') || '-'}`,
    ...s.recent_runs.map((r) => `ran:        ${r.scheduled_at} → ${r.task_id}`),
  ];
}
