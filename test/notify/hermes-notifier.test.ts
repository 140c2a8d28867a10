import { createHermesNotifier, hermesRequestId } from '../../activities/notify/hermes-notifier';
import { buildNotificationMessage, renderPlainText } from '../../activities/notify/message';
import { startFakeHermesGateway, type FakeHermesGateway } from '../support/fake-hermes-gateway';
import { completionView } from './support/views';
import { notifyFailure } from './support/notify-failure';

const telegram = { kind: 'hermes', platform: 'telegram', chatId: '-100123', threadId: '42' } as const;
const slack = { kind: 'hermes', platform: 'slack', chatId: 'C0123', threadId: null } as const;
const message = buildNotificationMessage(completionView(), { uiUrl: 'http://ui' });
const KEY = 'fix-tests:turn-1:completion';

let gw: FakeHermesGateway;
beforeAll(async () => {
  gw = await startFakeHermesGateway({
    secret: 'route-secret',
    routes: { codex: {}, 'codex-slack': { deliver: 'slack' }, filtered: { events: ['something_else'] }, tiny: {} },
    maxBodyBytes: 64 * 1024,
  });
});
afterAll(() => gw.stop());
beforeEach(() => gw.reset());

function hermes(extra: Partial<Parameters<typeof createHermesNotifier>[0]> = {}) {
  return createHermesNotifier({ url: gw.routeUrl('codex'), secret: 'route-secret', timeoutMs: 2000, ...extra });
}

