// Throughput: tasks per second from the first start to the last notification.
//   real Codex  the worker's real Codex activity against a scripted model that answers at once,
//               with the worker's activity slots (maxConcurrentActivityTaskExecutions) set to
//               1, 2, 4, 8 — the knob an operator has; Codex turns, mirror writes and deliveries
//               share those slots; each with an app-server spawned per turn and with the pool of
//               warm app-servers (the default), alternating;
//   runner      CodexRunner.runTurn alone, 20 turns at a time, both ways: what the Codex side can
//               carry without Temporal;
//   ceiling     the stand-in Codex activity returning at once, worker defaults: what Temporal,
//               the store and the workflow alone can carry on this machine; and once more with
//               the mirror writes going to a no-op store, to attribute the cost; and once more on
//               temporal-server (PostgreSQL, mTLS), the server production clusters run;
//   bare        Temporal alone: a one-activity workflow on the dev server, started the same way
//               (the machine's limit the ceiling is measured against).
import { randomUUID } from 'node:crypto';
import { CodexRunner } from '../activities/codex/codex-runner';
import { loadConfig } from '../src/config';
import { makeCodexEnv, type CodexTestEnv } from '../test/support/codex-env';
import { ScriptedModel } from '../test/support/scripted-model';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TaskService } from '../src/client/task-service';
import { setUpNamespace } from '../src/infra/namespace-setup';
import { temporalConnectionOptions } from '../src/infra/temporal-connection';
import { TaskStore } from '../src/store/task-store';
import { startTemporalCluster, TEMPORAL_SERVER } from '../test/support/cluster/temporal-cluster';
import type { BenchEnv } from './lib/bench-env';
import { DeliveryRecorder } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { benchBareTemporal } from './bare-temporal';
import { standInCodex } from './latency';
import { now } from './lib/stats';
import { meterCpu, type CpuPerTask } from './lib/cpu';

export interface ThroughputRow {
  label: string;
  concurrency: number | null;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  /** CPU per task by process (the bare and bridge-only rows on the dev server). */
  cpu?: CpuPerTask;
  /** Runs the row is the median of (absent: one run). */
  runs?: number;
}

/** The two ways a worker runs app-servers. */
export const CODEX_MODES = [
  { label: 'real Codex, app-server per turn', env: { CODEX_BRIDGE_APP_SERVERS: '0' } },
  { label: 'real Codex, pooled app-servers', env: {} },
] as const;

export const BARE_TEMPORAL = 'bare Temporal (one no-op activity, no bridge)';
export const BRIDGE_CEILING = 'bridge only (stand-in Codex, 0 ms)';

export async function benchThroughput(
  env: BenchEnv,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  const model = await ScriptedModel.start(() => ({
    items: [{ type: 'message', text: 'pong', phase: 'final_answer' }],
  }));
  const codex = await makeCodexEnv({ modelUrl: model.url });
  try {
    for (const [label, appServers] of [
      ['CodexRunner alone (no Temporal), app-server per turn', 0],
      ['CodexRunner alone (no Temporal), pooled app-servers', undefined],
    ] as const) {
      const runner = new CodexRunner(
        codex.runnerOptions({ appServers: appServers ?? loadConfig({}).codex.appServers }),
      );
      try {
        await runner.warm();
        const row = await runTurns(runner, codex, opts.throughputTasks, 20);
        rows.push({ label, concurrency: 20, ...row });
        log(`throughput, ${label}: ${row.tasksPerSecond.toFixed(1)} turns/s`);
      } finally {
        await runner.close();
      }
    }
    for (const c of opts.throughputConcurrency)
      for (const mode of CODEX_MODES) {
        const config = env.config(`tput-${c}`, {
          CODEX_HOME: codex.codexHome,
          CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
          CODEX_BRIDGE_ALLOWED_ROOTS: codex.root,
          ...mode.env,
        });
        const { service } = await env.service(config);
        const recorder = new DeliveryRecorder();
        const row = await env.withWorker(
          config,
          { notifier: recorder.notifier },
          async () => {
            await runBatch(service, recorder, 2, codex.workDir, 'warm'); // spawn paths, JIT, connections
            return runBatch(service, recorder, opts.throughputTasks, codex.workDir, `tput-${c}`);
          },
          { maxConcurrentActivityTaskExecutions: c },
        );
        rows.push({ label: mode.label, concurrency: c, ...row });
        log(`throughput, ${mode.label}, ${c} slots: ${row.tasksPerSecond.toFixed(2)} tasks/s`);
      }
  } finally {
    await model.close();
    await codex.cleanup();
  }

  // Bare Temporal, the bridge's ceiling and its no-op-store attribution, alternated `ceilingRepeats`
  // times so that machine noise hits all three alike; each row is the run with the median rate.
  const pids = { server: env.temporal.process.pid, store: env.store.process.pid };
  const noopStore = { applyMirror: async () => 'applied' as const };
  const runs: Record<'bare' | 'ceiling' | 'noMirror', Omit<ThroughputRow, 'label' | 'concurrency'>[]> = {
    bare: [],
    ceiling: [],
    noMirror: [],
  };
  for (let i = 0; i < opts.ceilingRepeats; i++) {
    runs.bare.push(await benchBareTemporal(env, opts.ceilingTasks));
    const config = env.config('ceiling');
    runs.ceiling.push(await ceilingRun(env, opts, config, (await env.service(config)).service, 'ceiling', pids));
    // Attribution: the same with the mirror writes going to a no-op store.
    const noMirror = env.config('ceiling-nomirror');
    const noMirrorService = (await env.service(noMirror)).service;
    runs.noMirror.push(await ceilingRun(env, opts, noMirror, noMirrorService, 'ceiling-nm', pids, noopStore));
    log(
      `throughput, run ${i + 1}: bare Temporal ${runs.bare[i]!.tasksPerSecond.toFixed(1)}/s, ` +
        `bridge ceiling ${runs.ceiling[i]!.tasksPerSecond.toFixed(1)}/s, ` +
        `without the store ${runs.noMirror[i]!.tasksPerSecond.toFixed(1)}/s`,
    );
  }
  rows.push({ label: BARE_TEMPORAL, concurrency: null, ...medianRun(runs.bare) });
  rows.push({ label: BRIDGE_CEILING, concurrency: null, ...medianRun(runs.ceiling) });
  rows.push({ label: 'bridge only, mirror writes to a no-op store', concurrency: null, ...medianRun(runs.noMirror) });

  const clusterRow = await clusterCeiling(env, opts, log);
  if (clusterRow) rows.push(clusterRow);
  return rows;
}

