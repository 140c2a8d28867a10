// Runs the CLI in-process and captures what it printed.
import { runCli } from '../../../src/cli/run-cli';
import type { CliDeps } from '../../../src/cli/io';
import type { TaskServiceApi } from '../../../src/client/task-service-types';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** How many times the CLI asked for a task service. */
  servicesCreated: number;
}

export async function cli(
  argv: string[],
  options: { service?: TaskServiceApi; env?: NodeJS.ProcessEnv; cwd?: string; deps?: CliDeps } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let servicesCreated = 0;
  const deps: CliDeps = {
    ...(options.service
      ? {
          createService: async () => {
            servicesCreated += 1;
            return { service: options.service!, close: async () => undefined };
          },
        }
      : {}),
    ...options.deps,
  };
  const code = await runCli(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: options.env ?? {},
      cwd: options.cwd,
    },
    deps,
  );
  return { code, stdout, stderr, servicesCreated };
}

/** stdout must be exactly one JSON document. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each caller checks the shape it expects
export function onlyJson(run: CliRun): any {
  const text = run.stdout.trim();
  expect(text).not.toBe('');
  return JSON.parse(text); // throws on two documents or trailing text
}