test('posts a signed body the gateway verifies and delivers to the chat and thread', async () => {
  const receipt = await hermes()(telegram, message, KEY);
  expect(receipt).toMatchObject({ channel: 'hermes', duplicate: false, messageId: hermesRequestId(KEY, 0) });

  const [req] = gw.requests;
  expect(req!.signatureValid).toBe(true);
  expect(req!.requestId).toBe(`${KEY}:g0`);
  expect(Math.abs(Number(req!.headers['x-webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
  expect(req!.body).toEqual({
    event_type: 'codex_bridge.completion',
    platform: 'telegram',
    chat_id: '-100123',
    thread_id: '42',
    message: renderPlainText(message),
    title: message.title,
    text: message.text,
    url: 'http://ui/namespaces/default/workflows/fix-tests',
    kind: 'completion',
    status: 'completed',
    task_id: 'fix-tests',
    turn: 1,
    idempotency_key: KEY,
  });
  expect(gw.countByChat()).toEqual({ 'telegram:-100123:42': 1 });
  expect(gw.deliveries[0]!.message).toBe(renderPlainText(message));
});

test('a platform with its own route uses it; no thread is sent as an empty thread_id', async () => {
  await hermes({ routes: { slack: gw.routeUrl('codex-slack') } })(slack, message, KEY);
  expect(gw.requests[0]!.route).toBe('codex-slack');
  expect((gw.requests[0]!.body as { thread_id: string }).thread_id).toBe('');
  expect(gw.countByChat()).toEqual({ 'slack:C0123': 1 });
});

test("`duplicate` is not a delivery: the id is burned, and the retry waits out the gateway's delivery bound first", async () => {
  const notify = hermes();
  await notify(telegram, message, KEY);
  // Sent again under the same id (e.g. by a worker that lost the first answer): the gateway has
  // seen it and cannot say what became of it.
  const err = await notifyFailure(hermes()(telegram, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.nextGeneration).toBe(1);
  expect(err.retryAfterMs).toBe(2000);
  expect(err.message).toMatch(/already seen request .*:g0 and cannot say whether it was delivered/);
  expect(gw.deliveries).toHaveLength(1);
});

describe('the 502 rule', () => {
  test('a 502 burns the request id: the retry uses the next generation and delivers exactly once', async () => {
    const notify = hermes();
    gw.failNext(1, { kind: 'deliver_failed' });
    const err = await notifyFailure(notify(telegram, message, KEY));
    expect(err.retryable).toBe(true);
    expect(err.nextGeneration).toBe(1);
    expect(gw.deliveries).toHaveLength(0);

    const receipt = await notify(telegram, message, KEY);
    expect(receipt.duplicate).toBe(false);
    expect(gw.requests.map((r) => [r.requestId, r.status])).toEqual([
      [`${KEY}:g0`, 502],
      [`${KEY}:g1`, 200],
    ]);
    expect(gw.countByChat()).toEqual({ 'telegram:-100123:42': 1 });
  });

  test('another worker retrying with the generation from the heartbeat delivers too', async () => {
    gw.failNext(1, { kind: 'deliver_failed' });
    const err = await notifyFailure(hermes()(telegram, message, KEY));
    await hermes()(telegram, message, KEY, { generation: err.nextGeneration! });
    expect(gw.deliveries).toHaveLength(1);
  });

  test('why it matters: a worker that lost the generation is answered duplicate, which is not taken as delivered', async () => {
    gw.failNext(1, { kind: 'deliver_failed' });
    await notifyFailure(hermes()(telegram, message, KEY));
    const fresh = await notifyFailure(hermes()(telegram, message, KEY)); // a worker that lost the generation
    expect(fresh.nextGeneration).toBe(1);
    expect(gw.deliveries).toHaveLength(0);
    await hermes()(telegram, message, KEY, { generation: fresh.nextGeneration! });
    expect(gw.deliveries).toHaveLength(1);
  });

  test('two 502s in a row advance the generation twice', async () => {
    const notify = hermes();
    gw.failNext(2, { kind: 'deliver_failed' });
    expect((await notifyFailure(notify(telegram, message, KEY))).nextGeneration).toBe(1);
    expect((await notifyFailure(notify(telegram, message, KEY))).nextGeneration).toBe(2);
    await notify(telegram, message, KEY);
    expect(gw.requests.map((r) => r.requestId)).toEqual([`${KEY}:g0`, `${KEY}:g1`, `${KEY}:g2`]);
    expect(gw.deliveries).toHaveLength(1);
  });
});

test('a dropped connection after the request was sent: delivery is unknown, so the retry uses a new id (a rare second message, never a lost one)', async () => {
  const notify = hermes();
  gw.failNext(1, { kind: 'drop' });
  const err = await notifyFailure(notify(telegram, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.nextGeneration).toBe(1);
  const retry = await notify(telegram, message, KEY);
  expect(retry.duplicate).toBe(false);
  expect(gw.requests.map((r) => r.requestId)).toEqual([`${KEY}:g0`, `${KEY}:g1`]);
  expect(gw.deliveries).toHaveLength(2);
});

test('a timeout burns the id as well: the gateway answers only after the platform, so silence proves nothing', async () => {
  const notify = hermes({ timeoutMs: 150 });
  gw.failNext(1, { kind: 'hang_then_fail', delayMs: 500 });
  const err = await notifyFailure(notify(telegram, message, KEY));
  expect(err.message).toContain('no answer within 150 ms');
  expect(err.nextGeneration).toBe(1);
  await notify(telegram, message, KEY);
  expect(gw.requests.map((r) => r.requestId)).toEqual([`${KEY}:g0`, `${KEY}:g1`]);
  expect(gw.deliveries).toHaveLength(1);
});

test('a gateway that cannot be reached keeps the id: the request never left', async () => {
  const closed = await startFakeHermesGateway();
  const url = closed.routeUrl('codex');
  await closed.stop(); // a port where nothing listens any more
  const down = createHermesNotifier({ url, secret: 'route-secret', timeoutMs: 2000 });
  const err = await notifyFailure(down(telegram, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.nextGeneration).toBeNull();
  expect(err.message).toMatch(/could not be reached \(ECONNREFUSED\)/);
});

test('after HERMES_WEBHOOK_MAX_SENDS request ids without a delivery the message is reported failed', async () => {
  const notify = hermes({ maxSends: 2 });
  gw.failNext(2, { kind: 'deliver_failed' });
  expect((await notifyFailure(notify(telegram, message, KEY))).retryable).toBe(true);
  const last = await notifyFailure(notify(telegram, message, KEY));
  expect(last.retryable).toBe(false);
  expect(last.message).toMatch(/did not confirm delivery to telegram chat -100123 in 2 tries \(last: .*HTTP 502\)/);
  expect(gw.deliveries).toHaveLength(0);
});

test('429 is retryable, one request per call', async () => {
  gw.failNext(1, { kind: 'status', status: 429 });
  const err = await notifyFailure(hermes()(telegram, message, KEY));
  expect(err.retryable).toBe(true);
  expect(gw.requests).toHaveLength(1);
});

test('a 500 before the id was recorded is retryable with the same id', async () => {
  const notify = hermes();
  gw.failNext(1, { kind: 'status', status: 500 });
  expect((await notifyFailure(notify(telegram, message, KEY))).retryable).toBe(true);
  await notify(telegram, message, KEY);
  expect(gw.requests.map((r) => r.requestId)).toEqual([`${KEY}:g0`, `${KEY}:g0`]);
  expect(gw.deliveries).toHaveLength(1);
});

test('a wrong secret: the gateway refuses the signature, non-retryable, naming HERMES_WEBHOOK_SECRET', async () => {
  const err = await notifyFailure(hermes({ secret: 'not-the-secret' })(telegram, message, KEY));
  expect(gw.requests[0]!.signatureValid).toBe(false);
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('HTTP 401');
  expect(err.message).toContain('HERMES_WEBHOOK_SECRET');
});

test('a clock more than 300 s off fails the signature check', async () => {
  const skewed = hermes({ now: () => new Date(Date.now() - 10 * 60_000) });
  const err = await notifyFailure(skewed(telegram, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('300 s');
});

test('an unknown route (404) is non-retryable with advice', async () => {
  const err = await notifyFailure(hermes({ url: gw.routeUrl('nope') })(telegram, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('HTTP 404');
  expect(err.message).toContain('HERMES_WEBHOOK_URL');
});

test('a body over the route cap (413) is non-retryable', async () => {
  const huge = { ...message, text: 'z'.repeat(70 * 1024) };
  const err = await notifyFailure(hermes({ url: gw.routeUrl('tiny') })(telegram, huge, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('HTTP 413');
});

test('a route whose events filter ignores us is non-retryable with advice', async () => {
  const err = await notifyFailure(hermes({ url: gw.routeUrl('filtered') })(telegram, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('codex_bridge.completion');
});

test('missing settings fail before any request, naming the variable', async () => {
  const noRoute = await notifyFailure(createHermesNotifier({ secret: 's' })(telegram, message, KEY));
  expect(noRoute.retryable).toBe(false);
  expect(noRoute.message).toContain('HERMES_WEBHOOK_URL');
  const noSecret = await notifyFailure(createHermesNotifier({ url: gw.routeUrl() })(telegram, message, KEY));
  expect(noSecret.retryable).toBe(false);
  expect(noSecret.message).toMatch(/^HERMES_WEBHOOK_SECRET is missing/);
  expect(gw.requests).toHaveLength(0);
});
