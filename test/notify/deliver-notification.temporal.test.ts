// The delivery activity under a real Temporal server and worker: what only Temporal can prove —
// the Hermes generation survives to the next attempt through heartbeat details (each attempt gets
// a brand-new notifier, as if on another worker), a rate-limit reset becomes the retry delay, and
// NotificationRejected stops the retries.
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  createDeliverNotificationActivity,
  type DeliverNotificationInput,
} from '../../activities/notify/deliver-notification';
import { createHermesNotifier } from '../../activities/notify/hermes-notifier';
import type { Notifier } from '../../activities/notify/notifier';
import { createWebhookNotifier } from '../../activities/notify/webhook-notifier';
import { startFakeHermesGateway, type FakeHermesGateway } from '../support/fake-hermes-gateway';
import { startFakeWebhook, type FakeWebhook } from '../support/fake-webhook';
import { requireEnv } from '../support/test-env';
import { deliveryWorkflow } from './support/delivery-workflow';
import { completionView } from './support/views';

const taskQueue = `notify-${randomUUID().slice(0, 8)}`;
let gateway: FakeHermesGateway;
let hook: FakeWebhook;
let client: Client;
let connection: Connection;
let worker: Worker;
let running: Promise<void>;

/** A new notifier for every attempt: nothing carries over in memory between attempts. */
const perAttempt =
  (make: () => Notifier): Notifier =>
  (target, message, key, options) =>
    make()(target, message, key, options);

beforeAll(async () => {
  [gateway, hook] = await Promise.all([startFakeHermesGateway({ secret: 'hs' }), startFakeWebhook()]);
  const address = requireEnv('TEMPORAL_ADDRESS');
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  const hermes = perAttempt(() => createHermesNotifier({ url: gateway.routeUrl(), secret: 'hs', timeoutMs: 2000 }));
  const webhook = perAttempt(() => createWebhookNotifier({ timeoutMs: 2000 }));
  const notifier: Notifier = (target, ...rest) =>
    target.kind === 'hermes' ? hermes(target, ...rest) : webhook(target, ...rest);
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowsPath: require.resolve('./support/delivery-workflow'),
    activities: { deliverNotification: createDeliverNotificationActivity({ notifier }) },
  });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await Promise.all([gateway?.stop(), hook?.stop()]);
});
beforeEach(() => {
  gateway.reset();
  hook.reset();
});

function deliver(input: Omit<DeliverNotificationInput, 'view'>) {
  return client.workflow.execute(deliveryWorkflow, {
    taskQueue,
    workflowId: `deliver-${randomUUID()}`,
    args: [{ ...input, view: completionView() }],
  });
}

test('Hermes 502 on attempt 1: attempt 2 (fresh notifier) uses the next request id from the heartbeat and delivers once', async () => {
  gateway.failNext(1, { kind: 'deliver_failed' });
  const key = `t-${randomUUID()}:turn-1:completion`;
  const result = await deliver({ target: 'hermes:telegram:-100', idempotencyKey: key });
  expect(result).toMatchObject({ channel: 'hermes', attempt: 2, duplicate: false });
  expect(gateway.requests.map((r) => [r.requestId, r.status])).toEqual([
    [`${key}:g0`, 502],
    [`${key}:g1`, 200],
  ]);
  expect(gateway.countByChat()).toEqual({ 'telegram:-100': 1 });
});

test('Hermes answer lost on attempt 1: attempt 2, on a fresh notifier, moves to the next request id from the heartbeat', async () => {
  gateway.failNext(1, { kind: 'drop' });
  const key = `t-${randomUUID()}:turn-1:completion`;
  const result = await deliver({ target: 'hermes:telegram:-100', idempotencyKey: key });
  expect(result).toMatchObject({ attempt: 2, duplicate: false });
  expect(gateway.requests.map((r) => r.requestId)).toEqual([`${key}:g0`, `${key}:g1`]);
  // Delivery of the first was unknown to the bridge: a second message rather than none.
  expect(gateway.deliveries).toHaveLength(2);
});

test('a rate-limit reset becomes the delay before the next attempt', async () => {
  hook.failNext(1, { kind: 'status', status: 429, retryAfter: '1' });
  const result = await deliver({ target: `webhook:${hook.url()}`, idempotencyKey: `t-${randomUUID()}` });
  expect(result.attempt).toBe(2);
  const [first, second] = hook.requests;
  // The retry policy alone would retry after 50 ms; Retry-After: 1 asked for a second.
  expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(900);
  expect(hook.deliveries).toHaveLength(1);
});

test('NotificationRejected stops after one attempt, with the advice as the failure message', async () => {
  hook.failNext(1, { kind: 'status', status: 404 });
  const err = await deliver({ target: `webhook:${hook.url('/gone')}`, idempotencyKey: `t-${randomUUID()}` }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (err as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  const cause = (activityFailure as ActivityFailure).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('NotificationRejected');
  expect(cause.message).toContain('does not exist (HTTP 404)');
  expect(hook.requests).toHaveLength(1);
});
