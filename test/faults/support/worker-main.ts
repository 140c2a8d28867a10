// A codex-bridge worker process for the fault tests: exactly what `codex-bridge worker` runs
// (runWorker with the configuration from the environment: the real Codex runner, notifier
// registry and MongoDB store), except that it loads a workflow bundle the test built once, so a
// worker restarted after SIGKILL polls again within a second or two instead of re-bundling.
//   node -r test/faults/support/register-ts.js test/faults/support/worker-main.ts
// Extra environment: FAULT_WORKFLOW_BUNDLE (path of the bundle), FAULT_WORKER_IDENTITY.
import { loadConfig } from '../../../src/config';
import { runWorker } from '../../../src/worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const codePath = process.env.FAULT_WORKFLOW_BUNDLE;
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  process.stderr.write(
    `fault worker ${process.env.FAULT_WORKER_IDENTITY ?? process.pid} starting on ${config.temporal.taskQueue}\n`,
  );
  await runWorker(config, {
    signal: stop.signal,
    ...(codePath ? { workflowBundle: { codePath } } : {}),
    workerOptions: {
      ...(process.env.FAULT_WORKER_IDENTITY ? { identity: process.env.FAULT_WORKER_IDENTITY } : {}),
      shutdownGraceTime: '2s',
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fault worker failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
