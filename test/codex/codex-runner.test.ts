// CodexRunner against the real `codex app-server` (the @openai/codex dependency's binary) and a
// scripted model on 127.0.0.1. Each test gets its own CODEX_HOME, so the process table can be
// checked for leftovers afterwards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../src/infra/free-port';
import { CodexRunError } from '../../activities/codex/errors';
import type { CodexTurnResult } from '../../src/contract/codex-turn';
import { makeCodexEnv, type CodexTestEnv } from '../support/codex-env';
import { scriptedCodexFixture } from './support/scripted-codex';

const { setUp, onCleanup } = scriptedCodexFixture();

/** Nothing runs with the env's CODEX_HOME any more (the app-server, its shells, their children). */
function expectNoProcessLeft(env: CodexTestEnv, leader?: number): void {
  expect(env.processes()).toEqual([]);
  if (leader !== undefined)
    expect(fs.existsSync(`/proc/${leader}`) && !/\) Z/.test(fs.readFileSync(`/proc/${leader}/stat`, 'utf8'))).toBe(
      false,
    );
}

test('a one-message turn returns the final message, ids and this turn’s usage', async () => {
  const { model, env } = await setUp([
    {
      items: [
        { type: 'message', text: 'Working on it.', phase: 'commentary' },
        { type: 'message', text: 'Hello from the scripted model.', phase: 'final_answer' },
      ],
      usage: { input_tokens: 120, output_tokens: 30 },
    },
  ]);
  const result = await env.runner().runTurn(env.turnInput({ prompt: 'Say hello.' }));

  expect(result).toMatchObject<Partial<CodexTurnResult>>({
    status: 'completed',
    finalMessage: 'Hello from the scripted model.',
    error: null,
    commands: [],
    fileChanges: [],
    diff: null,
    requests: [],
  });
  expect(result.threadId).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.turnId).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.usage).toEqual({
    input_tokens: 120,
    cached_input_tokens: 0,
    output_tokens: 30,
    reasoning_output_tokens: 0,
    total_tokens: 150,
  });
  expect(result.durationMs).toBeGreaterThan(0);
  expect(model.inputText(0)).toContain('Say hello.');
  expectNoProcessLeft(env);
});

test('a follow-up turn resumes the thread: the model sees the first turn, usage counts only the second', async () => {
  const { model, env } = await setUp([
    {
      items: [{ type: 'message', text: 'The secret word is PAPAYA.' }],
      usage: { input_tokens: 100, output_tokens: 10 },
    },
    { items: [{ type: 'message', text: 'You asked about PAPAYA.' }], usage: { input_tokens: 300, output_tokens: 20 } },
  ]);
  const runner = env.runner();
  const first = await runner.runTurn(env.turnInput({ prompt: 'Pick a secret word.' }));
  const second = await runner.runTurn(
    env.turnInput({ turn: 2, prompt: 'What did I ask before?', threadId: first.threadId }),
  );

  expect(second.status).toBe('completed');
  expect(second.threadId).toBe(first.threadId);
  expect(second.turnId).not.toBe(first.turnId);
  expect(model.inputText(1)).toContain('Pick a secret word.');
  expect(model.inputText(1)).toContain('The secret word is PAPAYA.');
  expect(second.usage).toMatchObject({ input_tokens: 300, output_tokens: 20, total_tokens: 320 });
  expectNoProcessLeft(env);
});

test('a command turn reports the command with its exit code and output', async () => {
  const { model, env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'echo out-$((40+2)); echo err-line >&2; exit 3', callId: 'call_cmd' }] },
    { items: [{ type: 'message', text: 'The command failed with 3.' }] },
  ]);
  const result = await env.runner().runTurn(env.turnInput({ prompt: 'Run the script.', sandbox: 'workspace-write' }));

  expect(result.status).toBe('completed');
  expect(result.commands).toHaveLength(1);
  expect(result.commands[0]).toMatchObject({ exit_code: 3, status: 'failed' });
  expect(result.commands[0]!.command).toContain('echo out-$((40+2))');
  expect(result.commands[0]!.output).toContain('out-42');
  expect(result.commands[0]!.output).toContain('err-line');
  expect(typeof result.commands[0]!.duration_ms).toBe('number');
  expect(model.toolOutputs(1).call_cmd).toContain('out-42');
  expectNoProcessLeft(env);
});

