// End-to-end harness: the REAL codex binary against a routed scripted model, the global Temporal
// dev server (TEMPORAL_ADDRESS), the real MongoDB-wire store, workers built by createBridgeWorker
// from a configuration that points Codex at the model (CODEX_HOME, CODEX_BRIDGE_CODEX_CONFIG) and
// the notifier channels at fake servers, so the real notifier code runs. Workers run in this
// process or as child processes (`node bin/codex-bridge.js worker`, the compiled CLI), for tests
// that kill them.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TaskService } from '../../../src/client/task-service';
import { loadConfig, type Config } from '../../../src/config';
import type { TaskDocument } from '../../../src/contract/task';
import { temporalConnectionOptions } from '../../../src/infra/temporal-connection';
import { PROJECT_ROOT } from '../../../src/infra/tool-paths';
import { POOL_OWNER_ENV, poolOwnerId } from '../../../activities/codex/process-sweep';
import { TaskStore } from '../../../src/store/task-store';
import { createBridgeWorker } from '../../../src/worker';
import type { Notifier } from '../../../activities/notify/notifier';
import { getTaskQuery } from '../../../src/contract/messages';
import type { TaskWorkflowInput } from '../../../src/contract/task-workflow-input';
import { makeCodexEnv, type CodexTestEnv } from '../../support/codex-env';
import { startFakeFeishu, type FakeFeishu } from '../../support/fake-feishu';
import { startFakeHermesGateway, type FakeHermesGateway } from '../../support/fake-hermes-gateway';
import { startFakeWebhook, type FakeWebhook } from '../../support/fake-webhook';
import { makeTestEnv, type TestEnv } from '../../support/test-env';
import { RoutedModel } from './routed-model';
import { bundleTaskWorkflows } from '../../support/workflow-bundle';

export const WEBHOOK_SECRET = 'e2e-webhook-secret';
export const CLI = path.join(PROJECT_ROOT, 'bin', 'codex-bridge.js');

export interface E2eOptions {
  /** More configuration variables (e.g. CODEX_BRIDGE_REQUEST_TIMEOUT). */
  env?: NodeJS.ProcessEnv;
  /** Per-run workflow settings the services pass (short heartbeat timeout for kill tests). */
  workflowInput?: Pick<TaskWorkflowInput, 'heartbeat_timeout_ms' | 'notify_deadline_ms'>;
}

export interface InProcessWorker {
  stop(): Promise<void>;
}

export interface ChildWorker {
  pid: number;
  /** stdout + stderr of the child, for failure messages. */
  log(): string;
  /** Resolves when the child has exited. */
  exited: Promise<void>;
  /** SIGKILL to the whole process group (the worker; Codex app-servers lead their own groups). */
  crash(): Promise<void>;
  /** SIGTERM and wait (graceful shutdown). */
  stop(): Promise<void>;
}

