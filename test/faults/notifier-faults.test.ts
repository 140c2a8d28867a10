// The notifier endpoints misbehave while tasks finish. Feishu: HTTP 500s, HTTP 429 with an
// x-ogw-ratelimit-reset header, answers that hang past the notifier's 10 s timeout (the message was
// posted, the answer never came in time) and requests that hang and then fail (nothing posted).
// Every task must still be told exactly once: retries reuse the uuid, the announced reset is waited
// out, and a timed-out post is not repeated as a second message. The Hermes gateway: 500, 429, 502
// (which burns the request id: the retry needs the next generation's id), slow platforms the
// gateway waits for inside the bridge's timeout, and requests that hang past it and then fail
// (delivery unknown: the retry moves to the next id; `duplicate` is never taken as delivered).
import { feishuUuid } from '../../activities/notify/feishu-message';
import { completionKey } from '../../src/contract/idempotency';
import { describeReport, FaultEnv } from './support/fault-env';

const TASKS = 20;
const RESET_SECONDS = 3;

let env: FaultEnv;

beforeAll(async () => {
  env = await FaultEnv.start('notifier', { model: { delayMs: 200 }, env: { HERMES_WEBHOOK_TIMEOUT: '8s' } });
});

afterAll(async () => {
  await env?.close();
});

test('Feishu: 500s, 502s, 429s with a reset header and hanging answers: every chat is told exactly once', async () => {
  // Consumed by send requests in arrival order, whichever task they belong to.
  env.feishu.failNext(6, { kind: 'http', status: 500 });
  env.feishu.failNext(4, { kind: 'rate_limit', resetSeconds: RESET_SECONDS });
  env.feishu.failNext(3, { kind: 'slow', delayMs: 12_000 });
  env.feishu.failNext(2, { kind: 'http', status: 502 });
  env.feishu.failNext(2, { kind: 'hang_then_fail', delayMs: 12_000 });
  env.startWorker();
  const ids = await env.startTasks('notify', TASKS);

  await env.waitForTerminal(ids, 6 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(describeReport(report));

  const sends = env.feishu.sendRequests();
  const uuidOf = (r: (typeof sends)[number]) => (r.body as { uuid: string }).uuid;
  expect(sends.filter((r) => r.status === 500)).toHaveLength(6);
  expect(sends.filter((r) => r.status === 429)).toHaveLength(4);
  expect(sends.filter((r) => r.status === 502)).toHaveLength(2);
  expect(report.acceptedSends).toBe(TASKS);
  expect(report.messages).toBe(TASKS);

  // A hanging answer: the message was posted (or, for hang-then-fail, not), the notifier gave up
  // after its 10 s timeout, and the retry with the same uuid was absorbed or posted it once
  // (verifyNothingLost saw one message for that uuid).
  const hung = sends.filter((r) => r.status === null);
  expect(hung).toHaveLength(5);
  for (const r of hung) {
    const retry = sends.find((s) => s.receivedAt > r.receivedAt && uuidOf(s) === uuidOf(r));
    expect(retry).toBeDefined();
    expect(retry!.receivedAt - r.receivedAt).toBeGreaterThanOrEqual(10_000 - 100);
  }

  // After a 429 the same message is not sent again before the announced reset.
  for (const [index, r] of sends.entries()) {
    if (r.status !== 429) continue;
    const next = sends.slice(index + 1).find((s) => uuidOf(s) === uuidOf(r));
    expect(next).toBeDefined();
    expect(next!.receivedAt - r.receivedAt).toBeGreaterThanOrEqual(RESET_SECONDS * 1000 - 100);
  }

  // The tasks that met a failure record the extra attempts.
  const failedOnce = new Set(sends.filter((r) => r.status !== 200).map(uuidOf));
  for (const [id, { doc }] of report.outcomes) {
    const uuid = feishuUuid(completionKey(id, 1));
    if (failedOnce.has(uuid)) expect(doc.notification_attempts).toBeGreaterThan(1);
    else expect(doc.notification_attempts).toBe(1);
  }
});

test('Hermes gateway: 500s, 429s, 502s that burn the request id, and hanging answers: every chat is told exactly once', async () => {
  env.feishu.reset();
  env.hermes.reset();
  env.hermes.failNext(2, { kind: 'status', status: 500 });
  env.hermes.failNext(2, { kind: 'status', status: 429 });
  env.hermes.failNext(3, { kind: 'deliver_failed' });
  env.hermes.failNext(2, { kind: 'slow', delayMs: 5_000 });
  env.hermes.failNext(2, { kind: 'hang_then_fail', delayMs: 10_000 });
  if (env.workers.size === 0) env.startWorker();
  const ids = await env.startTasks('hermes', TASKS, 5, 'hermes');

  await env.waitForTerminal(ids, 6 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(describeReport(report));
  expect(report.messages).toBe(TASKS);

  const requests = env.hermes.requests;
  // After a 502 the gateway has burned the id: the retry must come with the next generation's id.
  const burned = requests.filter((r) => r.status === 502);
  expect(burned).toHaveLength(3);
  for (const r of burned) {
    const retry = requests.find(
      (s) =>
        s.receivedAt > r.receivedAt &&
        (s.body as { idempotency_key: string }).idempotency_key ===
          (r.body as { idempotency_key: string }).idempotency_key,
    );
    expect(retry?.requestId).toBe(r.requestId!.replace(/:g(\d+)$/, (_, g: string) => `:g${Number(g) + 1}`));
  }
  // A slow platform inside the bridge's 8 s timeout: answered `delivered`, no retry.
  const delivered = requests.filter(
    (r) => r.status === 200 && (r.answer as { status?: string }).status === 'delivered',
  );
  expect(delivered).toHaveLength(TASKS);
  // A request that hung past the timeout (and then failed): delivery unknown, so the retry comes
  // under the next generation's id and is delivered; nothing is ever answered `duplicate`.
  const hung = requests.filter((r) => r.status === null);
  expect(hung).toHaveLength(2);
  for (const r of hung) {
    const retry = requests.find(
      (s) =>
        s.receivedAt > r.receivedAt &&
        (s.body as { idempotency_key: string }).idempotency_key ===
          (r.body as { idempotency_key: string }).idempotency_key,
    );
    expect(retry?.requestId).toBe(r.requestId!.replace(/:g(\d+)$/, (_, g: string) => `:g${Number(g) + 1}`));
  }
  expect(requests.filter((r) => (r.answer as { status?: string } | null)?.status === 'duplicate')).toEqual([]);
});
