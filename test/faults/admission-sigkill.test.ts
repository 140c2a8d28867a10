// Admission across worker crashes: with limits 2 per task queue and 1 per repository, tasks on one
// repository queue in the admission workflow, and the worker is SIGKILLed mid-turn again and again
// (a new worker started after each kill, as a supervisor would). The queue lives in Temporal, so it
// resumes in the order the tasks asked: turns never overlap, every task completes, and every chat
// gets the "queued" notice and the result exactly once.
import { admissionWorkflowId } from '../../src/contract/admission';
import { queuedKey } from '../../src/contract/idempotency';
import { getTaskQuery } from '../../src/contract/messages';
import type { TaskDocument } from '../../src/contract/task';
import { describeReport, FaultEnv, sleep } from './support/fault-env';

const TASKS = 8;
const KILLS = 3;

let env: FaultEnv;

beforeAll(async () => {
  env = await FaultEnv.start('admission', {
    model: { delayMs: 1500 },
    heartbeatTimeoutMs: 5000,
    env: {
      CODEX_BRIDGE_ADMISSION: 'on',
      CODEX_BRIDGE_MAX_RUNNING: '2',
      CODEX_BRIDGE_MAX_PER_REPOSITORY: '1',
      CODEX_BRIDGE_MAX_PER_TARGET: '0',
    },
  });
});

afterAll(async () => {
  await env?.close();
});

test(`${TASKS} tasks on one repository, the worker SIGKILLed ${KILLS} times mid-turn: the queue resumes in order, nothing lost or run twice`, async () => {
  let worker = env.startWorker();
  const ids: string[] = [];
  // Started one after the other, each once the one before is running or queued, so the order they
  // asked in is the order they were started in.
  for (let i = 0; i < TASKS; i++) {
    const id = await env.startTask('adm', i, TASKS);
    ids.push(id);
    await waitForTask(id, (t) => t.status === 'running' || typeof t.queue_position === 'number');
  }

  let kills = 0;
  let doneAtLastKill = 0;
  const deadline = Date.now() + 4 * 60_000;
  while (kills < KILLS && Date.now() < deadline) {
    // Kill while a turn is in flight, once a task has finished since the last kill: each kill cuts
    // off another task's turn (three kills of one turn would use up its attempts).
    await sleep(500);
    const done = await finishedTurns(ids);
    if (done <= doneAtLastKill || env.appServersOf(worker) === 0) continue;
    await env.killWorker(worker);
    kills += 1;
    doneAtLastKill = done;
    env.log(`kill #${kills}: ${worker} SIGKILLed mid-turn with ${done} tasks done`);
    worker = env.startWorker();
  }
  expect(kills).toBe(KILLS);

  await env.waitForTerminal(ids, 6 * 60_000);
  // Every task but the first waited in the queue, and its chat was told so once.
  const report = await env.verifyNothingLost(ids, (doc) => (doc.task_id === ids[0] ? [] : [queuedKey(doc.task_id, 1)]));
  env.log(`${kills} kills: ${describeReport(report)}`);
  expect(report.byStatus).toEqual({ completed: TASKS });
  expect(report.codexRetried).toBeGreaterThanOrEqual(1); // the kills did cut turns off

  // One turn at a time, in the order the tasks asked: each turn starts after the one before ended.
  const turns = ids.map((id) => report.outcomes.get(id)!.doc.turns);
  for (const t of turns) expect(t).toHaveLength(1);
  for (let i = 1; i < TASKS; i++) {
    const before = turns[i - 1]![0]!;
    const turn = turns[i]![0]!;
    expect({
      task: ids[i],
      startsAfterPrevious: Date.parse(turn.started_at!) >= Date.parse(before.finished_at!),
    }).toEqual({
      task: ids[i],
      startsAfterPrevious: true,
    });
  }

  // With nobody holding or waiting for a slot, the admission workflow ends (after lingering IDLE_LINGER_MS for a request).
  const admission = env.client.workflow.getHandle(admissionWorkflowId(env.config.temporal.taskQueue));
  await admission.result();
  await env.expectNoAppServersLeft();
});

/** Tasks whose turn has ended, as the store shows them (queries would replay the workflows on the workers under test). */
async function finishedTurns(ids: string[]): Promise<number> {
  let done = 0;
  for (const id of ids) if ((await env.taskStore.get(id).catch(() => null))?.turns[0]?.finished_at) done += 1;
  return done;
}

/** Polls the task's workflow until `predicate` holds. */
async function waitForTask(id: string, predicate: (t: TaskDocument) => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const doc = await env.client.workflow
      .getHandle(id)
      .query(getTaskQuery)
      .catch(() => null);
    if (doc && predicate(doc)) return;
    if (Date.now() > deadline) throw new Error(`task ${id} never reached the expected state: ${JSON.stringify(doc)}`);
    await sleep(100);
  }
}
