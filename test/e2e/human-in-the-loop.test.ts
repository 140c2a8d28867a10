// Human in the loop, end to end, with the REAL codex binary under approval policy `untrusted`
// (commands outside Codex's known-safe list ask first): the person is asked once, in the task's
// conversation (the local inbox here, written by the real notifier); accept runs the command,
// decline tells Codex, a second answer is a conflict, an unanswered request expires, a worker
// restart while waiting loses nothing, and `reply` continues the thread.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInboxLines, type InboxLine } from '../../activities/notify/local-notifier';
import type { TaskDocument } from '../../src/contract/task';
import { ConflictError } from '../../src/errors';
import { createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

const HEARTBEAT_TIMEOUT_MS = 8_000;

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  h = await createE2eHarness({ workflowInput: { heartbeat_timeout_ms: HEARTBEAT_TIMEOUT_MS } });
  worker = await h.startWorker(); // real notifier registry: `local` appends to the inbox file
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

const inbox = async (taskId: string): Promise<InboxLine[]> =>
  (await readInboxLines(h.config.notifiers.localInbox)).filter((l) => l.task_id === taskId);

/** Waits until the task asks, and returns the pending request. */
async function pendingRequest(taskId: string, timeoutMs = 60_000) {
  const doc = await h.waitFor(
    taskId,
    (d) => d.status === 'waiting_for_input' && d.pending_requests.length === 1,
    timeoutMs,
  );
  return doc.pending_requests[0]!;
}

async function expectConflict(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConflictError);
  expect((err as ConflictError).httpStatus).toBe(409);
  expect((err as ConflictError).exitCode).toBe(4);
  if (message) expect((err as Error).message).toMatch(message);
}

