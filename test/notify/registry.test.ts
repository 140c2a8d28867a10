import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildNotificationMessage } from '../../activities/notify/message';
import { createNotifier } from '../../activities/notify/registry';
import { loadConfig } from '../../src/config';
import { startFakeFeishu, type FakeFeishu } from '../support/fake-feishu';
import { startFakeHermesGateway, type FakeHermesGateway } from '../support/fake-hermes-gateway';
import { startFakeWebhook, type FakeWebhook } from '../support/fake-webhook';
import { completionView } from './support/views';
import { notifyFailure } from './support/notify-failure';

const message = buildNotificationMessage(completionView());
let feishu: FakeFeishu;
let gateway: FakeHermesGateway;
let hook: FakeWebhook;
let dir: string;

beforeAll(async () => {
  [feishu, gateway, hook] = await Promise.all([
    startFakeFeishu(),
    startFakeHermesGateway({ secret: 'hs' }),
    startFakeWebhook({ secret: 'ws' }),
  ]);
  dir = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'registry-'));
});
afterAll(async () => {
  await Promise.all([feishu.stop(), gateway.stop(), hook.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('dispatches each target kind to its channel, built once and reused', async () => {
  const config = loadConfig({
    CODEX_BRIDGE_LOCAL_INBOX: path.join(dir, 'inbox.jsonl'),
    FEISHU_APP_ID: feishu.appId,
    FEISHU_APP_SECRET: feishu.appSecret,
    FEISHU_BASE_URL: feishu.baseUrl,
    HERMES_WEBHOOK_URL: gateway.routeUrl(),
    HERMES_WEBHOOK_SECRET: 'hs',
    CODEX_BRIDGE_WEBHOOK_SECRET: 'ws',
    // Two keys, two messages: without progress cards a completion is its own message.
    CODEX_BRIDGE_PROGRESS: 'none',
  });
  const notify = createNotifier(config, { log: () => {} });

  expect((await notify({ kind: 'local' }, message, 'k1')).channel).toBe('local');
  expect((await notify({ kind: 'feishu', chatId: 'oc_a' }, message, 'k1')).channel).toBe('feishu');
  expect((await notify({ kind: 'feishu', chatId: 'oc_a' }, message, 'k2')).channel).toBe('feishu');
  expect(
    (await notify({ kind: 'hermes', platform: 'telegram', chatId: '1', threadId: null }, message, 'k1')).channel,
  ).toBe('hermes');
  expect((await notify({ kind: 'webhook', url: hook.url() }, message, 'k1')).channel).toBe('webhook');

  expect(fs.readFileSync(config.notifiers.localInbox, 'utf8').trim().split('\n')).toHaveLength(1);
  expect(feishu.countByChat()).toEqual({ oc_a: 2 });
  expect(feishu.tokenRequests()).toHaveLength(1); // one client, one cached token
  expect(gateway.countByChat()).toEqual({ 'telegram:1': 1 });
  expect(hook.requests[0]!.signatureValid).toBe(true);
});

test('a channel without its settings fails non-retryably, naming the variable; the others still work', async () => {
  const notify = createNotifier(loadConfig({ CODEX_BRIDGE_LOCAL_INBOX: path.join(dir, 'other.jsonl') }), {
    log: () => {},
  });
  const feishuErr = await notifyFailure(notify({ kind: 'feishu', chatId: 'oc_a' }, message, 'k'));
  expect(feishuErr.retryable).toBe(false);
  expect(feishuErr.message).toContain('FEISHU_APP_ID');
  const hermesErr = await notifyFailure(
    notify({ kind: 'hermes', platform: 'slack', chatId: 'C1', threadId: null }, message, 'k'),
  );
  expect(hermesErr.retryable).toBe(false);
  expect(hermesErr.message).toContain('HERMES_WEBHOOK_URL');
  expect((await notify({ kind: 'local' }, message, 'k')).duplicate).toBe(false);
});
