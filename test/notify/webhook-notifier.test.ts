import { createHmac } from 'node:crypto';
import { buildNotificationMessage } from '../../activities/notify/message';
import { parseRetryAfter } from '../../activities/notify/http-post';
import { createWebhookNotifier } from '../../activities/notify/webhook-notifier';
import { startFakeWebhook, type FakeWebhook } from '../support/fake-webhook';
import { completionView } from './support/views';
import { notifyFailure } from './support/notify-failure';

const message = buildNotificationMessage(completionView(), { uiUrl: 'http://ui' });
const KEY = 'fix-tests:turn-1:completion';
const SECRET = 'webhook-secret';

let hook: FakeWebhook;
beforeAll(async () => {
  hook = await startFakeWebhook({ secret: SECRET });
});
afterAll(() => hook.stop());
beforeEach(() => hook.reset());

const target = (path = '/hook') => ({ kind: 'webhook', url: hook.url(path) }) as const;
const notify = createWebhookNotifier({ secret: SECRET, timeoutMs: 2000 });

test('posts the message as signed JSON with the Idempotency-Key', async () => {
  const receipt = await notify(target(), message, KEY);
  expect(receipt).toMatchObject({ channel: 'webhook', duplicate: false });
  const [req] = hook.requests;
  expect(req!.signatureValid).toBe(true);
  expect(req!.headers['idempotency-key']).toBe(KEY);
  expect(req!.headers['content-type']).toBe('application/json');
  const ts = String(req!.headers['x-codex-bridge-timestamp']);
  expect(req!.headers['x-codex-bridge-signature']).toBe(
    createHmac('sha256', SECRET).update(`${ts}.${req!.rawBody}`).digest('hex'),
  );
  expect(req!.body).toEqual({
    event: 'codex_bridge.notification',
    idempotency_key: KEY,
    kind: 'completion',
    message_key: 'fix-tests:turn-1:progress',
    task_id: 'fix-tests',
    turn: 1,
    status: 'completed',
    title: message.title,
    text: message.text,
    fields: message.fields,
    url: 'http://ui/namespaces/default/workflows/fix-tests',
  });
});

test('without a secret the request is unsigned', async () => {
  const open = await startFakeWebhook();
  try {
    await createWebhookNotifier()({ kind: 'webhook', url: open.url() }, message, KEY);
    expect(open.requests[0]!.headers['x-codex-bridge-signature']).toBeUndefined();
    expect(open.deliveries).toHaveLength(1);
  } finally {
    await open.stop();
  }
});

test('after two 500s the caller retrying with the same key delivers exactly once', async () => {
  hook.failNext(2, { kind: 'status', status: 500 });
  expect((await notifyFailure(notify(target(), message, KEY))).retryable).toBe(true);
  expect((await notifyFailure(notify(target(), message, KEY))).retryable).toBe(true);
  await notify(target(), message, KEY);
  expect(hook.countByPath()).toEqual({ '/hook': 1 });
  expect(new Set(hook.requests.map((r) => r.idempotencyKey))).toEqual(new Set([KEY]));
});

test('a lost answer: the retry carries the same key and the receiver reports the replay', async () => {
  hook.failNext(1, { kind: 'drop' });
  expect((await notifyFailure(notify(target(), message, KEY))).retryable).toBe(true);
  const retry = await notify(target(), message, KEY);
  expect(retry.duplicate).toBe(true);
  expect(hook.deliveries).toHaveLength(1);
});

test('a timeout is retryable', async () => {
  hook.failNext(1, { kind: 'slow', delayMs: 500 });
  const err = await notifyFailure(createWebhookNotifier({ secret: SECRET, timeoutMs: 150 })(target(), message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.message).toContain('no answer within 150 ms');
});

test.each([
  [429, '3', 3000],
  [503, undefined, null],
  [408, undefined, null],
])('HTTP %i is retryable (Retry-After %s → %s ms)', async (status, retryAfter, ms) => {
  hook.failNext(1, { kind: 'status', status, retryAfter });
  const err = await notifyFailure(notify(target(), message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.retryAfterMs).toBe(ms);
  expect(hook.requests).toHaveLength(1);
});

test('Retry-After as an HTTP date', () => {
  expect(parseRetryAfter('Wed, 01 Jan 2025 10:00:30 GMT', Date.parse('2025-01-01T10:00:00Z'))).toBe(30_000);
  expect(parseRetryAfter('soon')).toBeNull();
});

test.each([400, 404, 410, 422, 302])('HTTP %i is non-retryable', async (status) => {
  hook.failNext(1, { kind: 'status', status });
  const err = await notifyFailure(notify(target(), message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain(`HTTP ${status}`);
});

test('a signature the receiver rejects is non-retryable and names the secret variable', async () => {
  const err = await notifyFailure(createWebhookNotifier({ secret: 'wrong' })(target(), message, KEY));
  expect(hook.requests[0]!.signatureValid).toBe(false);
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('CODEX_BRIDGE_WEBHOOK_SECRET');
});

test('errors never show the URL query, which may carry a token', async () => {
  hook.failNext(1, { kind: 'status', status: 404 });
  const err = await notifyFailure(notify({ kind: 'webhook', url: `${hook.url('/hook')}?token=s3cr3t` }, message, KEY));
  expect(err.message).not.toContain('s3cr3t');
  expect(err.message).toContain(`${hook.url('/hook')}`);
});