test('accept: one approval message, the command runs, its output is in result.commands; a second answer is a conflict', async () => {
  const cwd = h.workdir('accept');
  const cmd = 'echo hello > out.txt && cat out.txt';
  const route = h.model.route('accept', [
    { items: [{ type: 'exec_command', cmd, callId: 'call_accept' }] },
    { items: [{ type: 'message', text: 'Wrote out.txt.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Write hello to out.txt ${route.tag}`,
    cwd,
    notify_target: 'local',
    approval_policy: 'untrusted',
  });
  const request = await pendingRequest(task_id);
  expect(request).toMatchObject({ kind: 'command_approval', summary: expect.stringContaining(cmd) });
  expect(fs.existsSync(path.join(cwd, 'out.txt'))).toBe(false); // nothing ran before the person said so

  // The person is asked once, with the request kind, the command and the request id.
  const asked = await eventually(
    () => inbox(task_id),
    (lines) => lines.some((l) => l.kind === 'request'),
    20_000,
    'the approval message',
  );
  const approvals = asked.filter((l) => l.kind === 'request');
  expect(approvals).toHaveLength(1);
  expect(approvals[0]!.idempotency_key).toBe(`${task_id}:request:${request.request_id}`);
  expect(approvals[0]!.title).toMatch(/asks to run a command/);
  expect(approvals[0]!.text).toContain(cmd);
  expect(approvals[0]!.text).toContain(`codex-bridge approve ${task_id} ${request.request_id} --decision accept`);

  const answered = await h.service.approve(task_id, request.request_id, 'accept');
  expect(answered.pending_requests).toEqual([]);
  // A second answer to the same request is refused and changes nothing.
  await expectConflict(h.service.approve(task_id, request.request_id, 'decline'), /already been answered/);
  await expectConflict(h.service.approve(task_id, `${request.request_id}-nope`, 'accept'), /not pending/);

  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Wrote out.txt.');
  expect(final.result?.commands).toEqual([
    expect.objectContaining({
      command: expect.stringContaining(cmd),
      exit_code: 0,
      output: expect.stringContaining('hello'),
    }),
  ]);
  expect(fs.readFileSync(path.join(cwd, 'out.txt'), 'utf8')).toBe('hello\n');
  expect(route.toolOutputs(1).call_accept).toContain('hello');
  expect((await inbox(task_id)).map((l) => l.kind)).toEqual(['request', 'completion']);
  expect(await h.store.get(task_id)).toEqual(final);
});

test('decline: Codex is told (the next model request carries the rejection) and the task completes', async () => {
  const cwd = h.workdir('decline');
  const route = h.model.route('decline', [
    { items: [{ type: 'exec_command', cmd: 'echo nope > declined.txt', callId: 'call_decline' }] },
    { items: [{ type: 'message', text: 'Understood, I did not write the file.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Try to write declined.txt ${route.tag}`,
    cwd,
    notify_target: 'local',
    approval_policy: 'untrusted',
  });
  const request = await pendingRequest(task_id);
  await h.service.approve(task_id, request.request_id, 'decline');

  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Understood, I did not write the file.');
  expect(fs.existsSync(path.join(cwd, 'declined.txt'))).toBe(false);
  expect(route.requests).toHaveLength(2);
  const told = route.toolOutputs(1).call_decline;
  expect(told).toEqual(expect.any(String));
  expect(told).toMatch(/reject|declin|denied|not approved/i);
  expect(final.result?.commands.filter((c) => c.exit_code === 0)).toEqual([]);
});

test('an unanswered request expires: it is declined, Codex is told, and the person gets a request_expired message', async () => {
  const { service } = h.variant({ CODEX_BRIDGE_REQUEST_TIMEOUT: '3s' });
  const cwd = h.workdir('expire');
  const route = h.model.route('expire', [
    { items: [{ type: 'exec_command', cmd: 'echo late > late.txt', callId: 'call_expire' }] },
    { items: [{ type: 'message', text: 'Nobody answered; skipped it.', phase: 'final_answer' }] },
  ]);
  const startedAt = Date.now();
  const { task_id } = await service.start({
    prompt: `Write late.txt ${route.tag}`,
    cwd,
    notify_target: 'local',
    approval_policy: 'untrusted',
  });
  const request = await pendingRequest(task_id);

  const final = await h.result(task_id);
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3_000);
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Nobody answered; skipped it.');
  expect(fs.existsSync(path.join(cwd, 'late.txt'))).toBe(false);
  expect(route.toolOutputs(1).call_expire).toMatch(/reject|declin|denied|not approved/i);

  const lines = await inbox(task_id);
  expect(lines.map((l) => l.kind)).toEqual(['request', 'request_expired', 'completion']);
  const expired = lines[1]!;
  expect(expired.idempotency_key).toBe(`${task_id}:request-expired:${request.request_id}`);
  expect(expired.text).toContain(request.request_id);
  expect(expired.text).toMatch(/not answered in time and was declined/);
  // The request can no longer be answered.
  await expectConflict(h.service.approve(task_id, request.request_id, 'accept'));
});

test('a worker restart while the task waits for an answer loses nothing: answer after the restart, the task completes', async () => {
  const restart = h.variant({ TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-restart` });
  const cwd = h.workdir('restart');
  const cmd = 'echo restarted > restart.txt && cat restart.txt';
  const route = h.model.route('restart', [
    { items: [{ type: 'exec_command', cmd, callId: 'call_restart' }] },
    // The retried attempt runs the turn again from its prompt: the model asks for the same command.
    { items: [{ type: 'exec_command', cmd, callId: 'call_restart' }] },
    { items: [{ type: 'message', text: 'Done after the restart.', phase: 'final_answer' }] },
  ]);
  const first = h.startChildWorker(restart.env);
  const { task_id } = await restart.service.start({
    prompt: `Write restart.txt ${route.tag}`,
    cwd,
    notify_target: 'local',
    approval_policy: 'untrusted',
  });
  const request = await pendingRequest(task_id, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\nworker log:\n${first.log()}`);
  });
  await eventually(
    () => inbox(task_id),
    (lines) => lines.length === 1,
    20_000,
    'the approval message',
  );
  expect(h.codexProcesses([first.pid], { pooled: true }).length).toBeGreaterThan(0); // Codex waits for the answer in the worker's app-server

  await first.crash();
  const second = h.startChildWorker(restart.env);
  // The person answers the request they were told about, after the restart.
  const answered = await restart.service.approve(task_id, request.request_id, 'accept');
  expect(answered.pending_requests).toEqual([]);

  const final = await h.result(task_id, 150_000).catch((err: Error) => {
    throw new Error(`${err.message}\nsecond worker log:\n${second.log()}`);
  });
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Done after the restart.');
  expect(final.result?.commands).toEqual([
    expect.objectContaining({ exit_code: 0, output: expect.stringContaining('restarted') }),
  ]);
  expect(fs.readFileSync(path.join(cwd, 'restart.txt'), 'utf8')).toBe('restarted\n');
  expect(route.requests).toHaveLength(3);
  // One approval message: the retried attempt's identical question was not asked again.
  expect((await inbox(task_id)).map((l) => l.kind)).toEqual(['request', 'completion']);
  expect(await h.store.get(task_id)).toEqual(final);

  await eventually(
    () => h.codexProcesses([second.pid]),
    (pids) => pids.length === 0,
    10_000,
    'no process using the test CODEX_HOME',
  );
  await second.stop();
}, 300_000);

test('reply continues the thread: turn 2 sees turn 1, and each turn is notified once with its own key', async () => {
  const route = h.model.route('reply', [
    { items: [{ type: 'message', text: 'Turn one: made the plan.', phase: 'final_answer' }] },
    { items: [{ type: 'message', text: 'Turn two: did X as well.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Make a plan ${route.tag}`,
    cwd: h.workdir('reply'),
    notify_target: 'local',
  });
  const turn1 = await h.result(task_id);
  expect(turn1.status).toBe('completed');

  await h.service.reply(task_id, 'now also X');
  const turn2: TaskDocument = await eventually(
    () => h.result(task_id),
    (d) => d.turns.length === 2,
    60_000,
    'turn 2 to finish',
  );
  expect(turn2.status).toBe('completed');
  expect(turn2.result?.final_message).toBe('Turn two: did X as well.');
  expect(turn2.result?.thread_id).toBe(turn1.result?.thread_id);
  expect(turn2.turns.map((t) => [t.turn, t.prompt, t.status, t.notification_status])).toEqual([
    [1, `Make a plan ${route.tag}`, 'completed', 'sent'],
    [2, 'now also X', 'completed', 'sent'],
  ]);

  // The model's request for turn 2 carries turn 1's conversation.
  expect(route.requests).toHaveLength(2);
  const shown = route.inputText(1);
  expect(shown).toContain(`Make a plan ${route.tag}`);
  expect(shown).toContain('Turn one: made the plan.');
  expect(shown).toContain('now also X');

  const completions = (await inbox(task_id)).filter((l) => l.kind === 'completion');
  expect(completions.map((l) => [l.turn, l.idempotency_key])).toEqual([
    [1, `${task_id}:turn-1:completion`],
    [2, `${task_id}:turn-2:completion`],
  ]);
  expect(completions[1]!.text).toContain('Turn two: did X as well.');
  expect(await h.store.get(task_id)).toEqual(turn2);
});

test('no Codex process outlives the tasks', () => {
  expect(h.codexProcesses()).toEqual([]);
});