test('long command output is truncated with a marker, keeping head and tail', async () => {
  const { env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'echo FIRST; seq 1 3000; echo LAST' }] },
    { items: [{ type: 'message', text: 'done' }] },
  ]);
  const result = await env.runner({ outputLimit: 500 }).runTurn(env.turnInput());

  const output = result.commands[0]!.output;
  expect(output.length).toBeLessThanOrEqual(500 + 60);
  expect(output).toMatch(/^FIRST/);
  expect(output).toMatch(/LAST\s*$/);
  expect(output).toMatch(/characters omitted/);
});

test('a patch turn reports the file change and the turn’s unified diff', async () => {
  const { env } = await setUp([
    {
      items: [
        { type: 'apply_patch', patch: '*** Begin Patch\n*** Add File: notes/hello.txt\n+hello world\n*** End Patch\n' },
      ],
    },
    { items: [{ type: 'message', text: 'Added the file.', phase: 'final_answer' }] },
  ]);
  const result = await env.runner().runTurn(env.turnInput({ prompt: 'Add a file.', sandbox: 'workspace-write' }));

  expect(result.status).toBe('completed');
  expect(fs.readFileSync(path.join(env.workDir, 'notes/hello.txt'), 'utf8')).toBe('hello world\n');
  expect(result.fileChanges).toEqual([
    { path: path.join(fs.realpathSync(env.workDir), 'notes/hello.txt'), kind: 'add', diff: 'hello world\n' },
  ]);
  // Codex names files relative to the enclosing git repository (a shared /tmp may have one), else to cwd.
  expect(result.diff).toMatch(/^\+\+\+ b\/(.+\/)?notes\/hello\.txt$/m);
  expect(result.diff).toContain('+hello world');
  expect(result.finalMessage).toBe('Added the file.');
});

test('model HTTP 400 fails the turn at once with Codex’s error text', async () => {
  const { env } = await setUp([{ httpError: 400, message: 'Invalid prompt: the scripted model refuses.' }]);
  const started = Date.now();
  const result = await env.runner().runTurn(env.turnInput());

  expect(result.status).toBe('failed');
  expect(result.error).toEqual({ type: 'other', message: 'Invalid prompt: the scripted model refuses.' });
  expect(result.finalMessage).toBeNull();
  expect(Date.now() - started).toBeLessThan(15_000);
  expectNoProcessLeft(env);
});

test('model HTTP 500 and response.failed fail the turn without retrying', async () => {
  const { model, env } = await setUp([
    { httpError: 500, message: 'boom' },
    { failed: { code: 'server_error', message: 'the scripted stream failed' } },
  ]);
  const runner = env.runner();
  const http500 = await runner.runTurn(env.turnInput());
  const streamFailed = await runner.runTurn(env.turnInput());

  expect(http500.status).toBe('failed');
  expect(http500.error?.type).toBe('internalServerError');
  expect(streamFailed.status).toBe('failed');
  expect(streamFailed.error?.message).toContain('the scripted stream failed');
  expect(model.requests).toHaveLength(2);
});

test('an unreachable model URL fails the turn instead of hanging', async () => {
  const port = await freePort();
  const env = await makeCodexEnv({ modelUrl: `http://127.0.0.1:${port}/v1` });
  onCleanup(() => env.cleanup());
  const started = Date.now();
  const result = await env.runner().runTurn(env.turnInput({ timeoutMs: 90_000 }));

  expect(result.status).toBe('failed');
  expect(result.error?.type).toBe('httpConnectionFailed');
  expect(result.error?.message).toMatch(/connect|connection/i);
  expect(Date.now() - started).toBeLessThan(30_000);
  expectNoProcessLeft(env);
});

