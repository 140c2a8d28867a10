// Talking to a running turn, end to end with the REAL codex binary and a scripted model that takes
// its time: a reply sent mid-turn is steered into that turn (the model sees it in its next request
// of the same turn); a reply that comes after the turn ended runs as the next turn; ten replies sent
// in quick succession reach Codex in order, each once; a reply id sent twice counts once.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TaskDocument } from '../../src/contract/task';
import { CLI, createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  // No webhook progress events: the slow answer programmed below is meant for the completion.
  h = await createE2eHarness({ env: { CODEX_BRIDGE_PROGRESS: 'feishu' } });
  worker = await h.startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

const running = (doc: TaskDocument) => doc.status === 'running';

/** How often `needle` occurs in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

test('a reply sent mid-turn reaches Codex inside that turn, and the CLI says so', async () => {
  const route = h.model.route('steer', [
    // The model thinks for 4 s before asking for a command: the reply arrives meanwhile.
    { delayMs: 4000, items: [{ type: 'exec_command', cmd: 'true', callId: 'call_steer' }] },
    { items: [{ type: 'message', text: 'Used pnpm as asked.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Install the dependencies ${route.tag}`,
    cwd: h.workdir('steer'),
    notify_target: 'local',
  });
  await route.waitForRequests(1);
  await h.waitFor(task_id, running);
  // The turn takes replies once Codex has started it; give the activity a moment to listen.
  await eventually(
    () => h.client.workflow.getHandle(task_id).fetchHistory(),
    (hist) => JSON.stringify(hist).includes('takeReply'),
    10_000,
    'the activity listening for replies',
  );

  // Asynchronously: the worker runs in this process and must keep working while the CLI waits.
  const { stdout: out } = await promisify(execFile)(
    process.execPath,
    [CLI, 'reply', task_id, '--prompt', 'Use pnpm, not npm.', '--reply-id', 'r-steer-1'],
    {
      env: { ...process.env, ...h.testEnv.env },
      encoding: 'utf8',
    },
  );
  expect(out).toContain('Reply r-steer-1 reached Codex inside turn 1');

  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.turns).toHaveLength(1); // the same turn, not a new one
  expect(final.turns[0]!.replies).toEqual([
    { reply_id: 'r-steer-1', prompt: 'Use pnpm, not npm.', delivered: 'steered' },
  ]);
  expect(final.queued_replies ?? []).toEqual([]);
  expect(route.requests).toHaveLength(2);
  expect(route.inputText(0)).not.toContain('Use pnpm, not npm.');
  expect(count(route.inputText(1), 'Use pnpm, not npm.')).toBe(1);
  expect(final.result?.final_message).toBe('Used pnpm as asked.');
});

test('a reply that misses the running turn runs as the next turn; the task document shows it queued meanwhile', async () => {
  // The completion goes to a webhook that holds its answer: the turn is over but the run is not.
  h.webhook.failNext(1, { kind: 'slow', delayMs: 3000 });
  const route = h.model.route('next-turn', [
    { items: [{ type: 'message', text: 'First turn done.', phase: 'final_answer' }] },
    { items: [{ type: 'message', text: 'Second turn done.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Do the first thing ${route.tag}`,
    cwd: h.workdir('next-turn'),
    notify_target: `webhook:${h.webhook.url('/next-turn')}`,
  });
  await h.waitFor(task_id, (d) => d.status === 'completed' && d.notification_status === 'pending');
  const queued = await h.service.reply(task_id, 'Now the second thing.', 'r-next-1');
  expect(queued.queued_replies).toEqual([
    expect.objectContaining({ reply_id: 'r-next-1', prompt: 'Now the second thing.', state: 'queued' }),
  ]);
  // The same reply id again changes nothing.
  await h.service.reply(task_id, 'Now the second thing.', 'r-next-1');

  const final = await eventually(
    () => h.result(task_id),
    (d) => d.turns.length === 2,
    60_000,
    'the second turn',
  );
  expect(final.status).toBe('completed');
  expect(final.turns.map((t) => t.prompt)).toEqual([`Do the first thing ${route.tag}`, 'Now the second thing.']);
  expect(final.turns[1]!.replies).toEqual([
    { reply_id: 'r-next-1', prompt: 'Now the second thing.', delivered: 'turn_input' },
  ]);
  expect(final.queued_replies).toEqual([]);
  expect(route.requests).toHaveLength(2);
  expect(count(route.inputText(1), 'Now the second thing.')).toBe(1);
  expect(final.result?.final_message).toBe('Second turn done.');
  // One completion per turn, each once.
  const completions = h.webhook
    .deliveredTo('/next-turn')
    .filter((d) => d.body.task_id === task_id && d.body.kind === 'completion');
  expect(completions.map((r) => r.body.turn).sort()).toEqual([1, 2]);
});

test('ten replies sent in quick succession reach Codex in order, each once', async () => {
  const replies = Array.from({ length: 10 }, (_, i) => `Reply number ${i + 1} of ten.`);
  const route = h.model.route('ten', [
    { delayMs: 4000, items: [{ type: 'exec_command', cmd: 'true', callId: 'call_ten' }] },
    ...Array.from({ length: 12 }, () => ({
      items: [{ type: 'message' as const, text: 'All read.', phase: 'final_answer' as const }],
    })),
  ]);
  const { task_id } = await h.service.start({ prompt: `Listen ${route.tag}`, cwd: h.workdir('ten') });
  await route.waitForRequests(1);
  for (const [i, prompt] of replies.entries()) await h.service.reply(task_id, prompt, `r-ten-${i + 1}`);

  const final = await eventually(
    () => h.result(task_id),
    (d) => (d.queued_replies ?? []).length === 0,
    60_000,
    'every reply taken',
  );
  expect(final.status).toBe('completed');
  const delivered = final.turns.flatMap((t) => t.replies ?? []);
  expect(delivered.map((r) => r.reply_id)).toEqual(replies.map((_, i) => `r-ten-${i + 1}`));
  // The last request of the thread shows everything Codex was given: each reply once, in order.
  const last = route.inputText(route.requests.length - 1);
  const positions = replies.map((r) => last.indexOf(r));
  for (const r of replies) expect(count(last, r)).toBe(1);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
});
