// Delivery, end to end: each task runs the REAL codex binary, and its worker (built by
// createBridgeWorker from the configuration) delivers through the REAL notifier channels to fake
// Feishu / Hermes / webhook servers and the local inbox file, which check credentials and
// signatures and count what actually reached the chat.
import { readInboxLines } from '../../activities/notify/local-notifier';
import type { TaskDocument } from '../../src/contract/task';
import type { FeishuRecordedRequest } from '../support/fake-feishu';
import { createE2eHarness, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  // The completion's delivery alone: each send request here is the completion's (progress cards,
  // which share the chat, are tested in progress-card.test.ts).
  h = await createE2eHarness({ env: { CODEX_BRIDGE_PROGRESS: 'none' } });
  worker = await h.startWorker(); // the real notifier registry, built from the configuration
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

/** Runs one small Codex task that ends with `final`, notifying `target`. */
async function runTask(name: string, target: string, final = `Done with ${name}.`): Promise<TaskDocument> {
  const route = h.model.route(name, [{ items: [{ type: 'message', text: final, phase: 'final_answer' }] }]);
  const { task_id } = await h.service.start({
    prompt: `Task ${name} ${route.tag}`,
    cwd: h.workdir(name),
    notify_target: target,
  });
  const doc = await h.result(task_id);
  expect(doc.status).toBe('completed');
  expect(doc.result?.final_message).toBe(final);
  expect(route.requests).toHaveLength(1);
  // Whatever happened to the notification, the mirror says the same as the workflow.
  expect(await h.store.get(task_id)).toEqual(doc);
  return doc;
}

const sendsTo = (chatId: string): FeishuRecordedRequest[] =>
  h.feishu.sendRequests().filter((r) => (r.body as { receive_id?: string } | null)?.receive_id === chatId);

test('feishu:oc_test gets exactly one message, even after two HTTP 500s', async () => {
  h.feishu.failNext(2, { kind: 'http', status: 500 });
  const doc = await runTask('feishu-500', 'feishu:oc_test');

  expect(doc.notification_status).toBe('sent');
  expect(doc.notification_attempts).toBe(3);
  expect(sendsTo('oc_test').map((r) => r.status)).toEqual([500, 500, 200]);
  const messages = h.feishu.messagesTo('oc_test');
  expect(messages).toHaveLength(1);
  expect(messages[0]!.uuid).toEqual(expect.any(String)); // the same uuid on every try, derived from the task
  expect(new Set(sendsTo('oc_test').map((r) => (r.body as { uuid?: string }).uuid))).toEqual(
    new Set([messages[0]!.uuid]),
  );
  expect(JSON.stringify(messages[0]!.content)).toContain(doc.task_id);
  expect(JSON.stringify(messages[0]!.content)).toContain('Done with feishu-500.');
});

test('bot not in chat (230002): notification failed with that reason after ONE attempt', async () => {
  h.feishu.removeBotFrom('oc_nobot');
  const doc = await runTask('feishu-230002', 'feishu:oc_nobot');

  expect(doc.notification_status).toBe('failed');
  expect(doc.notification_error).toMatch(/bot is not in chat oc_nobot/i);
  expect(doc.notification_error).toContain('230002');
  expect(doc.notification_attempts).toBe(1);
  expect(sendsTo('oc_nobot')).toHaveLength(1);
  expect(h.feishu.messagesTo('oc_nobot')).toHaveLength(0);
});

test('Feishu 429 with x-ogw-ratelimit-reset is waited out, not hammered', async () => {
  const resetSeconds = 3; // longer than the retry policy's own first intervals (1 s, 2 s)
  h.feishu.failNext(2, { kind: 'rate_limit', resetSeconds });
  const doc = await runTask('feishu-429', 'feishu:oc_ratelimited');

  expect(doc.notification_status).toBe('sent');
  const sends = sendsTo('oc_ratelimited');
  expect(sends.map((r) => r.status)).toEqual([429, 429, 200]); // three requests, no more
  const gaps = sends.slice(1).map((r, i) => r.receivedAt - sends[i]!.receivedAt);
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(resetSeconds * 1000 - 100);
  expect(h.feishu.messagesTo('oc_ratelimited')).toHaveLength(1);
});

test('hermes:telegram:-100123: the gateway receives one correctly signed request', async () => {
  const doc = await runTask('hermes', 'hermes:telegram:-100123');

  expect(doc.notification_status).toBe('sent');
  const requests = h.hermes.requests.filter((r) => (r.body as { task_id?: string } | null)?.task_id === doc.task_id);
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    route: 'codex',
    signatureValid: true,
    status: 200,
    requestId: `${doc.task_id}:turn-1:completion:g0`,
  });
  const deliveries = h.hermes.deliveredTo('telegram', '-100123');
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0]!.body).toMatchObject({
    event_type: 'codex_bridge.completion',
    task_id: doc.task_id,
    platform: 'telegram',
    chat_id: '-100123',
    thread_id: '',
  });
  expect(deliveries[0]!.message).toContain('Done with hermes.');
});

test('local: exactly one inbox line', async () => {
  const doc = await runTask('local', 'local');

  expect(doc.notification_status).toBe('sent');
  const lines = (await readInboxLines(h.config.notifiers.localInbox)).filter((l) => l.task_id === doc.task_id);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ idempotency_key: `${doc.task_id}:turn-1:completion`, kind: 'completion', turn: 1 });
  expect(lines[0]!.title).toContain(doc.task_id);
  expect(lines[0]!.text).toContain('Done with local.');
});

test('webhook:http://127.0.0.1:PORT/hook: one signed POST with an Idempotency-Key', async () => {
  const doc = await runTask('webhook', `webhook:${h.webhook.url('/hook')}`);

  expect(doc.notification_status).toBe('sent');
  const requests = h.webhook.requests.filter((r) => r.path === '/hook');
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    signatureValid: true,
    status: 200,
    idempotencyKey: `${doc.task_id}:turn-1:completion`,
  });
  expect(h.webhook.deliveredTo('/hook')).toHaveLength(1);
  expect(h.webhook.deliveredTo('/hook')[0]!.body).toMatchObject({
    task_id: doc.task_id,
    kind: 'completion',
    status: 'completed',
  });
});

test("a webhook URL's query (where its credentials go) reaches the webhook, never the Web UI's summary or search attribute", async () => {
  const url = h.webhook.url('/hook-token');
  const doc = await runTask('webhook-token', `webhook:${url}?token=s3cret`);

  expect(doc.notification_status).toBe('sent');
  expect(h.webhook.deliveredTo('/hook-token')).toHaveLength(1);
  const handle = h.client.workflow.getHandle(doc.task_id);
  const description = await handle.describe();
  expect(await description.staticDetails()).toContain(`**Notify:** webhook:${url}?…`);
  expect(await description.staticDetails()).not.toContain('s3cret');
  const listed: string[] = [];
  for await (const w of h.client.workflow.list({
    query: `WorkflowId="${doc.task_id}" AND NotifyTarget="webhook:${url}?…"`,
  }))
    listed.push(w.workflowId);
  expect(listed).toEqual([doc.task_id]);
});

test('no Codex process outlives the tasks', () => {
  expect(h.codexProcesses()).toEqual([]);
});
