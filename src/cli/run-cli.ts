// `codex-bridge`: the command table, and the one function that runs a command line to an exit code.
// In-process and side-effect free apart from `io` (and signals for worker/serve/dev), so tests run
// it directly with a fake or a real task service.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { PROJECT_ROOT } from '../infra/tool-paths';
import type { CommandContext } from './command-kit';
import { EXIT, Output, UsageError, type CliDeps, type CliIo } from './io';
import { registerRuntimeCommands } from './runtime-commands';
import { registerScheduleCommands } from './schedule-commands';
import { registerTaskCommands } from './task-commands';
import { registerLogsCommand } from './logs-command';

const PROGRAM_HELP = `
Exit codes: 0 ok, 1 failed, 2 usage or validation error, 3 not found, 4 conflict.
With --json, stdout carries exactly one JSON document (on failure {"error":{"code","message"}});
the error sentence goes to stderr either way. Configuration comes from the environment
(TEMPORAL_ADDRESS, MONGODB_URI, CODEX_BRIDGE_API_TOKEN, …; see the README).

Examples:
  $ codex-bridge dev                                   # everything on this machine
  $ codex-bridge start --prompt "fix the failing tests" --notify-target local
  $ codex-bridge list --status running
  $ codex-bridge status task-20250101-abc123 --json
  $ codex-bridge approve task-20250101-abc123 req-1 --decision accept
  $ codex-bridge schedule create --cron "0 9 * * 1-5" --prompt "triage new issues" --notify-target local
  $ codex-bridge doctor
`;

/** Runs one command line (without "node" and the script name); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const ctx: CommandContext = { io, deps, exitCode: EXIT.ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are answers, not errors.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      // `codex-bridge` alone is a usage error (commander has printed the help to stderr); `help [cmd]` is not.
      if (error.code === 'commander.help') return argv.length === 0 ? EXIT.usage : EXIT.ok;
      return new Output(io, argv.includes('--json')).fail(new UsageError(usageSentence(error, argv, program)));
    }
    return new Output(io, argv.includes('--json')).fail(error);
  }
}

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('codex-bridge')
    .description(
      'Run OpenAI Codex tasks as durable Temporal workflows and get told, where you asked, when they finish.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    // Errors are reported by runCli as one sentence; commander's own printing is off.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.io.stdout.write(s),
      writeErr: (s) => void ctx.io.stderr.write(s),
      outputError: () => undefined,
    })
    .addHelpText('after', PROGRAM_HELP);
  registerTaskCommands(program, ctx);
  registerScheduleCommands(program, ctx);
  registerLogsCommand(program, ctx);
  registerRuntimeCommands(program, ctx);
  return program;
}

/** Commander's "error: unknown option '--x'\n(Did you mean --y?)" as one sentence pointing at the help. */
function usageSentence(error: CommanderError, argv: string[], program: Command): string {
  const text = error.message
    .replace(/^error:\s*/i, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.?\s*$/, '');
  const name = argv.find((a) => !a.startsWith('-'));
  const command = program.commands.find((c) => c.name() === name);
  const help = command ? `codex-bridge ${command.name()} --help` : 'codex-bridge --help';
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}; see ${help}.`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
