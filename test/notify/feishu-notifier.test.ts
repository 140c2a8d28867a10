// The real Lark SDK client talks HTTP to a fake Feishu; each retry is the caller (Temporal) calling
// again with the same idempotency key.
import { createFeishuNotifier } from '../../activities/notify/feishu-notifier';
import { feishuUuid } from '../../activities/notify/feishu-message';
import { buildNotificationMessage } from '../../activities/notify/message';
import type { Notifier } from '../../activities/notify/notifier';
import { freePort } from '../../src/infra/free-port';
import { startFakeFeishu, type FakeFeishu } from '../support/fake-feishu';
import { completionView, requestView } from './support/views';
import { notifyFailure } from './support/notify-failure';

const chat = { kind: 'feishu', chatId: 'oc_team' } as const;
const message = buildNotificationMessage(completionView(), { uiUrl: 'http://ui' });
const KEY = 'fix-tests:turn-1:completion';

let fake: FakeFeishu;
let notify: Notifier;
beforeAll(async () => {
  fake = await startFakeFeishu();
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.reset();
  notify = createFeishuNotifier({
    appId: fake.appId,
    appSecret: fake.appSecret,
    baseUrl: fake.baseUrl,
    timeoutMs: 2000,
  });
});

test('posts an interactive card to the chat, authenticated with a tenant token', async () => {
  const receipt = await notify(chat, message, KEY);
  expect(receipt).toMatchObject({ channel: 'feishu', duplicate: false, messageId: fake.messages[0]!.messageId });

  const [sent] = fake.sendRequests();
  expect(sent!.query).toEqual({ receive_id_type: 'chat_id' });
  expect(sent!.headers.authorization).toBe(`Bearer ${fake.tokensIssued[0]}`);
  expect(sent!.body).toMatchObject({ receive_id: 'oc_team', msg_type: 'interactive', uuid: feishuUuid(KEY) });

  const card = fake.messagesTo('oc_team')[0]!.content as {
    header: { template: string; title: { content: string } };
    elements: unknown[];
  };
  expect(card.header).toEqual({
    template: 'green',
    title: { tag: 'plain_text', content: '✅ Codex task fix-tests completed' },
  });
  const json = JSON.stringify(card.elements);
  expect(json).toContain('Duration: 3m 12s');
  expect(json).toContain('All 42 tests pass now.');
  expect(json).toContain('"url":"http://ui/namespaces/default/workflows/fix-tests"');
});

test('a failed task gets a red header; a request a yellow one, with answer buttons; no link button without a UI link', async () => {
  await notify(chat, buildNotificationMessage(completionView({ status: 'failed' })), 'k-failed');
  await notify(chat, buildNotificationMessage(requestView()), 'k-request');
  type Card = {
    header: { template: string };
    elements: { tag: string; actions?: { url?: string; value?: { decision?: string } }[] }[];
  };
  const [failed, request] = fake.messagesTo('oc_team').map((m) => m.content as Card);
  expect(failed!.header.template).toBe('red');
  expect(request!.header.template).toBe('yellow');
  const buttons = request!.elements.filter((e) => e.tag === 'action').flatMap((e) => e.actions ?? []);
  expect(buttons.map((b) => b.value?.decision)).toEqual(['accept', 'accept_for_session', 'decline', 'cancel']);
  expect(buttons.some((b) => b.url !== undefined)).toBe(false);
  expect(failed!.elements.some((e) => e.tag === 'action')).toBe(false);
});

test('the uuid is derived from the key: at most 50 characters, the same on every try, different per key', () => {
  expect(feishuUuid(KEY)).toBe(feishuUuid(KEY));
  expect(feishuUuid(KEY).length).toBeLessThanOrEqual(50);
  expect(feishuUuid(`${KEY}x`)).not.toBe(feishuUuid(KEY));
});

test('after two 500s, the caller retrying with the same key posts exactly one message', async () => {
  fake.failNext(2, { kind: 'http', status: 500 });
  for (let attempt = 1; attempt <= 2; attempt++) {
    const err = await notifyFailure(notify(chat, message, KEY));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('HTTP 500');
  }
  await notify(chat, message, KEY);
  await notify(chat, message, KEY); // a retry after a lost answer: Feishu drops the same uuid
  expect(fake.countByChat()).toEqual({ oc_team: 1 });
  expect(new Set(fake.sendRequests().map((r) => (r.body as { uuid: string }).uuid))).toEqual(
    new Set([feishuUuid(KEY)]),
  );
});

