// CodexRunner with a pool of long-lived app-servers (the real binary, a scripted model on
// 127.0.0.1): concurrent turns share processes yet keep their own settings, cancellation,
// approvals, timeout and leftovers; a killed app-server fails only its own turns and is replaced.
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createRunCodexTurnActivity } from '../../activities/codex/run-codex-turn';
import type { CodexHeartbeat, CodexTurnResult } from '../../src/contract/codex-turn';
import { requestInputText, type RecordedRequest, type ScriptStep } from '../support/scripted-model';
import { scriptedCodexFixture } from './support/scripted-codex';

const { setUp, onCleanup } = scriptedCodexFixture();

/** The prompt of the turn a model request belongs to (the last user message of its input). */
function promptOf(request: RecordedRequest): string {
  const users = (request.body.input ?? []).filter((i) => i.role === 'user');
  const last = users[users.length - 1];
  return Array.isArray(last?.content) ? last.content.map((c) => c.text ?? '').join('') : String(last?.content ?? '');
}

function hasToolOutput(request: RecordedRequest): boolean {
  const input = request.body.input ?? [];
  const lastUser = input.map((i) => i.role).lastIndexOf('user');
  return input.slice(lastUser + 1).some((i) => i.type === 'function_call_output');
}

/** A model that answers by prompt: `run:<cmd>` runs cmd, then answers; `hold:<cmd>` runs cmd, then stalls; `stall` never answers. */
function byPrompt(request: RecordedRequest): ScriptStep {
  const prompt = promptOf(request);
  if (prompt.startsWith('hold:'))
    return hasToolOutput(request) ? { stall: true } : { items: [{ type: 'exec_command', cmd: prompt.slice(5) }] };
  if (prompt.startsWith('run:'))
    return hasToolOutput(request)
      ? { items: [{ type: 'message', text: `ran ${prompt}` }] }
      : { items: [{ type: 'exec_command', cmd: prompt.slice(4) }] };
  if (prompt === 'stall') return { stall: true };
  return { items: [{ type: 'message', text: `answer to ${prompt}` }] };
}

async function pooledRunner(size: number, script: (request: RecordedRequest) => ScriptStep = byPrompt) {
  const { model, env } = await setUp((request) => script(request));
  const runner = env.runner({ appServers: size });
  onCleanup(() => runner.close());
  await runner.warm();
  return { model, env, runner, pool: runner.appServerPool()! };
}

