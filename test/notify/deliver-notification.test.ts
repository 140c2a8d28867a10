import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import {
  createDeliverNotificationActivity,
  type DeliverNotificationResult,
} from '../../activities/notify/deliver-notification';
import { createLocalNotifier, readInboxLines } from '../../activities/notify/local-notifier';
import { NotifyError, type DeliveryOptions, type Notifier } from '../../activities/notify/notifier';
import { completionView } from './support/views';

const KEY = 'fix-tests:turn-1:completion';
/** Expected failures are the point of these tests: keep the SDK's failure warnings out of the output. */
const quiet = (info: Partial<Info> = {}) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
const receipt = {
  channel: 'local' as const,
  deliveredAt: '2025-01-01T00:00:00.000Z',
  messageId: null,
  duplicate: false,
};

test('parses the target, builds the message, delivers, and returns what was sent', async () => {
  const dir = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'deliver-'));
  try {
    const inbox = path.join(dir, 'inbox.jsonl');
    const deliver = createDeliverNotificationActivity({
      notifier: createLocalNotifier({ inboxPath: inbox, log: () => {} }),
      uiUrl: 'http://ui',
      namespace: 'ns',
    });
    const result = (await quiet({ attempt: 3 }).run(deliver, {
      target: 'local',
      idempotencyKey: KEY,
      view: completionView(),
    })) as DeliverNotificationResult;
    expect(result).toMatchObject({ channel: 'local', duplicate: false, attempt: 3 });
    expect(result.text).toMatch(/^✅ Codex task fix-tests completed\n\nPrompt: Fix the failing tests/);
    expect(result.text).toMatch(/Open in Temporal Web UI: http:\/\/ui\/namespaces\/ns\/workflows\/fix-tests$/);
    expect((await readInboxLines(inbox)).map((l) => l.idempotency_key)).toEqual([KEY]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a malformed target is a non-retryable NotificationRejected', async () => {
  const deliver = createDeliverNotificationActivity({ notifier: async () => receipt });
  const err = await quiet()
    .run(deliver, { target: 'pager:123', idempotencyKey: KEY, view: completionView() })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('NotificationRejected');
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
});

test('a burned generation is recorded in the heartbeat before the failure', async () => {
  const deliver = createDeliverNotificationActivity({
    notifier: async () => {
      throw new NotifyError('502', true, null, 1);
    },
  });
  const env = quiet({ attempt: 1 });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const err = await env
    .run(deliver, { target: 'hermes:telegram:1', idempotencyKey: KEY, view: completionView() })
    .catch((e: unknown) => e);
  expect((err as ApplicationFailure).type).toBe('NotificationDeferred');
  expect(beats).toEqual([{ deliveryGeneration: 1 }]);
});

test('the next attempt reads the generation from the heartbeat details; plain failures do not heartbeat', async () => {
  const seen: (DeliveryOptions | undefined)[] = [];
  const notifier: Notifier = async (_t, _m, _k, options) => {
    seen.push(options);
    throw new NotifyError('network', true);
  };
  const env = quiet({ attempt: 2, heartbeatDetails: { deliveryGeneration: 3 } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  await env
    .run(createDeliverNotificationActivity({ notifier }), {
      target: 'local',
      idempotencyKey: KEY,
      view: completionView(),
    })
    .catch(() => {});
  expect(seen).toEqual([{ generation: 3 }]);
  expect(beats).toEqual([]);
});

test('works as a plain function outside an activity (generation 0, attempt 1)', async () => {
  const seen: (DeliveryOptions | undefined)[] = [];
  const deliver = createDeliverNotificationActivity({
    notifier: async (_t, _m, _k, options) => {
      seen.push(options);
      return receipt;
    },
  });
  expect((await deliver({ target: 'local', idempotencyKey: KEY, view: completionView() })).attempt).toBe(1);
  expect(seen).toEqual([{ generation: 0 }]);
});

test('the observer hears of deliveries and failures, final only for non-retryable ones', async () => {
  const events: string[] = [];
  const observer = {
    delivered: () => void events.push('delivered'),
    failed: (_i: unknown, e: Error, final: boolean) => void events.push(`failed:${e.message}:${final}`),
  };
  const outcomes = [receipt, new NotifyError('later', true), new NotifyError('never', false)];
  const deliver = createDeliverNotificationActivity({
    observer,
    notifier: async () => {
      const next = outcomes.shift()!;
      if (next instanceof Error) throw next;
      return next;
    },
  });
  const input = { target: 'local', idempotencyKey: KEY, view: completionView() };
  for (let i = 0; i < 3; i++) await deliver(input).catch(() => {});
  expect(events).toEqual(['delivered', 'failed:later:false', 'failed:never:true']);
});