/** The run with the median rate (the lower middle one of an even number). */
function medianRun<T extends { tasksPerSecond: number }>(runs: T[]): T & { runs: number } {
  const sorted = [...runs].sort((a, b) => a.tasksPerSecond - b.tasksPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, runs: runs.length };
}

/** The bridge-only ceiling on one worker: the stand-in Codex answering at once, 20 tasks to warm up, then the timed batch. */
async function ceilingRun(
  env: BenchEnv,
  opts: BenchOptions,
  config: Parameters<BenchEnv['withWorker']>[0],
  service: Parameters<typeof runBatch>[0],
  tag: string,
  pids: { server?: number; store?: number },
  store?: { applyMirror: () => Promise<'applied'> },
): Promise<Omit<ThroughputRow, 'label' | 'concurrency'>> {
  const recorder = new DeliveryRecorder();
  return env.withWorker(
    config,
    { runCodexTurn: standInCodex(0, new Map()), notifier: recorder.notifier, ...(store ? { store } : {}) },
    async () => {
      await runBatch(service, recorder, 20, env.dir, 'warm');
      const cpu = meterCpu(pids);
      const row = await runBatch(service, recorder, opts.ceilingTasks, env.dir, tag);
      return { ...row, cpu: cpu(row.tasks) };
    },
  );
}

export const CLUSTER_CEILING_LABEL = 'bridge only, temporal-server on PostgreSQL, mTLS';

/**
 * The same ceiling on the server production clusters run (temporal-server, all services in one
 * process, PostgreSQL persistence and visibility, mTLS on the frontend), measured right after the
 * dev server's so both share the machine's state. Skipped, with a line, when the cluster tools
 * are not installed (./scripts/setup --test builds them).
 */
async function clusterCeiling(
  env: BenchEnv,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<ThroughputRow | undefined> {
  if (!fs.existsSync(TEMPORAL_SERVER)) {
    log('throughput on temporal-server skipped: run ./scripts/setup --test to build it');
    return undefined;
  }
  const cluster = await startTemporalCluster({ dir: path.join(env.dir, 'cluster') });
  const closers: (() => Promise<unknown>)[] = [() => cluster.stop()];
  try {
    const config = env.config('ceiling-cluster', { ...cluster.env, TEMPORAL_NAMESPACE: 'codex-bridge' });
    const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
    closers.push(() => connection.close());
    await setUpNamespace(connection, config.temporal.namespace);
    const store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
    closers.push(() => store.close());
    const service = new TaskService({
      client: new Client({ connection, namespace: config.temporal.namespace }),
      store,
      config,
    });
    const row = await ceilingRun(env, opts, config, service, 'ceiling-cluster', {});
    log(`throughput, bridge ceiling on temporal-server: ${row.tasksPerSecond.toFixed(1)} tasks/s`);
    return { label: CLUSTER_CEILING_LABEL, concurrency: null, ...row };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/** Runs `count` one-message turns, `parallel` at a time, straight through the runner. */
async function runTurns(
  runner: CodexRunner,
  codex: CodexTestEnv,
  count: number,
  parallel: number,
): Promise<{ tasks: number; seconds: number; tasksPerSecond: number }> {
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        const result = await runner.runTurn(codex.turnInput({ prompt: 'ping' }));
        if (result.status !== 'completed')
          throw new Error(`runner turn ended ${result.status}: ${result.error?.message}`);
      }
    }),
  );
  const seconds = (now() - start) / 1000;
  return { tasks: count, seconds, tasksPerSecond: count / seconds };
}

/** Starts `count` tasks (20 starts in flight at a time) and waits for every notification. */
async function runBatch(
  service: TaskService,
  recorder: DeliveryRecorder,
  count: number,
  cwd: string,
  prefix: string,
): Promise<{ tasks: number; seconds: number; tasksPerSecond: number }> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${randomUUID().slice(0, 6)}`);
  const start = now();
  let next = 0;
  const starters = Array.from({ length: Math.min(20, count) }, async () => {
    while (next < ids.length) {
      const task_id = ids[next++]!;
      await service.start({
        task_id,
        prompt: 'ping',
        cwd,
        notify_target: 'local',
        sandbox: 'danger-full-access',
        approval_policy: 'never',
      });
    }
  });
  await Promise.all(starters);
  const delivered = await Promise.all(ids.map((id) => recorder.wait(id, 10 * 60_000)));
  const seconds = (Math.max(...delivered) - start) / 1000;
  return { tasks: count, seconds, tasksPerSecond: count / seconds };
}
