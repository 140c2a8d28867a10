// What every benchmark section shares: its own Temporal dev server (persistent SQLite file, as
// `codex-bridge dev` runs it) and FerretDB on free loopback ports, one workflow bundle, a client,
// and helpers to run an in-process worker with injected dependencies on a private task queue.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities';
import type { DeliveryReceipt, Notifier } from '../../activities/notify/notifier';
import { TaskService } from '../../src/client/task-service';
import { loadConfig, type Config } from '../../src/config';
import { startFerretDb, type RunningStore } from '../../src/infra/ferretdb-server';
import { startTemporalDevServer, type RunningTemporal } from '../../src/infra/temporal-dev-server';
import { TaskStore } from '../../src/store/task-store';
import { createBridgeWorker } from '../../src/worker';
import { now } from './stats';
import { bundleTaskWorkflows } from '../../test/support/workflow-bundle';

export interface BenchEnv {
  dir: string;
  temporal: RunningTemporal;
  store: RunningStore;
  client: Client;
  bundle: WorkflowBundleWithSourceMap;
  /** A configuration on a fresh task queue and database; `env` adds or overrides variables. */
  config(name: string, env?: NodeJS.ProcessEnv): Config;
  /** The environment `config` was built from (for worker child processes). */
  envFor(config: Config): NodeJS.ProcessEnv;
  service(config: Config): Promise<{ service: TaskService; store: TaskStore }>;
  /** Runs an in-process worker on the config's queue until `fn` settles. */
  withWorker<T>(
    config: Config,
    deps: Partial<ActivityDeps>,
    fn: () => Promise<T>,
    options?: { maxConcurrentActivityTaskExecutions?: number },
  ): Promise<T>;
  close(): Promise<void>;
}

export async function startBenchEnv(dir: string, log: (line: string) => void): Promise<BenchEnv> {
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const [temporal, store] = await Promise.all([
    startTemporalDevServer({
      uiPort: null,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    }),
    startFerretDb({ dataDir: path.join(dir, 'store'), logFile: path.join(dir, 'ferretdb.log') }),
  ]);
  log(`servers up in ${Date.now() - started} ms: Temporal ${temporal.address}, FerretDB ${store.uri}`);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'default' });
  const bundleStarted = Date.now();
  const bundle = await bundleTaskWorkflows();
  log(`workflow bundle built in ${Date.now() - bundleStarted} ms`);
  const envs = new Map<Config, NodeJS.ProcessEnv>();
  const closers: (() => Promise<void>)[] = [];

  const env: BenchEnv = {
    dir,
    temporal,
    store,
    client,
    bundle,
    config(name, extra = {}) {
      const id = `${name}-${randomUUID().slice(0, 6)}`;
      const vars: NodeJS.ProcessEnv = {
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: `bench-${id}`,
        MONGODB_URI: store.uri,
        MONGODB_DB: `bench_${id.replace(/-/g, '_')}`,
        CODEX_BRIDGE_ALLOWED_ROOTS: dir,
        CODEX_BRIDGE_LOCAL_INBOX: path.join(dir, `inbox-${id}.jsonl`),
        CODEX_BRIDGE_LOG_LEVEL: 'warn',
        // The rows measure tasks side by side in one directory, which admission would run one at a time.
        CODEX_BRIDGE_ADMISSION: 'off',
        ...extra,
      };
      const config = loadConfig(vars);
      envs.set(config, vars);
      return config;
    },
    envFor: (config) => envs.get(config) ?? {},
    async service(config) {
      const taskStore = await TaskStore.connect(config.mongo.uri, config.mongo.db);
      closers.push(() => taskStore.close());
      return { service: new TaskService({ client, store: taskStore, config }), store: taskStore };
    },
    async withWorker(config, deps, fn, options = {}) {
      const { worker, close } = await createBridgeWorker(config, {
        workflowBundle: bundle,
        deps,
        maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
        workerOptions: { shutdownGraceTime: '1s' },
      });
      try {
        return await worker.runUntil(fn());
      } finally {
        await close();
      }
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await Promise.allSettled([temporal.stop(), store.stop()]);
    },
  };
  return env;
}

/**
 * A notifier that records when it was first asked to deliver each task's completion (the end of
 * the "completion → notification" interval) and lets callers wait for it.
 */
export class DeliveryRecorder {
  readonly at = new Map<string, number>();
  private readonly waiters = new Map<string, ((t: number) => void)[]>();

  readonly notifier: Notifier = async (target, message): Promise<DeliveryReceipt> => {
    if (message.kind === 'completion' && !this.at.has(message.taskId)) {
      const t = now();
      this.at.set(message.taskId, t);
      for (const wake of this.waiters.get(message.taskId) ?? []) wake(t);
      this.waiters.delete(message.taskId);
    }
    return { channel: target.kind, deliveredAt: new Date().toISOString(), messageId: null, duplicate: false };
  };

  /** Resolves with the delivery time of `taskId`'s completion. */
  wait(taskId: string, timeoutMs: number): Promise<number> {
    const seen = this.at.get(taskId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no completion delivered for ${taskId} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.waiters.get(taskId) ?? [];
      list.push((t) => {
        clearTimeout(timer);
        resolve(t);
      });
      this.waiters.set(taskId, list);
    });
  }
}