export interface E2eHarness {
  testEnv: TestEnv;
  /** The file's configuration (its own task queue and database). */
  config: Config;
  model: RoutedModel;
  codex: CodexTestEnv;
  feishu: FakeFeishu;
  hermes: FakeHermesGateway;
  webhook: FakeWebhook;
  client: Client;
  store: TaskStore;
  service: TaskService;
  /** A configuration and service with more variables (another task queue, a short request timeout…). */
  variant(env: NodeJS.ProcessEnv): { config: Config; env: NodeJS.ProcessEnv; service: TaskService };
  /** A fresh directory under the Codex work dir, for one task. */
  workdir(name: string): string;
  /** A worker in this process: createBridgeWorker(config) with the real dependencies unless `notifier` is given. */
  startWorker(options?: { config?: Config; notifier?: Notifier }): Promise<InProcessWorker>;
  /** `node bin/codex-bridge.js worker` with the configuration's environment (plus `env`). */
  startChildWorker(env?: NodeJS.ProcessEnv): ChildWorker;
  result(taskId: string, timeoutMs?: number): Promise<TaskDocument>;
  /** Polls the workflow's own state until `predicate` holds. */
  waitFor(taskId: string, predicate: (doc: TaskDocument) => boolean, timeoutMs?: number): Promise<TaskDocument>;
  /**
   * Live processes using this file's CODEX_HOME, except `exclude` (e.g. a running worker) and,
   * unless `pooled`, the pooled app-servers of live workers (they outlive the turns they serve).
   */
  codexProcesses(exclude?: number[], options?: { pooled?: boolean }): number[];
  close(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export async function createE2eHarness(options: E2eOptions = {}): Promise<E2eHarness> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse())
      await cleanup().catch((err: unknown) => console.warn('e2e cleanup:', err));
  };
  try {
    const model = await RoutedModel.start();
    cleanups.push(() => model.close());
    const [feishu, hermes, webhook] = await Promise.all([
      startFakeFeishu(),
      startFakeHermesGateway(),
      startFakeWebhook({ secret: WEBHOOK_SECRET }),
    ]);
    cleanups.push(
      () => feishu.stop(),
      () => hermes.stop(),
      () => webhook.stop(),
    );
    const codex = await makeCodexEnv({ modelUrl: model.url });
    cleanups.push(() => codex.cleanup());

    const testEnv = makeTestEnv({
      CODEX_HOME: codex.codexHome,
      CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
      CODEX_BRIDGE_ALLOWED_ROOTS: codex.root,
      CODEX_BRIDGE_TURN_TIMEOUT: '90s',
      CODEX_BRIDGE_LOG_LEVEL: 'warn',
      FEISHU_APP_ID: feishu.appId,
      FEISHU_APP_SECRET: feishu.appSecret,
      FEISHU_BASE_URL: feishu.baseUrl,
      HERMES_WEBHOOK_URL: hermes.routeUrl('codex'),
      HERMES_WEBHOOK_SECRET: hermes.secret,
      CODEX_BRIDGE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...options.env,
    });
    cleanups.push(async () => {
      if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(testEnv.scratch, { recursive: true, force: true });
    });
    const config = testEnv.config;

    const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
    cleanups.push(() => store.close());
    const serviceFor = (cfg: Config) =>
      new TaskService({ client, store, config: cfg, workflowInput: options.workflowInput });
    const service = serviceFor(config);

    bundle ??= bundleTaskWorkflows();
    const workflowBundle = await bundle;

    const handle = (taskId: string) => client.workflow.getHandle(taskId);
    const children = new Set<ChildWorker>();

    const harness: E2eHarness = {
      testEnv,
      config,
      model,
      codex,
      feishu,
      hermes,
      webhook,
      client,
      store,
      service,
      variant(env) {
        const merged = { ...testEnv.env, ...env };
        const cfg = loadConfig(merged);
        return { config: cfg, env: merged, service: serviceFor(cfg) };
      },
      workdir(name) {
        const dir = path.join(codex.workDir, name);
        fs.mkdirSync(dir, { recursive: true });
        return dir;
      },
      async startWorker(opts = {}) {
        const { worker, close: closeWorker } = await createBridgeWorker(opts.config ?? config, {
          workflowBundle,
          ...(opts.notifier ? { deps: { notifier: opts.notifier } } : {}),
          workerOptions: { shutdownGraceTime: '5s' },
        });
        const running = worker.run();
        let stopped: Promise<void> | null = null;
        const stop = () =>
          (stopped ??= (async () => {
            if (worker.getState() === 'RUNNING') worker.shutdown();
            await running.catch((err: unknown) => console.warn('e2e worker:', err));
            await closeWorker();
          })());
        cleanups.push(stop);
        return { stop };
      },
      startChildWorker(env = {}) {
        const child = spawnWorker({ ...process.env, ...testEnv.env, ...env }, testEnv.scratch);
        children.add(child);
        cleanups.push(async () => {
          await child.stop();
          children.delete(child);
        });
        return child;
      },
      result(taskId, timeoutMs = 100_000) {
        return withTimeout(handle(taskId).result(), timeoutMs, `task ${taskId} did not finish within ${timeoutMs} ms`);
      },
      async waitFor(taskId, predicate, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const doc = await handle(taskId)
            .query(getTaskQuery)
            .catch(() => null);
          if (doc && predicate(doc)) return doc;
          if (Date.now() > deadline)
            throw new Error(
              `task ${taskId} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(doc)}`,
            );
          await sleep(200);
        }
      },
      codexProcesses(exclude = [], { pooled = false } = {}) {
        return codex.processes().filter((pid) => !exclude.includes(pid) && (pooled || !isLiveWorkersAppServer(pid)));
      },
      close,
    };
    return harness;
  } catch (err) {
    await close();
    throw err;
  }
}

function spawnWorker(env: NodeJS.ProcessEnv, logDir: string): ChildWorker {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error(
      'the compiled CLI (dist/) is missing: run ./scripts/setup, or run the tests through ./scripts/test',
    );
  }
  const proc: ChildProcess = spawn(process.execPath, [CLI, 'worker'], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: PROJECT_ROOT,
  });
  const pid = proc.pid!;
  const logFile = path.join(logDir, `worker-${pid}.log`);
  let log = '';
  const keep = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const done = () => proc.exitCode !== null || proc.signalCode !== null;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* gone */
    }
  };
  void exited.then(() => {
    try {
      fs.writeFileSync(logFile, log);
    } catch {
      /* scratch gone */
    }
  });
  return {
    pid,
    log: () => log,
    exited,
    async crash() {
      signalGroup('SIGKILL');
      await exited;
    },
    async stop() {
      if (done()) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `read` until `predicate` holds; returns the last value. */
export async function eventually<T>(
  read: () => Promise<T> | T,
  predicate: (value: T) => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what} did not hold within ${timeoutMs} ms; last: ${JSON.stringify(value)?.slice(0, 2000)}`);
    await sleep(200);
  }
}

/**
 * A pooled app-server of a live worker: expected to outlive the turns it served (it dies with its
 * worker). Its environment names the worker that owns it.
 */
function isLiveWorkersAppServer(pid: number): boolean {
  try {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    const owner = environ.find((kv) => kv.startsWith(`${POOL_OWNER_ENV}=`))?.slice(POOL_OWNER_ENV.length + 1);
    const isAppServer = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes('app-server');
    return isAppServer && owner !== undefined && poolOwnerId(Number(owner.split('-')[0])) === owner;
  } catch {
    return false;
  }
}
