// The worker: the one place that builds the real dependencies (Codex runner, notifier registry,
// MongoDB store) and wires them into the activities. No logic lives here.
import * as fs from 'node:fs';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from './config';
import { TaskStore } from './store/task-store';
import { freePort } from './infra/free-port';
import { setUpConfiguredNamespace } from './infra/namespace-setup';
import { temporalConnectionOptions } from './infra/temporal-connection';
import { createLogger, createTemporalLogger, registerConfigSecrets, type Logger } from './logging';
import { getBridgeMetrics, startMetricsServer } from './metrics';
import { createWorkerMetricsHooks } from './worker-metrics';
import { bundleWorkflowsInChild, WORKFLOWS_PATH } from './workflow-bundle';
import { applyWorkerV8Flags } from './worker-memory';
import { createActivities, type ActivityDeps } from '../activities';
import { CodexRunner } from '../activities/codex/codex-runner';
import { createRunCodexTurnActivity } from '../activities/codex/run-codex-turn';
import { createNotifier } from '../activities/notify/registry';
import { createProgressReporter } from '../activities/progress-reporter';
import { createReplyRelay } from '../activities/reply-relay';
import { createTurnEventPublisher } from '../activities/turn-event-publisher';
import { createProgressMessenger } from '../activities/progress-messages';
import { createFeishuCaller } from '../activities/notify/feishu-notifier';
import { createRequestRelay } from '../activities/request-relay';

export { WORKFLOWS_PATH };

export interface BridgeWorkerOptions {
  /** Replace real dependencies (tests, benchmarks: a stand-in Codex runner, a fake notifier). */
  deps?: Partial<ActivityDeps>;
  /** A pre-built bundle (tests bundle once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
  maxConcurrentActivityTaskExecutions?: number;
  /** Extra Worker options (e.g. identity, shutdownGraceTime). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface BridgeWorker {
  worker: Worker;
  /** Closes the connections and store the worker opened itself. */
  close(): Promise<void>;
}

export async function createBridgeWorker(config: Config, options: BridgeWorkerOptions = {}): Promise<BridgeWorker> {
  const owned: (() => Promise<void>)[] = [];
  const connection = options.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config.temporal)));
  if (!options.connection) owned.push(() => connection.close());

  let store = options.deps?.store;
  if (!store) {
    const lazy = TaskStore.lazy(config.mongo.uri, config.mongo.db);
    owned.push(() => lazy.close());
    store = lazy;
  }

  // One notifier for completions and milestones, so both share a channel's state (Hermes request ids).
  const notifier = options.deps?.notifier ?? createNotifier(config);
  let runCodexTurn: ActivityDeps['runCodexTurn'] | undefined = options.deps?.runCodexTurn;
  if (!runCodexTurn) {
    // The relay and the progress reporter reach the task's workflow through each activity's own
    // client, which shares the worker's connection: no second connection to Temporal.
    // Worktree tasks run below the worktree root, which the allow-list (when there is one) admits.
    const { allowedRoots } = config.codex;
    const runner = CodexRunner.fromConfig({
      ...config.codex,
      allowedRoots: allowedRoots.length > 0 ? [...allowedRoots, config.isolation.worktreeRoot] : [],
    });
    owned.push(() => runner.close());
    // Warm the shared app-servers now; a broken Codex setup is reported by each task, as before.
    void runner.warm().catch(() => undefined);
    // Progress events go to the store's task_events collection when the store can hold them.
    const events = store instanceof TaskStore ? createTurnEventPublisher(store.events()) : undefined;
    const n = config.notifiers;
    const progress = createProgressMessenger({
      feishu: n.progress.feishu
        ? createFeishuCaller({
            appId: n.feishu.appId,
            appSecret: n.feishu.appSecret,
            baseUrl: n.feishu.baseUrl,
            timeoutMs: n.timeoutMs,
          })
        : undefined,
      webhook: n.progress.webhook ? { secret: n.webhook.secret, timeoutMs: n.timeoutMs } : undefined,
      minIntervalMs: n.progress.minIntervalMs,
      optOut: n.progress.optOut,
      milestones: { ...n.milestones, notifier },
    });
    runCodexTurn = createRunCodexTurnActivity(runner, {
      relay: createRequestRelay(),
      replies: createReplyRelay(),
      onProgress: createProgressReporter(),
      events,
      progress,
    });
  }

  const activities = createActivities({
    runCodexTurn: runCodexTurn!,
    notifier,
    store,
    uiUrl: options.deps?.uiUrl ?? config.uiUrl,
    namespace: config.temporal.namespace,
    observer: options.deps?.observer,
    onMirrored: options.deps?.onMirrored,
    worktrees: options.deps?.worktrees ?? {
      root: config.isolation.worktreeRoot,
      retentionMs: config.isolation.retentionMs,
    },
  });

  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve(WORKFLOWS_PATH) }),
    activities,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions,
    maxCachedWorkflows: config.workflowCacheSize,
    // Cancellation reaches an activity only with a heartbeat response: keep heartbeats frequent so a
    // `cancel` interrupts Codex within seconds (the SDK would otherwise wait up to 80% of the timeout).
    defaultHeartbeatThrottleInterval: '1s',
    maxHeartbeatThrottleInterval: '2s',
    ...options.workerOptions,
  });
  return {
    worker,
    close: async () => {
      for (const close of owned.reverse()) await close().catch(() => undefined);
    },
  };
}

/**
 * `codex-bridge worker`: installs the process-wide Temporal runtime (JSON-line logs; Prometheus
 * metrics when CODEX_BRIDGE_METRICS_ADDR is set), then runs until the signal aborts.
 */
export async function runWorker(
  config: Config,
  options: BridgeWorkerOptions & { signal?: AbortSignal; logger?: Logger } = {},
): Promise<void> {
  registerConfigSecrets(config);
  applyWorkerV8Flags();
  const logger = options.logger ?? createLogger({ level: config.logLevel, context: { component: 'worker' } });
  const sdkMetricsAddr = config.metricsAddr ? `127.0.0.1:${await freePort()}` : undefined;
  Runtime.install({
    logger: createTemporalLogger(logger),
    ...(sdkMetricsAddr ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddr } } } } : {}),
  });
  const metrics = getBridgeMetrics();
  const hooks = createWorkerMetricsHooks(metrics);
  const metricsServer = config.metricsAddr
    ? await startMetricsServer(config.metricsAddr, { metrics, logger, alsoScrape: `http://${sdkMetricsAddr}/metrics` })
    : undefined;
  if (metricsServer) logger.info('metrics served', { url: metricsServer.url });

  if (config.temporal.registerSearchAttributes) {
    const setup = await setUpConfiguredNamespace(config.temporal);
    logger.info('namespace set up', {
      namespace: setup.namespace,
      registered: setup.registered,
      added: setup.added,
      present: setup.present,
    });
  }

  // The Worker reads the bundle file while it is created.
  const bundleFile = options.workflowBundle ? null : await bundleWorkflowsInChild();
  let built: BridgeWorker;
  try {
    built = await createBridgeWorker(config, {
      ...options,
      ...(bundleFile ? { workflowBundle: { codePath: bundleFile } } : {}),
      deps: { observer: hooks.observer, onMirrored: hooks.onMirrored, ...options.deps },
    });
  } finally {
    if (bundleFile) fs.rmSync(bundleFile, { force: true });
  }
  const { worker, close } = built;
  const onAbort = () => worker.shutdown();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Stopped while the worker was being created: nothing to run (shutdown() needs a running worker).
    if (!options.signal?.aborted) await worker.run();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await close();
    await metricsServer?.close();
  }
}
