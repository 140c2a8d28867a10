// What the Codex activity mirrors around its turn: the running task only once the turn has run
// for a second (a shorter turn goes straight to its outcome, which the workflow's next write
// carries), and nothing after the turn has ended.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { CodexTurnInput } from '../../src/contract/codex-turn';
import { taskFixture } from '../support/task-fixture';
import { turnResult } from '../support/fake-codex';

const runningTask = taskFixture('running-task', { status: 'running', version: 2 });

const input: CodexTurnInput = {
  taskId: runningTask.task_id,
  turn: 1,
  prompt: 'Fix it',
  cwd: '/repo',
  model: null,
  sandbox: 'workspace-write',
  approvalPolicy: 'never',
  threadId: null,
  timeoutMs: 60_000,
  serverRequestPolicy: 'decline',
  notifyTarget: 'local',
  mirror: runningTask,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runTurn(turnMs: number): Promise<string[]> {
  const written: string[] = [];
  const activities = createActivities({
    runCodexTurn: async (i) => (await sleep(turnMs), turnResult(i)),
    notifier: async () => {
      throw new Error('not used');
    },
    store: {
      applyMirror: async (doc) => (written.push(`${doc.status} v${doc.version}`), 'applied'),
    },
  });
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const result = (await env.run(activities.runCodexTurn, input)) as Awaited<ReturnType<typeof activities.runCodexTurn>>;
  expect(result.status).toBe('completed');
  await sleep(1200); // a write the turn's end did not stop would land by now
  return written;
}

test('a turn shorter than a second writes nothing: its outcome is the next write', async () => {
  expect(await runTurn(50)).toEqual([]);
});

test('a longer turn shows the task running while it runs, once', async () => {
  expect(await runTurn(1500)).toEqual(['running v2']);
});
