// The bridge's Hermes notifier against the REAL Hermes gateway (hermes-agent 0.19.0 from PyPI):
// the deliver-only Telegram route exactly as integrations/hermes/README.md configures it, the
// gateway's own Telegram adapter, and a fake Telegram Bot API on 127.0.0.1 behind it
// (test/support/real-hermes-gateway.ts). No Temporal or store needed.
import { createHermesNotifier } from '../../activities/notify/hermes-notifier';
import { buildNotificationMessage, renderPlainText } from '../../activities/notify/message';
import { NotifyError } from '../../activities/notify/notifier';
import type { NotifyTarget } from '../../src/contract/notify-target';
import { completionView } from '../notify/support/views';
import { CHAT_NOT_FOUND, telegramPlainText } from '../support/fake-telegram';
import { startRealHermesGateway, TELEGRAM_ROUTE, type RealHermesGateway } from '../support/real-hermes-gateway';

const chat = (chatId: string, threadId: string | null = null): Extract<NotifyTarget, { kind: 'hermes' }> => ({
  kind: 'hermes',
  platform: 'telegram',
  chatId,
  threadId,
});
const message = buildNotificationMessage(completionView(), { uiUrl: 'http://127.0.0.1:8233' });

let gw: RealHermesGateway;
beforeAll(async () => {
  gw = await startRealHermesGateway();
});
afterAll(() => gw?.stop());
afterEach(() => gw.telegram.behave({ kind: 'ok' }));

function notifier(timeoutMs = 10_000) {
  return createHermesNotifier({ url: gw.routeUrl, secret: gw.secret, timeoutMs });
}

test("the gateway runs the README's route, and every key in it is one the webhook adapter reads", () => {
  const webhook = (
    gw.config.platforms as Record<string, { extra: { routes: Record<string, Record<string, unknown>> } }>
  ).webhook!;
  const route = webhook.extra.routes[TELEGRAM_ROUTE]!;
  expect(route).toEqual({
    deliver: 'telegram',
    deliver_only: true,
    prompt: '{message}',
    deliver_extra: { chat_id: '{chat_id}', thread_id: '{thread_id}' },
  });
  // The route keys gateway/platforms/webhook.py (0.19.0) reads; anything else would be a promise
  // the gateway does not keep (as `mirror_to_session` was).
  const readByAdapter = [
    'deliver',
    'deliver_extra',
    'deliver_only',
    'enabled',
    'events',
    'filters',
    'prompt',
    'script',
    'secret',
    'skills',
  ];
  expect(Object.keys(route).filter((key) => !readByAdapter.includes(key))).toEqual([]);
});

test('a completion arrives once in the chat and topic, with the text the bridge rendered', async () => {
  const receipt = await notifier()(chat('-100777', '42'), message, 'normal:turn-1:completion');
  expect(receipt).toMatchObject({ channel: 'hermes', duplicate: false });

  expect(gw.telegram.countByChat()).toEqual({ '-100777:42': 1 });
  const [sent] = gw.telegram.delivered('-100777');
  expect(sent!.method).toBe('sendMessage');
  expect(telegramPlainText(sent!.text)).toBe(renderPlainText(message));
  // The gateway logs the delivery under the bridge's request id.
  await gw.waitForLog(
    /direct-deliver event=codex_bridge\.completion route=codex-bridge-telegram target=telegram .*delivery=normal:turn-1:completion:g0/,
  );
});

test('the same request id again is answered `duplicate`, posts nothing more, and is not taken as delivered', async () => {
  await notifier()(chat('-100778'), message, 'again:turn-1:completion');
  // A second sender with the same id (a worker that lost the first answer): seen, outcome unknown.
  const second = await notifier()(chat('-100778'), message, 'again:turn-1:completion').catch((e: unknown) => e);
  expect(second).toBeInstanceOf(NotifyError);
  expect(second).toMatchObject({ retryable: true, nextGeneration: 1 });
  expect(gw.telegram.countByChat()['-100778']).toBe(1);
});

test('by default the message arrives silently (disable_notification), the adapter\'s "important" mode', async () => {
  await notifier()(chat('-100779'), message, 'silent:turn-1:completion');
  const [sent] = gw.telegram.delivered('-100779');
  expect(sent!.disableNotification).toBe(true);
});

