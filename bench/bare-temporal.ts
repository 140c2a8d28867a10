// The machine's limit for the bridge's ceiling: the bare one-activity workflow, started and awaited
// the way the bridge's tasks are (20 starts in flight, then wait for every result), on the same dev
// server and with the worker options the bridge's worker uses.
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { BenchEnv } from './lib/bench-env';
import { now } from './lib/stats';
import { meterCpu, type CpuPerTask } from './lib/cpu';
import { bareWorkflow } from './workflows/bare-workflow';

export interface BareResult {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  cpu?: CpuPerTask;
}

export async function benchBareTemporal(env: BenchEnv, count: number): Promise<BareResult> {
  const taskQueue = `bare-${randomUUID().slice(0, 6)}`;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows/bare-workflow'),
    logger: quietLogger,
  });
  const connection = await NativeConnection.connect({ address: env.temporal.address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle,
    activities: { noop: async () => undefined },
    defaultHeartbeatThrottleInterval: '1s',
    maxHeartbeatThrottleInterval: '2s',
  });
  try {
    return await worker.runUntil(async () => {
      await runBare(env, taskQueue, 20); // warm-up: JIT, connections, sticky caches
      const cpu = meterCpu({ server: env.temporal.process.pid });
      const row = await runBare(env, taskQueue, count);
      return { ...row, cpu: cpu(row.tasks) };
    });
  } finally {
    await connection.close();
  }
}

async function runBare(env: BenchEnv, taskQueue: string, count: number): Promise<BareResult> {
  const start = now();
  let next = 0;
  const handles: Promise<unknown>[] = [];
  await Promise.all(
    Array.from({ length: Math.min(20, count) }, async () => {
      while (next < count) {
        next++;
        const handle = await env.client.workflow.start(bareWorkflow, { taskQueue, workflowId: `bare-${randomUUID()}` });
        handles.push(handle.result());
      }
    }),
  );
  await Promise.all(handles);
  const seconds = (now() - start) / 1000;
  return { tasks: count, seconds, tasksPerSecond: count / seconds };
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