test('cancelling during a stalled stream interrupts the turn and leaves no process', async () => {
  const { model, env } = await setUp([{ stall: true }]);
  const controller = new AbortController();
  const spawned: number[] = [];
  const running = env.runner().runTurn(env.turnInput(), { signal: controller.signal, onSpawn: (p) => spawned.push(p) });
  await model.waitForRequests(1);
  const pid = spawned[0]!;
  expect(env.processes()).toContain(pid);

  const cancelledAt = Date.now();
  controller.abort();
  const result = await running;

  expect(result.status).toBe('interrupted');
  expect(result.turnId).not.toBeNull();
  expect(Date.now() - cancelledAt).toBeLessThan(8_000);
  expectNoProcessLeft(env, pid);
});

test('a background process the model started in its own session does not outlive the turn', async () => {
  const { env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'setsid nohup sleep 300 > /dev/null 2>&1 < /dev/null & echo started' }] },
    { items: [{ type: 'message', text: 'Left a sleeper behind.' }] },
  ]);
  const result = await env.runner().runTurn(env.turnInput());

  expect(result.commands[0]!.output).toContain('started');
  expectNoProcessLeft(env);
});

test('cancelling while a person is asked aborts the question and records it unanswered', async () => {
  const { env } = await setUp([{ items: [{ type: 'exec_command', cmd: 'touch never.txt' }] }]);
  const controller = new AbortController();
  const asked: AbortSignal[] = [];
  const result = await env
    .runner()
    .runTurn(env.turnInput({ taskId: 'task-wait', approvalPolicy: 'untrusted', sandbox: 'workspace-write' }), {
      signal: controller.signal,
      onServerRequest: (_request, signal) => {
        asked.push(signal);
        setTimeout(() => controller.abort(), 200);
        return new Promise(() => undefined); // nobody ever answers
      },
    });

  expect(result.status).toBe('interrupted');
  expect(asked).toHaveLength(1);
  expect(asked[0]!.aborted).toBe(true);
  expect(result.requests).toEqual([
    expect.objectContaining({ request_id: 'task-wait-t1-r1', answer: 'none', answered_by: 'none' }),
  ]);
  expect(result.commands).toEqual([expect.objectContaining({ status: 'aborted' })]);
  expectNoProcessLeft(env);
});

test('a turn past its timeout is interrupted and reported timed_out', async () => {
  const { model, env } = await setUp([{ stall: true }]);
  const progress: string[] = [];
  const result = await env
    .runner()
    .runTurn(env.turnInput({ timeoutMs: 3_000 }), { onProgress: (hb) => progress.push(`${hb.turnId ?? '-'}`) });

  expect(result.status).toBe('timed_out');
  expect(result.durationMs).toBeGreaterThanOrEqual(3_000);
  expect(result.durationMs).toBeLessThan(15_000);
  expect(model.requests).toHaveLength(1);
  expect(progress.at(-1)).toBe(result.turnId);
  expectNoProcessLeft(env);
});

test('untrusted policy: a declined command is recorded and the turn completes', async () => {
  const { model, env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'touch created-by-codex.txt', callId: 'call_touch' }] },
    { items: [{ type: 'message', text: 'The command was declined, so I stopped.' }] },
  ]);
  const input = env.turnInput({
    taskId: 'task-decline',
    turn: 1,
    approvalPolicy: 'untrusted',
    sandbox: 'workspace-write',
    serverRequestPolicy: 'decline',
  });
  const result = await env.runner().runTurn(input);

  expect(result.status).toBe('completed');
  expect(result.requests).toEqual([
    {
      request_id: 'task-decline-t1-r1',
      kind: 'command_approval',
      summary: expect.stringContaining('touch created-by-codex.txt'),
      answer: 'decline',
      answered_by: 'policy',
    },
  ]);
  expect(result.commands).toEqual([expect.objectContaining({ status: 'declined', exit_code: null })]);
  expect(fs.existsSync(path.join(env.workDir, 'created-by-codex.txt'))).toBe(false);
  expect(model.toolOutputs(1).call_touch).toMatch(/reject|declin/i);
  expect(result.finalMessage).toBe('The command was declined, so I stopped.');
});

