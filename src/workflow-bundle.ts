// The workflow code the worker loads. Bundling it (webpack) takes seconds and leaves the process
// that did it with a heap some 100 MiB larger for good, so a worker running from compiled code
// bundles in a short-lived child process and loads the bundle from a file. Run as a program, this
// file is that child: `node workflow-bundle.js OUT_FILE`.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** Where the bundler finds the workflow code (sources under ts, `dist/workflows` when compiled). */
export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows');

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string, meta?: unknown) => console.warn(m, meta ?? ''),
  error: (m: string, meta?: unknown) => console.error(m, meta ?? ''),
  log: () => undefined,
};

/**
 * Bundles the workflows in a child process into a temporary file; resolves with its path, or
 * null when running from TypeScript sources (no compiled entry point to start).
 */
export async function bundleWorkflowsInChild(): Promise<string | null> {
  if (!__filename.endsWith('.js')) return null;
  const out = path.join(os.tmpdir(), `codex-bridge-workflows-${process.pid}-${randomUUID().slice(0, 8)}.js`);
  await promisify(execFile)(process.execPath, [__filename, out], { maxBuffer: 16 * 1024 * 1024 });
  return out;
}

/** Bundles the task workflows in this process; the bundler reports only warnings and errors. */
export function bundleTaskWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: quietBundlerLogger });
}

async function main(out: string): Promise<void> {
  const { code } = await bundleTaskWorkflows();
  fs.writeFileSync(out, code);
}

if (require.main === module) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    process.stderr.write(`could not bundle the workflow code: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
