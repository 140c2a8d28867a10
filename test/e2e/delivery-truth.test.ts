// `sent` means delivered: for every network channel, a task is recorded `sent` only when the
// receiver confirmed it has the message. Real tasks (the real codex binary, the real worker and
// notifier registry) notify fake receivers on 127.0.0.1 that take the request, hang past the
// notifier's timeout and then fail — once, or every time — or deliver slowly.
import type { TaskDocument } from '../../src/contract/task';
import { createE2eHarness, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

// Feishu and webhook requests give up after 2 s; Hermes requests after 4 s (a gateway answers only
// once the platform did, so its timeout is set above the platform's delivery time).
// No progress cards: the faults programmed here are meant for the completion's own requests.
const ENV = {
  CODEX_BRIDGE_NOTIFY_TIMEOUT: '2s',
  HERMES_WEBHOOK_TIMEOUT: '4s',
  HERMES_WEBHOOK_MAX_SENDS: '3',
  CODEX_BRIDGE_PROGRESS: 'none',
};
const HANG_MS = 5_000; // past both timeouts
const NOTIFY_DEADLINE_MS = 25_000;

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  h = await createE2eHarness({ env: ENV, workflowInput: { notify_deadline_ms: NOTIFY_DEADLINE_MS } });
  worker = await h.startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

beforeEach(() => {
  h.feishu.reset();
  h.hermes.reset();
  h.webhook.reset();
});

type Channel = 'feishu' | 'hermes' | 'webhook';
const CHANNELS: Channel[] = ['feishu', 'hermes', 'webhook'];

function target(channel: Channel, name: string): string {
  if (channel === 'feishu') return `feishu:oc_${name}`;
  if (channel === 'hermes') return `hermes:telegram:${name}`;
  return `webhook:${h.webhook.url(`/${name}`)}`;
}

/** Messages the receiver really kept for that target. */
function delivered(channel: Channel, name: string): number {
  if (channel === 'feishu') return h.feishu.messagesTo(`oc_${name}`).length;
  if (channel === 'hermes') return h.hermes.deliveredTo('telegram', name).length;
  return h.webhook.deliveredTo(`/${name}`).length;
}

/** Runs one task per channel at once, each to its own chat, and returns the final documents. */
async function runTasks(scenario: string): Promise<Record<Channel, TaskDocument>> {
  const docs = await Promise.all(
    CHANNELS.map(async (channel) => {
      const name = `${scenario}_${channel}`;
      const route = h.model.route(name, [
        { items: [{ type: 'message', text: `Done: ${name}.`, phase: 'final_answer' }] },
      ]);
      const { task_id } = await h.service.start({
        prompt: `Do it ${route.tag}`,
        cwd: h.workdir(name),
        notify_target: target(channel, name),
      });
      return [channel, await h.result(task_id, 120_000)] as const;
    }),
  );
  return Object.fromEntries(docs) as Record<Channel, TaskDocument>;
}

test('a receiver that takes the request, hangs past the timeout and fails every time: never `sent`, nothing delivered', async () => {
  h.feishu.failNext(1000, { kind: 'hang_then_fail', delayMs: HANG_MS });
  h.hermes.failNext(1000, { kind: 'hang_then_fail', delayMs: HANG_MS });
  h.webhook.failNext(1000, { kind: 'hang_then_fail', delayMs: HANG_MS });
  const docs = await runTasks('hangfail');
  for (const channel of CHANNELS) {
    const doc = docs[channel];
    expect([channel, doc.status, doc.notification_status, doc.notified_at]).toEqual([
      channel,
      'completed',
      'failed',
      null,
    ]);
    expect(doc.notification_error).toEqual(expect.any(String));
    expect(delivered(channel, `hangfail_${channel}`)).toBe(0);
  }
  // Each receiver was asked again and again (Feishu and webhook until the delivery deadline).
  expect(h.feishu.requests.filter((r) => r.path.endsWith('/messages')).length).toBeGreaterThan(2);
  expect(h.webhook.requests.filter((r) => r.path === '/hangfail_webhook').length).toBeGreaterThan(2);
  expect(docs.feishu.notification_error).toMatch(/deadline/);
  // Hermes stops after HERMES_WEBHOOK_MAX_SENDS request ids and says what to check.
  expect(docs.hermes.notification_error).toMatch(/did not confirm delivery .* in 3 tries/);
  const ids = new Set(h.hermes.requests.map((r) => r.requestId));
  expect(ids).toEqual(new Set([0, 1, 2].map((g) => `${docs.hermes.task_id}:turn-1:completion:g${g}`)));
}, 180_000);

test('a receiver that hangs and fails once, then works: `sent` only after it confirmed, exactly one message', async () => {
  h.feishu.failNext(1, { kind: 'hang_then_fail', delayMs: HANG_MS });
  h.hermes.failNext(1, { kind: 'hang_then_fail', delayMs: HANG_MS });
  h.webhook.failNext(1, { kind: 'hang_then_fail', delayMs: HANG_MS });
  const docs = await runTasks('hangonce');
  for (const channel of CHANNELS) {
    const doc = docs[channel];
    expect([channel, doc.notification_status]).toEqual([channel, 'sent']);
    expect(doc.notification_attempts).toBeGreaterThan(1);
    expect(delivered(channel, `hangonce_${channel}`)).toBe(1);
  }
  // The webhook's retry came while the first try was still being processed: the receiver said so (409).
  expect(h.webhook.requests.map((r) => r.status)).toContain(409);
}, 180_000);

test('a receiver that delivers slowly produces exactly one message', async () => {
  // Feishu and webhook answer after their 2 s timeout (the retry finds the key kept); the Hermes
  // gateway answers after 3 s, inside its timeout, as a gateway waiting on a slow platform does.
  h.feishu.failNext(1, { kind: 'slow', delayMs: 3_000 });
  h.hermes.failNext(1, { kind: 'slow', delayMs: 3_000 });
  h.webhook.failNext(1, { kind: 'slow', delayMs: 3_000 });
  const docs = await runTasks('slow');
  for (const channel of CHANNELS) {
    expect([channel, docs[channel].notification_status]).toEqual([channel, 'sent']);
    expect(delivered(channel, `slow_${channel}`)).toBe(1);
  }
  expect(docs.hermes.notification_attempts).toBe(1);
}, 180_000);

test('Hermes: a `duplicate` answer is never taken as delivered', async () => {
  // The first request is delivered but its answer is lost (the connection drops): the gateway has
  // the id, and only a new id can get a definite answer. The rule prefers a rare second message
  // to a lost one, and never records `sent` on `duplicate`.
  h.hermes.failNext(1, { kind: 'drop' });
  const name = 'dropped_hermes';
  const route = h.model.route(name, [{ items: [{ type: 'message', text: 'Done.', phase: 'final_answer' }] }]);
  const { task_id } = await h.service.start({
    prompt: `Do it ${route.tag}`,
    cwd: h.workdir(name),
    notify_target: `hermes:telegram:${name}`,
  });
  const doc = await h.result(task_id, 120_000);
  expect(doc.notification_status).toBe('sent');
  const answers = h.hermes.requests.map((r) => [r.requestId, (r.answer as { status?: string } | null)?.status ?? null]);
  expect(answers).toEqual([
    [`${task_id}:turn-1:completion:g0`, null],
    [`${task_id}:turn-1:completion:g1`, 'delivered'],
  ]);
  expect(h.hermes.deliveredTo('telegram', name)).toHaveLength(2);
}, 120_000);
