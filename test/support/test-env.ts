// Per-test-file isolation on the shared servers: each file gets its own task queue, database and
// scratch directory, so suites can run in parallel without seeing each other's tasks.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { TEMPORAL_TEST_SERVER } from '../../src/infra/tool-paths';

export interface TestEnv {
  id: string;
  scratch: string;
  env: NodeJS.ProcessEnv;
  config: Config;
}

/** A fresh configuration for one test file: shared servers, private queue/db/dirs. */
export function makeTestEnv(overrides: NodeJS.ProcessEnv = {}): TestEnv {
  const id = randomUUID().slice(0, 8);
  const base = process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir();
  const scratch = fs.mkdtempSync(path.join(base, `t-${id}-`));
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `test-${id}`,
    MONGODB_URI: requireEnv('MONGODB_URI'),
    MONGODB_DB: `test_${id}`,
    CODEX_BRIDGE_LOCAL_INBOX: path.join(scratch, 'inbox.jsonl'),
    // Suites that run tasks side by side in one directory expect them to run at once; the admission
    // tests turn the queue on with the limits they check.
    CODEX_BRIDGE_ADMISSION: 'off',
    ...overrides,
  };
  return { id, scratch, env, config: loadConfig(env) };
}

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: run the tests through ./scripts/test or npx jest (the global setup starts the servers).`,
    );
  return v;
}

/** Path of the time-skipping test server binary installed by scripts/setup. */
export const timeSkippingServerPath = TEMPORAL_TEST_SERVER;