test('a timeout is retryable and the retry does not post twice', async () => {
  const quick = createFeishuNotifier({
    appId: fake.appId,
    appSecret: fake.appSecret,
    baseUrl: fake.baseUrl,
    timeoutMs: 200,
  });
  fake.failNext(1, { kind: 'slow', delayMs: 600 });
  const err = await notifyFailure(quick(chat, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.message).toContain('no answer within 200 ms');
  await quick(chat, message, KEY);
  expect(fake.countByChat()).toEqual({ oc_team: 1 });
});

test('bot not in chat is non-retryable and says what to fix', async () => {
  fake.removeBotFrom('oc_x');
  const err = await notifyFailure(notify({ kind: 'feishu', chatId: 'oc_x' }, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toBe('The Feishu bot is not in chat oc_x: add the bot to the chat (code 230002).');
});

test.each([230001, 230006, 230027, 230099])('business code %i is non-retryable with advice', async (code) => {
  fake.failNext(1, { kind: 'business', code });
  const err = await notifyFailure(notify(chat, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain(`code ${code}`);
});

test('rate limit: 429 with x-ogw-ratelimit-reset is retryable after the reset, with one request per call', async () => {
  fake.failNext(1, { kind: 'rate_limit', resetSeconds: 7 });
  const err = await notifyFailure(notify(chat, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.retryAfterMs).toBe(7000);
  expect(fake.sendRequests()).toHaveLength(1); // nothing hammers: the caller waits for the reset
  expect(fake.messages).toHaveLength(0);
});

test('230020 (chat rate limit) is retryable', async () => {
  fake.failNext(1, { kind: 'business', code: 230020 });
  const err = await notifyFailure(notify(chat, message, KEY));
  expect(err.retryable).toBe(true);
  expect(fake.sendRequests()).toHaveLength(1);
});

test('an invalid token (99991663) is refreshed and the send retried once, in-process', async () => {
  await notify(chat, message, 'first');
  expect(fake.tokenRequests()).toHaveLength(1);
  fake.failNext(1, { kind: 'token_invalid' }); // revokes the cached token
  await notify(chat, message, KEY);
  expect(fake.tokenRequests()).toHaveLength(2);
  const sends = fake.sendRequests();
  expect(sends).toHaveLength(3);
  expect(sends[2]!.headers.authorization).toBe(`Bearer ${fake.tokensIssued[1]}`);
  expect(fake.countByChat()).toEqual({ oc_team: 2 });
});

test('a token rejected again after the refresh is retryable, with no third try in-process', async () => {
  fake.failNext(2, { kind: 'token_invalid' });
  const err = await notifyFailure(notify(chat, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.message).toContain('99991663');
  expect(fake.sendRequests()).toHaveLength(2);
});

test('wrong app credentials are non-retryable and name the variable', async () => {
  const wrong = createFeishuNotifier({ appId: fake.appId, appSecret: 'nope', baseUrl: fake.baseUrl });
  const err = await notifyFailure(wrong(chat, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('FEISHU_APP_SECRET');
  expect(fake.sendRequests()).toHaveLength(0);
});

test('missing credentials fail before any request, naming the variable', async () => {
  const none = createFeishuNotifier({ appId: undefined, appSecret: undefined, baseUrl: fake.baseUrl });
  const err = await notifyFailure(none(chat, message, KEY));
  expect(err.retryable).toBe(false);
  expect(err.message).toMatch(/^FEISHU_APP_ID is missing/);
  expect(fake.requests).toHaveLength(0);
});

test('an unreachable Feishu is retryable', async () => {
  const gone = createFeishuNotifier({ appId: 'a', appSecret: 'b', baseUrl: `http://127.0.0.1:${await freePort()}` });
  const err = await notifyFailure(gone(chat, message, KEY));
  expect(err.retryable).toBe(true);
  expect(err.message).toMatch(/^The request to Feishu failed \(ECONNREFUSED\); will retry\.$/);
});

test('secrets never reach Feishu', async () => {
  await notify(
    chat,
    buildNotificationMessage(completionView({ prompt: 'deploy with ghp_abcdefghijklmnopqrstuvwxyz0123456789' })),
    KEY,
  );
  expect(JSON.stringify(fake.sendRequests()[0]!.body)).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
});