/** A process's argv joined by NULs; empty once it has gone. */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('concurrent turns on one process keep their own cwd, sandbox, approval policy and model', async () => {
  const { model, env, runner, pool } = await pooledRunner(1);
  const dirs = ['a', 'b', 'c'].map((d) => path.join(env.workDir, d));
  for (const dir of dirs) fs.mkdirSync(dir);
  const asked: string[] = [];
  const [a, b, c] = await Promise.all([
    runner.runTurn(
      env.turnInput({
        taskId: 'task-a',
        prompt: 'run:pwd',
        cwd: dirs[0]!,
        sandbox: 'danger-full-access',
        approvalPolicy: 'never',
        model: 'model-a',
      }),
    ),
    runner.runTurn(
      env.turnInput({
        taskId: 'task-b',
        prompt: 'run:pwd',
        cwd: dirs[1]!,
        sandbox: 'read-only',
        approvalPolicy: 'never',
        model: 'model-b',
      }),
    ),
    runner.runTurn(
      env.turnInput({
        taskId: 'task-c',
        prompt: 'run:touch c.txt',
        cwd: dirs[2]!,
        sandbox: 'workspace-write',
        approvalPolicy: 'untrusted',
        model: 'model-c',
      }),
      {
        onServerRequest: async (request) => {
          asked.push(request.request_id);
          return { decision: 'accept', answered_by: 'person' };
        },
      },
    ),
  ]);

  expect([a, b, c].map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  expect(pool.pids()).toHaveLength(1);
  // (The last line: a shell start-up file may complain first, e.g. about a read-only home.)
  const lastLine = (r: typeof a) => r.commands[0]!.output.trim().split('\n').pop();
  expect(lastLine(a)).toBe(fs.realpathSync(dirs[0]!));
  expect(lastLine(b)).toBe(fs.realpathSync(dirs[1]!));
  expect(fs.existsSync(path.join(dirs[2]!, 'c.txt'))).toBe(true);
  // Only the untrusted turn asked.
  expect(asked).toEqual(['task-c-t1-r1']);
  expect([a, b].map((r) => r.requests)).toEqual([[], []]);
  const first = (prompt: string, cwd: string) =>
    model.requests.find((r) => promptOf(r) === prompt && requestInputText(r).includes(`<cwd>${cwd}</cwd>`))!;
  expect(first('run:pwd', dirs[0]!).body.model).toBe('model-a');
  expect(first('run:pwd', dirs[1]!).body.model).toBe('model-b');
  expect(first('run:touch c.txt', dirs[2]!).body.model).toBe('model-c');
  // The sandbox each thread was given is what the model is told it has.
  expect(requestInputText(first('run:pwd', dirs[1]!))).toMatch(/file_system type="restricted"><entry access="read">/);
  expect(requestInputText(first('run:pwd', dirs[0]!))).not.toMatch(/file_system type="restricted"/);
});

test('cancelling one turn interrupts only that turn; the others on the same process go on', async () => {
  const { model, env, runner, pool } = await pooledRunner(1);
  const controller = new AbortController();
  const cancelled = runner.runTurn(env.turnInput({ prompt: 'stall' }), { signal: controller.signal });
  const other = runner.runTurn(env.turnInput({ prompt: 'stall' }));
  await model.waitForRequests(2);
  const [pid] = pool.pids();

  controller.abort();
  const result = await cancelled;
  expect(result.status).toBe('interrupted');
  // The other stalled turn is still running on the same, live process; a new turn is served too.
  const third = await runner.runTurn(env.turnInput({ prompt: 'hello' }));
  expect(third).toMatchObject({ status: 'completed', finalMessage: 'answer to hello' });
  expect(pool.pids()).toEqual([pid]);
  let otherDone = false;
  void other.then(
    () => (otherDone = true),
    () => (otherDone = true),
  );
  await new Promise((r) => setTimeout(r, 300));
  expect(otherDone).toBe(false);
  await runner.close(); // ends the process: the other turn fails rather than hanging
  await expect(other).rejects.toMatchObject({ type: 'CodexAppServerFailed' });
});

test('approvals reach the task whose turn asked', async () => {
  const { env, runner, pool } = await pooledRunner(1);
  const seen: Record<string, string[]> = { a: [], b: [] };
  const ask = (who: 'a' | 'b', decision: 'accept' | 'decline') => ({
    onServerRequest: async (request: { request_id: string; summary: string }) => {
      seen[who]!.push(`${request.request_id} ${request.summary}`);
      await new Promise((r) => setTimeout(r, 300)); // both questions are open at once
      return { decision, answered_by: 'person' as const };
    },
  });
  const input = (task: string, file: string) =>
    env.turnInput({
      taskId: task,
      prompt: `run:touch ${file}`,
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      serverRequestPolicy: 'ask',
    });
  const [a, b] = await Promise.all([
    runner.runTurn(input('task-a', 'from-a.txt'), ask('a', 'accept')),
    runner.runTurn(input('task-b', 'from-b.txt'), ask('b', 'decline')),
  ]);

  expect(pool.pids()).toHaveLength(1);
  expect(seen.a).toEqual([expect.stringMatching(/^task-a-t1-r1 Run `.*touch from-a\.txt/)]);
  expect(seen.b).toEqual([expect.stringMatching(/^task-b-t1-r1 Run `.*touch from-b\.txt/)]);
  expect(a.requests).toEqual([expect.objectContaining({ request_id: 'task-a-t1-r1', answer: 'accept' })]);
  expect(b.requests).toEqual([expect.objectContaining({ request_id: 'task-b-t1-r1', answer: 'decline' })]);
  expect(fs.existsSync(path.join(env.workDir, 'from-a.txt'))).toBe(true);
  expect(fs.existsSync(path.join(env.workDir, 'from-b.txt'))).toBe(false);
});

test('a turn’s hooks run in the context of its caller (the activity’s), not of the shared process', async () => {
  const { env, runner } = await pooledRunner(1); // the process was started outside any turn
  const context = new AsyncLocalStorage<string>();
  const seen: (string | undefined)[] = [];
  const input = env.turnInput({ prompt: 'run:touch ctx.txt', approvalPolicy: 'untrusted', sandbox: 'workspace-write' });
  await context.run('turn-1', () =>
    runner.runTurn(input, {
      onServerRequest: async () => {
        seen.push(context.getStore());
        return { decision: 'decline', answered_by: 'person' };
      },
      onProgress: () => void seen.push(context.getStore()),
    }),
  );
  expect(seen.length).toBeGreaterThan(2);
  expect(new Set(seen)).toEqual(new Set(['turn-1']));
});

test('a SIGKILLed app-server fails only the turns it hosted, and is replaced', async () => {
  const { model, env, runner, pool } = await pooledRunner(2);
  const spawned: number[] = [];
  const turns = Array.from({ length: 4 }, () =>
    runner.runTurn(env.turnInput({ prompt: 'stall', timeoutMs: 60_000 }), { onSpawn: (pid) => spawned.push(pid) }),
  );
  const outcomes = turns.map((t) =>
    t.then(
      (r) => r,
      (e: unknown) => e,
    ),
  );
  await model.waitForRequests(4);
  const [victim, survivor] = pool.pids();
  expect(spawned.filter((p) => p === victim)).toHaveLength(2);
  expect(spawned.filter((p) => p === survivor)).toHaveLength(2);

  process.kill(victim!, 'SIGKILL');
  const settled = await Promise.all(outcomes.filter((_, i) => spawned[i] === victim));
  for (const err of settled)
    expect(err).toMatchObject({ type: 'CodexAppServerFailed', message: expect.stringContaining('killed by SIGKILL') });
  // The survivor's turns are still running; the victim has a replacement.
  await until(() => pool.pids().length === 2 && !pool.pids().includes(victim!));
  expect(pool.pids()).toContain(survivor);
  const [fresh] = pool.pids().filter((p) => p !== survivor);
  expect(alive(victim!)).toBe(false);
  const next = await Promise.all([
    runner.runTurn(env.turnInput({ prompt: 'one' })),
    runner.runTurn(env.turnInput({ prompt: 'two' })),
  ]);
  expect(next.map((r) => r.status)).toEqual(['completed', 'completed']);
  expect(pool.pids().sort()).toEqual([survivor, fresh].sort());

  const controller = new AbortController();
  controller.abort();
  await runner.close();
  for (const err of await Promise.all(outcomes.filter((_, i) => spawned[i] === survivor)))
    expect(err).toMatchObject({ type: 'CodexAppServerFailed' });
});

test('a follow-up turn resumes its thread (on the process that has it, or another one) and counts only its own usage', async () => {
  const { model, env, runner, pool } = await pooledRunner(2, (request) => {
    const n = model.requests.indexOf(request);
    return {
      items: [{ type: 'message', text: `reply #${n + 1} to ${promptOf(request)}` }],
      usage: { input_tokens: 100 * (n + 1), output_tokens: 10 },
    };
  });
  const first = await runner.runTurn(env.turnInput({ prompt: 'Remember PAPAYA.' }));
  const second = await runner.runTurn(env.turnInput({ turn: 2, prompt: 'What did I say?', threadId: first.threadId }));
  expect(second).toMatchObject({ status: 'completed', threadId: first.threadId });
  expect(model.inputText(1)).toContain('Remember PAPAYA.');
  expect(second.usage).toMatchObject({ input_tokens: 200, output_tokens: 10 });

  // The process that had the thread loaded is gone: another one resumes it from CODEX_HOME.
  await runner.close();
  const again = env.runner({ appServers: 2 });
  onCleanup(() => again.close());
  const third = await again.runTurn(env.turnInput({ turn: 3, prompt: 'And now?', threadId: first.threadId }));
  expect(third).toMatchObject({ status: 'completed', threadId: first.threadId });
  expect(model.inputText(2)).toContain('What did I say?');
  expect(third.usage).toMatchObject({ input_tokens: 300, output_tokens: 10 });
  expect(pool.pids()).toEqual([]);
});

test('the turn timeout interrupts only the late turn; the process stays and serves the next', async () => {
  const { env, runner, pool } = await pooledRunner(1);
  const [pid] = pool.pids();
  const late = await runner.runTurn(env.turnInput({ prompt: 'stall', timeoutMs: 2_000 }));
  expect(late.status).toBe('timed_out');
  expect(late.durationMs).toBeGreaterThanOrEqual(2_000);
  expect(late.durationMs).toBeLessThan(12_000);
  const next = await runner.runTurn(env.turnInput({ prompt: 'hi' }));
  expect(next).toMatchObject({ status: 'completed', finalMessage: 'answer to hi' });
  expect(pool.pids()).toEqual([pid]);
});

test('what a turn started in the background is ended with the turn, not the shared process', async () => {
  const { env, runner, pool } = await pooledRunner(1);
  const [pid] = pool.pids();
  const result = await runner.runTurn(
    env.turnInput({ prompt: 'run:setsid nohup sleep 300 > /dev/null 2>&1 < /dev/null & echo started' }),
  );
  expect(result.commands[0]!.output).toContain('started');
  const sleepers = () => env.processes().filter((p) => cmdline(p).startsWith('sleep'));
  expect(sleepers()).toEqual([]);
  expect(pool.pids()).toEqual([pid]);
  expect(alive(pid!)).toBe(true);
  await runner.close();
  expect(env.processes()).toEqual([]);
});

test('a retry ends what the previous attempt’s turn started, never the shared app-server', async () => {
  const { model, env, runner, pool } = await pooledRunner(1);
  const [pid] = pool.pids();
  const seen: { heartbeat: CodexHeartbeat | null } = { heartbeat: null };
  // The "crashed" attempt: a turn nobody awaits, which left a sleeper outside its process group.
  const abandoned = runner.runTurn(
    env.turnInput({ prompt: 'hold:setsid sleep 300 > /dev/null 2>&1 < /dev/null & echo started' }),
    {
      processTag: 'a1a1a1a1-0000-4000-8000-000000000001',
      onProgress: (hb) => (seen.heartbeat = hb),
    },
  );
  abandoned.catch(() => undefined);
  await model.waitForRequests(2);
  const sleepers = () => env.processes().filter((p) => cmdline(p).startsWith('sleep'));
  expect(sleepers()).toHaveLength(1);
  expect(seen.heartbeat).toMatchObject({ pid, processTag: 'a1a1a1a1-0000-4000-8000-000000000001' });

  const retry = new MockActivityEnvironment(
    { attempt: 2, heartbeatDetails: seen.heartbeat },
    { logger: new DefaultLogger('ERROR') },
  );
  const result = (await retry.run(
    createRunCodexTurnActivity(runner),
    env.turnInput({ prompt: 'again' }),
  )) as CodexTurnResult;
  expect(result).toMatchObject({ status: 'completed', finalMessage: 'answer to again' });
  expect(sleepers()).toEqual([]);
  expect(pool.pids()).toEqual([pid]);
  expect(alive(pid!)).toBe(true);
});

test('what a person must fix is reported as without a pool, and the pool stays usable', async () => {
  const { env } = await setUp(byPrompt, ['model_provider="no-such-provider"']);
  const broken = env.runner({ appServers: 1 });
  onCleanup(() => broken.close());
  await expect(broken.runTurn(env.turnInput())).rejects.toMatchObject({
    type: 'InvalidCodexConfig',
    message: expect.stringContaining('no-such-provider'),
  });

  const { env: good, runner } = await pooledRunner(1);
  await expect(
    runner.runTurn(good.turnInput({ threadId: '01a2143c-51e5-7733-8a62-62267bbdd6c0' })),
  ).rejects.toMatchObject({ type: 'CodexThreadNotFound' });
  await expect(runner.runTurn(good.turnInput({ cwd: path.join(good.root, 'gone') }))).rejects.toMatchObject({
    type: 'CwdMissing',
  });
  expect(await runner.runTurn(good.turnInput({ prompt: 'still there?' }))).toMatchObject({
    status: 'completed',
    finalMessage: 'answer to still there?',
  });
});

describe('a worker that dies leaves no process behind', () => {
  test('its app-servers die with it, and the next pool sweeps what escaped', async () => {
    const { model, env } = await setUp(byPrompt);
    const host = path.join(__dirname, 'fixtures', 'pool-host.ts');
    const register = path.join(__dirname, '..', 'faults', 'support', 'register-ts.js');
    const child = spawn(process.execPath, ['-r', register, host], {
      env: {
        ...process.env,
        POOL_HOST_OPTIONS: JSON.stringify(env.runnerOptions({ appServers: 2 })),
        POOL_HOST_INPUT: JSON.stringify(
          env.turnInput({ prompt: 'run:setsid nohup sleep 300 > /dev/null 2>&1 < /dev/null & sleep 300' }),
        ),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup(async () => void child.kill('SIGKILL'));
    await model.waitForRequests(1);
    const appServers = () => env.processes().filter((p) => cmdline(p).split('\0').includes('app-server'));
    const sleepers = () => env.processes().filter((p) => cmdline(p).startsWith('sleep'));
    await until(() => sleepers().length === 2);
    expect(appServers()).toHaveLength(2);

    child.kill('SIGKILL');
    await until(() => appServers().length === 0, 10_000);
    // The setsid'd sleeper left the process group; a new pool's first turn sweeps it.
    const next = env.runner({ appServers: 1 });
    onCleanup(() => next.close());
    expect((await next.runTurn(env.turnInput({ prompt: 'after' }))).status).toBe('completed');
    await until(() => sleepers().length === 0, 5_000);
  });
});
