// Runs task workflows in the Temporal time-skipping test server with injected activity
// dependencies (fake notifier, stand-in Codex), the real MongoDB-wire store and the real client
// service. One bundle per test file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TaskService } from '../../src/client/task-service';
import type { Config } from '../../src/config';
import type { TaskDocument } from '../../src/contract/task';
import { TaskStore } from '../../src/store/task-store';
import { createBridgeWorker } from '../../src/worker';
import type { ActivityDeps } from '../../activities';
import { SEARCH_ATTRIBUTES } from '../../src/infra/tool-paths';
import { getTaskQuery } from '../../src/contract/messages';
import { makeTestEnv, timeSkippingServerPath, type TestEnv } from './test-env';
import { bundleTaskWorkflows } from './workflow-bundle';

export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  testEnv: TestEnv;
  config: Config;
  store: TaskStore;
  service: TaskService;
  workdir: string;
  /** Runs `fn` while a worker with these activity dependencies polls the test's task queue. */
  withWorker<T>(
    deps: Partial<ActivityDeps> & Pick<ActivityDeps, 'runCodexTurn' | 'notifier'>,
    fn: () => Promise<T>,
    /** E.g. `maxCachedWorkflows: 0`: the test server keeps a stopped worker's sticky queue, a later worker needs none. */
    workerOptions?: Partial<WorkerOptions>,
  ): Promise<T>;
  result(taskId: string): Promise<TaskDocument>;
  /** Polls the workflow's own state until `predicate` holds. */
  waitFor(taskId: string, predicate: (doc: TaskDocument) => boolean, timeoutMs?: number): Promise<TaskDocument>;
  close(): Promise<void>;
}

let bundle: WorkflowBundleWithSourceMap | undefined;

export async function createWorkflowHarness(overrides: NodeJS.ProcessEnv = {}): Promise<WorkflowHarness> {
  const testEnv = makeTestEnv(overrides);
  const workdir = path.join(testEnv.scratch, 'repo');
  fs.mkdirSync(workdir, { recursive: true });
  const config = { ...testEnv.config, codex: { ...testEnv.config.codex, allowedRoots: [testEnv.scratch] } };
  const env = await createTimeSkippingEnv();
  // The test server knows no custom search attributes until told, like a real namespace.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k, 2 /* KEYWORD */])),
  });
  bundle ??= await bundleTaskWorkflows();
  const store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
  const service = new TaskService({ client: env.client, store, config });

  return {
    env,
    testEnv,
    config,
    store,
    service,
    workdir,
    async withWorker(deps, fn, workerOptions) {
      const { worker, close } = await createBridgeWorker(config, {
        connection: env.nativeConnection,
        workflowBundle: bundle,
        deps: { store, ...deps },
        ...(workerOptions ? { workerOptions } : {}),
      });
      try {
        return await worker.runUntil(fn());
      } finally {
        await close();
      }
    },
    result: (taskId) => env.client.workflow.getHandle(taskId).result(),
    async waitFor(taskId, predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const doc = await env.client.workflow
          .getHandle(taskId)
          .query(getTaskQuery)
          .catch(() => null);
        if (doc && predicate(doc)) return doc;
        if (Date.now() > deadline)
          throw new Error(`task ${taskId} did not reach the expected state; last: ${JSON.stringify(doc)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await store.close();
      await env.teardown();
    },
  };
}

async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const start = () =>
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: timeSkippingServerPath } },
    });
  try {
    return await start();
  } catch {
    return start(); // the SDK waits only a few seconds for the server; a busy machine may need a second try
  }
}