test('a person’s answer through onServerRequest is used and recorded; the request carries details', async () => {
  const { env } = await setUp([
    { items: [{ type: 'exec_command', cmd: 'touch approved.txt' }] },
    { items: [{ type: 'message', text: 'Created it.' }] },
  ]);
  const seen: { request_id: string; kind: string; details: string }[] = [];
  const result = await env.runner().runTurn(
    env.turnInput({
      taskId: 'task-ask',
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      serverRequestPolicy: 'ask',
    }),
    {
      onServerRequest: async (request) => {
        seen.push(request);
        return { decision: 'accept', answered_by: 'person' };
      },
    },
  );

  expect(seen).toEqual([
    expect.objectContaining({
      request_id: 'task-ask-t1-r1',
      kind: 'command_approval',
      details: expect.stringContaining('Command:'),
    }),
  ]);
  expect(result.requests).toEqual([expect.objectContaining({ answer: 'accept', answered_by: 'person' })]);
  expect(result.commands[0]).toMatchObject({ status: 'completed', exit_code: 0 });
  expect(fs.existsSync(path.join(env.workDir, 'approved.txt'))).toBe(true);
});

test('a "cancel" answer ends the turn interrupted', async () => {
  const { env } = await setUp([{ items: [{ type: 'exec_command', cmd: 'touch never.txt' }] }]);
  const result = await env
    .runner()
    .runTurn(env.turnInput({ approvalPolicy: 'untrusted', sandbox: 'workspace-write' }), {
      onServerRequest: async () => ({ decision: 'cancel', answered_by: 'person' }),
    });

  expect(result.status).toBe('interrupted');
  expect(result.requests[0]).toMatchObject({ answer: 'cancel', answered_by: 'person' });
  expect(fs.existsSync(path.join(env.workDir, 'never.txt'))).toBe(false);
});

describe('errors a person must fix are thrown as CodexRunError', () => {
  test('a missing binary', async () => {
    const { env } = await setUp([]);
    const attempt = env.runner({ bin: path.join(env.root, 'no-such-codex') }).runTurn(env.turnInput());
    await expect(attempt).rejects.toMatchObject({
      type: 'CodexBinaryMissing',
      message: expect.stringContaining('no-such-codex'),
    });
  });

  test('a missing cwd', async () => {
    const { env } = await setUp([]);
    const attempt = env.runner().runTurn(env.turnInput({ cwd: path.join(env.root, 'gone') }));
    await expect(attempt).rejects.toMatchObject({
      type: 'CwdMissing',
      message: expect.stringContaining('does not exist'),
    });
  });

  test('a cwd outside the allowed roots', async () => {
    const { env } = await setUp([]);
    const allowed = path.join(env.root, 'allowed');
    fs.mkdirSync(allowed);
    const attempt = env.runner({ allowedRoots: [allowed] }).runTurn(env.turnInput());
    await expect(attempt).rejects.toBeInstanceOf(CodexRunError);
    await expect(attempt).rejects.toMatchObject({
      type: 'CwdNotAllowed',
      message: expect.stringContaining('outside the allowed roots'),
    });
  });

  test('an unknown model provider in the config overrides', async () => {
    const { env } = await setUp([], ['model_provider="no-such-provider"']);
    const attempt = env.runner().runTurn(env.turnInput());
    await expect(attempt).rejects.toMatchObject({
      type: 'InvalidCodexConfig',
      message: expect.stringContaining('no-such-provider'),
    });
    expectNoProcessLeft(env);
  });

  test('a follow-up on a thread this CODEX_HOME does not have', async () => {
    const { env } = await setUp([]);
    const attempt = env.runner().runTurn(env.turnInput({ threadId: '01a2143c-51e5-7733-8a62-62267bbdd6c0' }));
    await expect(attempt).rejects.toMatchObject({
      type: 'CodexThreadNotFound',
      message: expect.stringContaining('01a2143c-51e5-7733-8a62-62267bbdd6c0'),
    });
    expectNoProcessLeft(env);
  });
});
