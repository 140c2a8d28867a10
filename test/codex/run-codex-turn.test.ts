// The activity wrapper in @temporalio/testing's MockActivityEnvironment, around a real CodexRunner
// (real app-server, scripted model): heartbeats, cancellation, typed failures, orphan reaping.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment as BaseMockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { CODEX_ERROR_TYPES } from '../../activities/codex/errors';
import { CODEX_NON_RETRYABLE_TYPES } from '../../src/contract/failure-types';
import { createRunCodexTurnActivity, type RunCodexTurnActivity } from '../../activities/codex/run-codex-turn';
import type { RequestRelay } from '../../activities/request-relay';
import type { CodexHeartbeat, CodexTurnInput, CodexTurnResult } from '../../src/contract/codex-turn';
import { scriptedCodexFixture } from './support/scripted-codex';

// Only errors: the SDK logs every failed attempt, which these tests provoke on purpose.
class MockActivityEnvironment extends BaseMockActivityEnvironment {
  constructor(info?: ConstructorParameters<typeof BaseMockActivityEnvironment>[0]) {
    super(info, { logger: new DefaultLogger('ERROR') });
  }

  /** run(), typed: the SDK's signature cannot infer an activity's result type. */
  turn(activity: RunCodexTurnActivity, input: CodexTurnInput): Promise<CodexTurnResult> {
    return this.run(activity, input) as Promise<CodexTurnResult>;
  }
}

const { setUp, onCleanup } = scriptedCodexFixture();

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

test('heartbeats carry the pid, process tag, thread, turn and item counts', async () => {
  const { env } = await setUp([{ items: [{ type: 'message', text: 'hello' }] }]);
  const activityEnv = new MockActivityEnvironment();
  const heartbeats: CodexHeartbeat[] = [];
  activityEnv.on('heartbeat', (d: CodexHeartbeat) => heartbeats.push(d));
  const result = await activityEnv.turn(createRunCodexTurnActivity(env.runner()), env.turnInput());

  expect(result.status).toBe('completed');
  expect(heartbeats[0]).toMatchObject({ pid: null, turnId: null });
  const withPid = heartbeats.find((h) => h.pid !== null)!;
  expect(withPid.processTag).toMatch(/^[0-9a-f-]{36}$/);
  expect(
    heartbeats.some((h) => h.threadId === result.threadId && h.turnId === result.turnId && h.itemsStarted >= 1),
  ).toBe(true);
  expect(env.processes()).toEqual([]);
});

test('cancellation interrupts the turn, throws CancelledFailure with the partial result, and reaps the process', async () => {
  const { model, env } = await setUp([{ stall: true }]);
  const activityEnv = new MockActivityEnvironment();
  const pids: number[] = [];
  activityEnv.on('heartbeat', (d: CodexHeartbeat) => d.pid && pids.push(d.pid));
  const running = activityEnv.turn(createRunCodexTurnActivity(env.runner()), env.turnInput());
  await model.waitForRequests(1);
  activityEnv.cancel();

  const err = await running.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CancelledFailure);
  const partial = (err as CancelledFailure).details[0] as CodexTurnResult;
  expect(partial.status).toBe('interrupted');
  expect(partial.turnId).not.toBeNull();
  expect(pids.length).toBeGreaterThan(0);
  expect(alive(pids[0]!)).toBe(false);
  expect(env.processes()).toEqual([]);
});