test('the platform refuses (400 chat not found): the gateway answers 502, nothing reaches the chat', async () => {
  gw.telegram.behave(CHAT_NOT_FOUND, 1);
  const failure = await notifier()(chat('-100404'), message, 'refused:turn-1:completion').catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(NotifyError);
  expect(String((failure as Error).message)).toMatch(/HTTP 502/);
  expect(gw.telegram.delivered('-100404')).toEqual([]);
  expect(gw.telegram.messages.filter((m) => m.chatId === '-100404').map((m) => m.outcome)).toEqual([
    { ok: false, status: 400, description: 'Bad Request: chat not found' },
  ]);
  await gw.waitForLog(/direct-deliver target rejected route=codex-bridge-telegram target=telegram/);
});

test('a dropped connection at the platform: the adapter retries by itself, the chat gets one message', async () => {
  gw.telegram.behave({ kind: 'refuse' }, 1);
  const receipt = await notifier()(chat('-100556'), message, 'dropped:turn-1:completion');
  expect(receipt.duplicate).toBe(false);
  expect(gw.telegram.messages.filter((m) => m.chatId === '-100556').map((m) => m.outcome.ok)).toEqual([false, true]);
  expect(gw.telegram.countByChat()['-100556']).toBe(1);
});

// A platform slower than before but inside the notifier's timeout (which must exceed the gateway's
// own delivery bound): the gateway's answer arrives, `delivered`, one message.
test('a slow but successful platform inside the timeout: one request, one message, delivered', async () => {
  gw.telegram.behave({ kind: 'slow', delayMs: 3000 }, 1);
  const receipt = await notifier(6000)(chat('-100555'), message, 'slow:turn-1:completion');
  expect(receipt.duplicate).toBe(false);
  expect(gw.telegram.countByChat()['-100555']).toBe(1);
});

// The trade-off when the timeout is set below the platform's time: the first answer is lost, so
// the retry goes under a new request id, and the chat gets the message twice — never zero times.
test('a timeout shorter than the platform: a second message under a new request id, never a lost one', async () => {
  gw.telegram.behave({ kind: 'slow', delayMs: 3000 }, 1);
  const notify = notifier(1500);
  const first = await notify(chat('-100554'), message, 'short:turn-1:completion').catch((e: unknown) => e);
  expect(first).toMatchObject({ retryable: true, nextGeneration: 1 });
  await gw.telegram.waitForDelivered(1, '-100554', 10_000);
  const retry = await notify(chat('-100554'), message, 'short:turn-1:completion');
  expect(retry.duplicate).toBe(false);
  expect(gw.telegram.countByChat()['-100554']).toBe(2);
  await gw.waitForLog(/delivery=short:turn-1:completion:g1/);
});

describe('making completion messages notify', () => {
  test("HERMES_TELEGRAM_NOTIFICATIONS=all in the gateway's .env: sent without disable_notification", async () => {
    const loud = await startRealHermesGateway({ dotenv: { HERMES_TELEGRAM_NOTIFICATIONS: 'all' } });
    try {
      await createHermesNotifier({ url: loud.routeUrl, secret: loud.secret })(
        chat('-100780'),
        message,
        'loud:turn-1:completion',
      );
      const [sent] = loud.telegram.delivered('-100780');
      expect(sent!.disableNotification).toBe(false);
      expect(sent!.params).not.toHaveProperty('disable_notification');
    } finally {
      await loud.stop();
    }
  });

  // The adapter's comment names display.platforms.telegram.notifications in config.yaml, but
  // 0.19.0 reads it from the gateway config object rather than the YAML mapping, so the key has
  // no effect: the README tells users the .env setting above instead.
  test('display.platforms.telegram.notifications: all in config.yaml is not honoured by 0.19.0', async () => {
    const configured = await startRealHermesGateway({
      extraConfig: { display: { platforms: { telegram: { notifications: 'all' } } } },
    });
    try {
      await createHermesNotifier({ url: configured.routeUrl, secret: configured.secret })(
        chat('-100781'),
        message,
        'yaml:turn-1:completion',
      );
      const [sent] = configured.telegram.delivered('-100781');
      expect(sent!.disableNotification).toBe(true);
    } finally {
      await configured.stop();
    }
  });
});
