// What a task waiting for a person costs Temporal: the dev server's own request counters
// (`service_requests` by operation, from its Prometheus endpoint) over a window while one task
// waits for an approval. The worker is the real one, with the real Codex activity and request
// relay; only the Codex process is a stand-in that asks once and then finishes.
// Run: npx tsc -p tsconfig.build.json && node dist/bench/request-wait.js [window seconds, default 20]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { CodexRunner } from '../activities/codex/codex-runner';
import { createRunCodexTurnActivity } from '../activities/codex/run-codex-turn';
import type { CodexTurnInput, CodexTurnResult } from '../src/contract/codex-turn';
import { createRequestRelay } from '../activities/request-relay';
import { loadConfig } from '../src/config';
import { newTaskDocument, type TaskDocument } from '../src/contract/task';
import { startTemporalDevServer } from '../src/infra/temporal-dev-server';
import { createBridgeWorker } from '../src/worker';
import { approveUpdate, getTaskQuery } from '../src/contract/messages';
import type { TaskWorkflowInput } from '../src/contract/task-workflow-input';

const WINDOW_S = Number(process.argv[2] ?? 20);
const OPERATIONS = [
  'QueryWorkflow',
  'SignalWorkflowExecution',
  'UpdateWorkflowExecution',
  'PollWorkflowExecutionUpdate',
  'RecordActivityTaskHeartbeat',
];

/** A Codex turn that asks for one approval through the activity's hook, then completes. */
const askingRunner = {
  async runTurn(input: CodexTurnInput, hooks: Parameters<CodexRunner['runTurn']>[1] = {}): Promise<CodexTurnResult> {
    const request = {
      request_id: `${input.taskId}-t1-r1`,
      kind: 'command_approval' as const,
      summary: 'Run `ls`',
      details: 'Command: ls',
      attempt: 1,
    };
    const answer = await hooks.onServerRequest!(request, new AbortController().signal);
    return {
      status: 'completed',
      finalMessage: 'decision' in answer ? answer.decision : 'answers',
      threadId: null,
      turnId: null,
      usage: null,
      commands: [],
      fileChanges: [],
      diff: null,
      durationMs: 0,
      error: null,
      requests: [],
    };
  },
} as unknown as CodexRunner;

async function requests(metricsPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^service_requests\{(.*)\} (\S+)$/.exec(line);
    // The dev server runs every service in one process; count what reaches the frontend.
    if (!m || !/service_name="frontend"/.test(m[1]!)) continue;
    const op = /operation="([^"]+)"/.exec(m[1]!)?.[1];
    if (op) counts.set(op, (counts.get(op) ?? 0) + Number(m[2]));
  }
  return counts;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bridge-request-wait-'));
  const temporal = await startTemporalDevServer({ uiPort: null, logFile: path.join(dir, 'temporal.log') });
  const metricsPort = temporal.metricsPort;
  try {
    const address = temporal.address;
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: 'request-wait',
      CODEX_BRIDGE_LOCAL_INBOX: path.join(dir, 'inbox.jsonl'),
    });
    const runCodexTurn = createRunCodexTurnActivity(askingRunner, { relay: createRequestRelay() });
    const { worker, close } = await createBridgeWorker(config, {
      deps: {
        runCodexTurn,
        notifier: async () => ({
          channel: 'local',
          deliveredAt: new Date().toISOString(),
          messageId: null,
          duplicate: false,
        }),
        store: { applyMirror: async () => 'applied' },
      },
    });
    try {
      await worker.runUntil(async () => {
        const task = newTaskDocument({
          task_id: 'waiting-task',
          prompt: 'p',
          cwd: dir,
          model: null,
          sandbox: 'read-only',
          approval_policy: 'untrusted',
          notify_target: 'local',
          created_at: new Date().toISOString(),
        });
        const input: TaskWorkflowInput = {
          task,
          prompt: 'p',
          turn_timeout_ms: 3_600_000,
          request_timeout_ms: 3_600_000,
          server_request_policy: 'ask',
        };
        const handle = await client.workflow.start('codexTask', {
          taskQueue: 'request-wait',
          workflowId: task.task_id,
          args: [input],
        });
        for (;;) {
          const doc: TaskDocument = await handle.query(getTaskQuery);
          if (doc.pending_requests.length > 0) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 2_000)); // the request message is out, the wait has settled
        const before = await requests(metricsPort);
        await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
        const after = await requests(metricsPort);
        process.stdout.write(
          `one task waiting for a person, ${WINDOW_S} s window, requests per second at the Temporal frontend:\n`,
        );
        for (const op of OPERATIONS)
          process.stdout.write(
            `  ${op.padEnd(28)} ${(((after.get(op) ?? 0) - (before.get(op) ?? 0)) / WINDOW_S).toFixed(2)}\n`,
          );
        await handle.executeUpdate(approveUpdate, {
          args: [{ request_id: `${task.task_id}-t1-r1`, decision: 'accept' }],
        });
        const final: TaskDocument = await handle.result();
        process.stdout.write(`the task then ended ${final.status} with "${final.result?.final_message}"\n`);
      });
    } finally {
      await close();
      await connection.close();
    }
  } finally {
    await temporal.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