describe('what a person must fix fails the activity as a non-retryable ApplicationFailure', () => {
  test('the table says which types are retried', () => {
    expect(CODEX_NON_RETRYABLE_TYPES).toEqual([
      'CodexBinaryMissing',
      'CwdMissing',
      'CwdNotAllowed',
      'InvalidCodexConfig',
      'CodexThreadNotFound',
      'InvalidTaskInput',
    ]);
    expect(CODEX_ERROR_TYPES.CodexAppServerFailed.retryable).toBe(true);
  });

  test('CodexBinaryMissing', async () => {
    const { env } = await setUp([]);
    const failure = await failureOf(
      new MockActivityEnvironment().turn(
        createRunCodexTurnActivity(env.runner({ bin: '/nonexistent/bin/codex' })),
        env.turnInput(),
      ),
    );
    expect(failure).toMatchObject({ type: 'CodexBinaryMissing', nonRetryable: true });
    expect(failure.message).toBe(
      'The Codex binary /nonexistent/bin/codex does not exist or is not executable: set CODEX_BIN to a codex binary, or unset it to use the @openai/codex dependency.',
    );
  });

  test('CwdMissing', async () => {
    const { env } = await setUp([]);
    const cwd = path.join(env.root, 'missing-dir');
    const failure = await failureOf(
      new MockActivityEnvironment().turn(createRunCodexTurnActivity(env.runner()), env.turnInput({ cwd })),
    );
    expect(failure).toMatchObject({
      type: 'CwdMissing',
      nonRetryable: true,
      message: `The working directory ${cwd} does not exist: create it or pass an existing directory.`,
    });
  });

  test('CwdNotAllowed', async () => {
    const { env } = await setUp([]);
    const failure = await failureOf(
      new MockActivityEnvironment().turn(
        createRunCodexTurnActivity(env.runner({ allowedRoots: [path.join(env.root, 'projects')] })),
        env.turnInput(),
      ),
    );
    expect(failure).toMatchObject({ type: 'CwdNotAllowed', nonRetryable: true });
    expect(failure.message).toContain('is outside the allowed roots');
  });

  test('InvalidCodexConfig (an unknown model provider chosen in the config)', async () => {
    const { env } = await setUp([], ['model_provider="no-such-provider"']);
    const failure = await failureOf(
      new MockActivityEnvironment().turn(createRunCodexTurnActivity(env.runner()), env.turnInput()),
    );
    expect(failure).toMatchObject({ type: 'InvalidCodexConfig', nonRetryable: true });
    expect(failure.message).toContain('Model provider `no-such-provider` not found');
    expect(env.processes()).toEqual([]);
  });
});

test('a model error is a failed result, not a failure', async () => {
  const { env } = await setUp([{ httpError: 400, message: 'This model does not exist.' }]);
  const result = await new MockActivityEnvironment().turn(createRunCodexTurnActivity(env.runner()), env.turnInput());
  expect(result).toMatchObject({ status: 'failed', error: { message: 'This model does not exist.' } });
});

test('with policy "ask" the relay answers, and heartbeats go on while the person decides', async () => {
  const { env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'touch relayed.txt' }] },
    { items: [{ type: 'message', text: 'done' }] },
  ]);
  const asked: Parameters<RequestRelay>[] = [];
  const relay: RequestRelay = async (...args) => {
    asked.push(args);
    await new Promise((r) => setTimeout(r, 5_000));
    return { decision: 'accept', answered_by: 'person' };
  };
  const activityEnv = new MockActivityEnvironment();
  const beats: number[] = [];
  activityEnv.on('heartbeat', () => beats.push(Date.now()));
  const input = env.turnInput({
    taskId: 'task-relay',
    approvalPolicy: 'untrusted',
    sandbox: 'workspace-write',
    serverRequestPolicy: 'ask',
    timeoutMs: 4_000,
  });
  const result = await activityEnv.turn(
    createRunCodexTurnActivity(env.runner(), { relay, heartbeatIntervalMs: 300 }),
    input,
  );

  expect(asked).toHaveLength(1);
  expect(asked[0]![0]).toBe('task-relay');
  expect(asked[0]![1]).toEqual({
    request_id: 'task-relay-t1-r1',
    kind: 'command_approval',
    summary: expect.stringContaining('touch relayed.txt'),
    details: expect.stringContaining('Command:'),
    attempt: 1,
  });
  // The turn's 4 s timeout does not run while the person decides (5 s); 4 s leaves room for a busy machine.
  expect(result.status).toBe('completed');
  expect(result.requests).toEqual([expect.objectContaining({ answer: 'accept', answered_by: 'person' })]);
  expect(fs.existsSync(path.join(env.workDir, 'relayed.txt'))).toBe(true);
  const duringWait = beats.filter((t, i) => i > 0 && t - beats[0]! > 500);
  expect(duringWait.length).toBeGreaterThanOrEqual(3);
});

