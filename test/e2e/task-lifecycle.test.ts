// A task's lifecycle, end to end: a task started through TaskService runs the REAL codex binary
// (against a scripted model) in a worker built by createBridgeWorker, reaches `completed`, is
// notified exactly once, is visible through its search attributes and Web UI summary, and its
// MongoDB mirror equals the workflow's final state. And a worker SIGKILLed mid-turn: the task
// still ends, is notified once, and no Codex process is left behind.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { TEMPORAL_CLI } from '../../src/infra/tool-paths';
import { FakeNotifier } from '../support/fake-notifier';
import { createE2eHarness, eventually, sleep, type E2eHarness } from './support/e2e-harness';

const HEARTBEAT_TIMEOUT_MS = 8_000;

let h: E2eHarness;

beforeAll(async () => {
  h = await createE2eHarness({ workflowInput: { heartbeat_timeout_ms: HEARTBEAT_TIMEOUT_MS } });
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

test('a task reaches completed, is notified exactly once, and is findable by its search attributes; the mirror equals the workflow', async () => {
  const notifier = new FakeNotifier();
  const worker = await h.startWorker({ notifier: notifier.notifier });
  try {
    const longFinal = `Summary of the work. ${'All the details of what Codex did, line after line. '.repeat(60)}THE-END-MARKER`;
    const route = h.model.route('lifecycle', [
      { items: [{ type: 'message', text: longFinal, phase: 'final_answer' }] },
    ]);
    const started = await h.service.start({
      prompt: `Write a long summary ${route.tag}`,
      cwd: h.workdir('lifecycle'),
      notify_target: 'feishu:oc_lifecycle',
    });
    expect(started.status).toBe('queued');

    const final = await h.result(started.task_id);
    expect(final.status).toBe('completed');
    expect(final.result?.final_message).toBe(longFinal);
    expect(final.result?.thread_id).toEqual(expect.any(String));
    expect(final.notification_status).toBe('sent');
    expect(final.notification_attempts).toBe(1);
    expect(route.requests).toHaveLength(1);

    // Exactly one message, naming the task, its outcome and the (truncated) final message.
    expect(notifier.calls).toHaveLength(1);
    const { message, idempotencyKey, target } = notifier.calls[0]!;
    expect(target).toBe('feishu:oc_lifecycle');
    expect(idempotencyKey).toBe(`${final.task_id}:turn-1:completion`);
    expect(message.kind).toBe('completion');
    expect(message.title).toContain(final.task_id);
    expect(message.title).toMatch(/completed/);
    expect(message.text).toContain('Summary of the work.');
    expect(message.text).toMatch(/… \[truncated, \d+ more characters\]/);
    expect(message.text).not.toContain('THE-END-MARKER');
    expect(message.text.length).toBeLessThan(longFinal.length);

    // Search attributes: `temporal workflow list --query 'NotificationStatus="sent"'` finds it.
    const listed = await eventually(
      async () => {
        const { stdout } = await promisify(execFile)(TEMPORAL_CLI, [
          'workflow',
          'list',
          '--address',
          h.config.temporal.address,
          '--namespace',
          h.config.temporal.namespace,
          '--query',
          'NotificationStatus="sent"',
          '--output',
          'json',
        ]);
        return (JSON.parse(stdout || '[]') as { execution?: { workflowId?: string } }[]).map(
          (w) => w.execution?.workflowId,
        );
      },
      (ids) => ids.includes(final.task_id),
      20_000,
      'temporal workflow list --query NotificationStatus="sent"',
    );
    expect(listed).toContain(final.task_id);
    const viaClient: string[] = [];
    for await (const w of h.client.workflow.list({
      query: `NotificationStatus="sent" AND CodexTaskStatus="completed" AND WorkflowId="${final.task_id}"`,
    }))
      viaClient.push(w.workflowId);
    expect(viaClient).toEqual([final.task_id]);

    // The Web UI's summary (user metadata) is set.
    const description = await h.client.workflow.getHandle(final.task_id).describe();
    expect(await description.staticSummary()).toBe(`Codex: Write a long summary ${route.tag}`);
    expect(await description.staticDetails()).toContain('feishu:oc_lifecycle');

    // The MongoDB mirror equals the workflow's final state.
    expect(await h.store.get(final.task_id)).toEqual(final);
    expect(await h.service.status(final.task_id)).toEqual(final);
  } finally {
    await worker.stop();
  }
  expect(h.codexProcesses()).toEqual([]);
});

test('a worker SIGKILLed while Codex runs: the task still ends, is notified once, and no Codex process is left', async () => {
  // Child-process workers on their own task queue; delivery through the fake Feishu in this process.
  const child = h.variant({ TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-kill` });
  const route = h.model.route('kill', [
    { stall: true },
    { items: [{ type: 'message', text: 'Finished after the crash.', phase: 'final_answer' }] },
  ]);
  const first = h.startChildWorker(child.env);
  const started = await child.service.start({
    prompt: `Do something slow ${route.tag}`,
    cwd: h.workdir('kill'),
    notify_target: 'feishu:oc_kill',
  });

  // Codex is running in the child (its model call hangs): kill the worker's whole process group.
  await route.waitForRequests(1, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\nworker log:\n${first.log()}`);
  });
  await h.waitFor(started.task_id, (d) => d.status === 'running');
  expect(h.codexProcesses([first.pid], { pooled: true }).length).toBeGreaterThan(0); // the worker's app-servers, in their own process groups
  await first.crash();

  const second = h.startChildWorker(child.env);
  const final = await h.result(started.task_id, 150_000).catch((err: Error) => {
    throw new Error(`${err.message}\nsecond worker log:\n${second.log()}`);
  });
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Finished after the crash.');
  expect(final.notification_status).toBe('sent');
  expect(route.requests).toHaveLength(2); // the retried attempt ran the turn again

  // Exactly one message in the chat, even across two worker processes.
  expect(h.feishu.messagesTo('oc_kill')).toHaveLength(1);
  // Every send for the chat (the turn's progress card, the completion) carries one uuid: one message.
  const uuids = h.feishu
    .sendRequests()
    .filter((r) => (r.body as { receive_id?: string })?.receive_id === 'oc_kill')
    .map((r) => (r.body as { uuid?: string }).uuid);
  expect(new Set(uuids).size).toBe(1);
  expect(await h.store.get(final.task_id)).toEqual(final);

  // No orphaned Codex process: the first attempt's app-server is gone (it exits once the dead
  // worker's end of its stdin closes; the retried attempt reaps whatever would be left).
  await eventually(
    () => h.codexProcesses([second.pid]),
    (pids) => pids.length === 0,
    10_000,
    'no process using the test CODEX_HOME',
  );
  await second.stop();
  expect(h.codexProcesses()).toEqual([]);
}, 240_000);

test('a worker SIGKILLed after Codex started a detached command: the retried attempt reaps what the crashed one left', async () => {
  const child = h.variant({ TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-kill-cmd` });
  // A unique argument finds the command on this machine's /proc.
  const seconds = `600.${Date.now() % 100_000}`;
  const route = h.model.route('kill-cmd', [
    // A background job that leaves the app-server's process group (as `nohup … &` or a login shell's jobs do)…
    {
      items: [
        {
          type: 'exec_command',
          cmd: `setsid sleep ${seconds} > /dev/null 2>&1 < /dev/null & echo started`,
          callId: 'call_detach',
        },
      ],
    },
    // …then the model call hangs, and the worker dies.
    { stall: true },
    // The retried attempt runs the turn again.
    { items: [{ type: 'message', text: 'Done on the second attempt.', phase: 'final_answer' }] },
  ]);
  const first = h.startChildWorker(child.env);
  const started = await child.service.start({
    prompt: `Start a background job ${route.tag}`,
    cwd: h.workdir('kill-cmd'),
    notify_target: 'local',
    sandbox: 'danger-full-access',
  });
  const sleepers = () => processesWithArgs(['sleep', seconds]);
  await route.waitForRequests(2, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\nworker log:\n${first.log()}`);
  });
  expect(sleepers()).toHaveLength(1);
  await first.crash();
  await sleep(1_000);
  // It outlives the worker and the worker's app-servers (they die with it), until the retried
  // attempt reaps it — or, sooner, any pool that starts sweeps what a dead worker's pool left.
  expect(sleepers().length).toBeLessThanOrEqual(1);

  const second = h.startChildWorker(child.env);
  const final = await h.result(started.task_id, 150_000).catch((err: Error) => {
    throw new Error(`${err.message}\nsecond worker log:\n${second.log()}`);
  });
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Done on the second attempt.');
  expect(final.notification_status).toBe('sent');
  expect(route.requests).toHaveLength(3);
  // The retried attempt found it by the crashed attempt's process tag (derived from the attempt;
  // the crashed worker died before its heartbeat with the tag left it) and killed it.
  expect(sleepers()).toEqual([]);
  await eventually(
    () => h.codexProcesses([second.pid]),
    (pids) => pids.length === 0,
    10_000,
    'no process using the test CODEX_HOME',
  );
  await second.stop();
}, 240_000);

/** Live processes whose argv is exactly `args`. */
function processesWithArgs(args: string[]): number[] {
  const wanted = `${args.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1') !== wanted) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) found.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return found;
}
