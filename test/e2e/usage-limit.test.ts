// Codex's usage limit end to end: the scripted model answers the way ChatGPT's backend does when
// the limit is reached (HTTP 429, `usage_limit_reached`, `resets_at` 5 s ahead); the REAL codex
// binary reports the turn failed with `usageLimitExceeded` and "try again at <time>"; the task
// pauses as waiting_for_quota, its person gets one message, and the turn runs again after the
// reset and completes. (Codex names the reset to the minute, so the task waits to that minute's end.)
import { FakeNotifier } from '../support/fake-notifier';
import { createE2eHarness, type E2eHarness } from './support/e2e-harness';

let h: E2eHarness;

beforeAll(async () => {
  h = await createE2eHarness();
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

test('a usage limit pauses the task until the reset, the person hears once, and the turn completes after it', async () => {
  const notifier = new FakeNotifier();
  await h.startWorker({ notifier: notifier.notifier });
  const resetsAt = new Date(Date.now() + 5_000);
  const route = h.model.route('usage-limit', [
    { usageLimit: { resetsAt } },
    { items: [{ type: 'message', text: 'Done after the reset.', phase: 'final_answer' }] },
  ]);
  const started = await h.service.start({
    prompt: `Tidy the changelog ${route.tag}`,
    cwd: h.workdir('quota'),
    notify_target: 'feishu:oc_quota',
  });

  const paused = await h.waitFor(started.task_id, (t) => t.status === 'waiting_for_quota', 60_000);
  expect(Date.parse(paused.resumes_at!)).toBeGreaterThanOrEqual(resetsAt.getTime());
  expect(Date.parse(paused.resumes_at!)).toBeLessThanOrEqual(resetsAt.getTime() + 61_000);
  expect(route.requests).toHaveLength(1);

  const final = await h.result(started.task_id, 110_000);
  expect(final.status).toBe('completed');
  expect(final.result?.final_message).toBe('Done after the reset.');
  expect(final.resumes_at).toBeNull();
  expect(route.requests).toHaveLength(2);
  expect(notifier.calls.map((c) => c.message.kind)).toEqual(['quota_paused', 'completion']);
  expect(notifier.calls[0]!.message.title).toMatch(
    new RegExp(`^⏸ Codex task ${started.task_id} paused until \\d\\d:\\d\\d — Codex usage limit$`),
  );
  expect(Date.parse(final.turns[0]!.finished_at!)).toBeGreaterThanOrEqual(resetsAt.getTime());
}, 150_000);