test('with policy "ask" but no relay, requests are declined; a retry’s request ids name the attempt', async () => {
  const { env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'touch nope.txt' }] },
    { items: [{ type: 'message', text: 'ok' }] },
  ]);
  const input = env.turnInput({
    taskId: 'task-retry',
    turn: 2,
    approvalPolicy: 'untrusted',
    sandbox: 'workspace-write',
    serverRequestPolicy: 'ask',
  });
  const result = await new MockActivityEnvironment({ attempt: 3 }).turn(
    createRunCodexTurnActivity(env.runner()),
    input,
  );
  expect(result.requests).toEqual([
    expect.objectContaining({ request_id: 'task-retry-t2-a3-r1', answer: 'decline', answered_by: 'policy' }),
  ]);
});

describe('orphan reaping', () => {
  test('the app-server a crashed attempt left running is killed before the next attempt starts', async () => {
    const { model, env } = await setUp([{ stall: true }, { items: [{ type: 'message', text: 'second attempt' }] }]);
    // The "crashed" attempt: a turn nobody will ever cancel or await, like a worker that died.
    const spawned: number[] = [];
    const abandoned = env
      .runner()
      .runTurn(env.turnInput({ timeoutMs: 600_000 }), { onSpawn: (pid) => spawned.push(pid) });
    abandoned.catch(() => undefined); // it fails once its app-server is killed from outside
    await model.waitForRequests(1);
    const orphan = spawned[0]!;
    expect(alive(orphan)).toBe(true);

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { pid: orphan } });
    const result = await retry.turn(createRunCodexTurnActivity(env.runner()), env.turnInput());

    expect(alive(orphan)).toBe(false);
    expect(result).toMatchObject({ status: 'completed', finalMessage: 'second attempt' });
    await expect(abandoned).rejects.toMatchObject({ type: 'CodexAppServerFailed' });
    expect(env.processes()).toEqual([]);
  });

  test('with the process tag, what the orphan started is killed too; a pid that is not ours is left alone', async () => {
    const { model, env } = await setUp([
      { items: [{ type: 'exec_command', cmd: 'setsid sleep 300 > /dev/null 2>&1 < /dev/null & echo started' }] },
      { stall: true },
      { items: [{ type: 'message', text: 'retried' }] },
    ]);
    const seen: { heartbeat: CodexHeartbeat | null } = { heartbeat: null };
    const abandoned = env
      .runner()
      .runTurn(env.turnInput({ timeoutMs: 600_000 }), { onProgress: (hb) => (seen.heartbeat = hb) });
    abandoned.catch(() => undefined);
    await model.waitForRequests(2);
    const escaped = env
      .processes()
      .filter(
        (pid) => pid !== seen.heartbeat!.pid && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'),
      );
    expect(escaped).toHaveLength(1);

    // A live pid that is not a codex app-server (a reused pid) is never killed; the attempt then
    // fails on its missing cwd, before any model request.
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    onCleanup(async () => void stranger.kill('SIGKILL'));
    const strangerRun = new MockActivityEnvironment({ heartbeatDetails: { pid: stranger.pid } }).turn(
      createRunCodexTurnActivity(env.runner()),
      env.turnInput({ cwd: path.join(env.root, 'missing') }),
    );
    expect(await failureOf(strangerRun)).toMatchObject({ type: 'CwdMissing' });
    expect(alive(stranger.pid!)).toBe(true);
    expect(alive(seen.heartbeat!.pid!)).toBe(true);

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: seen.heartbeat });
    const result = await retry.turn(createRunCodexTurnActivity(env.runner()), env.turnInput());
    expect(result.finalMessage).toBe('retried');
    expect(alive(seen.heartbeat!.pid!)).toBe(false);
    expect(alive(escaped[0]!)).toBe(false);
    expect(env.processes()).toEqual([]);
  });
});
