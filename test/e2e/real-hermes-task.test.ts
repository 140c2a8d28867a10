// Whole tasks notified through the REAL Hermes gateway (hermes-agent 0.19.0, the README's
// deliver-only Telegram route, a fake Telegram Bot API behind it): the real workflow, worker,
// delivery activity and Hermes notifier with their default timeouts.
//   - A platform that answers after 15 s with "chat not found" (longer than the bridge's old 10 s
//     timeout): the task's notification ends `failed`, never `sent`, and nothing reached the chat.
//   - The same platform, slow but successful: one message, `sent`.
//   - Temporal's own cancellation of a task waiting for a person: cancelled, mirrored, one
//     cancellation message in the chat, the workflow closed as Canceled.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEMPORAL_CLI } from '../../src/infra/tool-paths';
import { getTaskQuery } from '../../src/contract/messages';
import { CHAT_NOT_FOUND, telegramPlainText } from '../support/fake-telegram';
import { startRealHermesGateway, type RealHermesGateway } from '../support/real-hermes-gateway';
import { createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

const PLATFORM_DELAY_MS = 15_000;

let gw: RealHermesGateway;
let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  gw = await startRealHermesGateway();
  // Two sends at most, so the failing case ends after two slow refusals instead of five.
  h = await createE2eHarness({
    env: { HERMES_WEBHOOK_URL: gw.routeUrl, HERMES_WEBHOOK_SECRET: gw.secret, HERMES_WEBHOOK_MAX_SENDS: '2' },
  });
  worker = await h.startWorker();
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
  await gw?.stop();
}, 60_000);

afterEach(() => gw.telegram.behave({ kind: 'ok' }));

test('a platform that answers after 15 s with "chat not found": the notification ends failed, never sent', async () => {
  gw.telegram.behave({ kind: 'slow', delayMs: PLATFORM_DELAY_MS, then: CHAT_NOT_FOUND }, 10);
  const route = h.model.route('hermes-slow-fail', [
    { items: [{ type: 'message', text: 'Finished.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Do it ${route.tag}`,
    cwd: h.workdir('hermes-slow-fail'),
    notify_target: 'hermes:telegram:-100404',
  });

  const final = await h.result(task_id, 150_000);
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('failed');
  expect(final.notified_at).toBeNull();
  expect(final.notification_error).toMatch(/did not confirm delivery to telegram chat -100404 in 2 tries/);
  expect(await h.store.get(task_id)).toEqual(final);
  expect(gw.telegram.delivered('-100404')).toEqual([]);
  await gw.waitForLog(/direct-deliver target rejected/);
  // Each try waited for the gateway's answer (502) instead of timing out into a `duplicate`.
  expect(gw.log()).not.toMatch(new RegExp(`Skipping duplicate delivery ${task_id}`));
}, 180_000);

test('the same platform slow but successful: one message in the chat, sent', async () => {
  gw.telegram.behave({ kind: 'slow', delayMs: PLATFORM_DELAY_MS }, 1);
  const route = h.model.route('hermes-slow-ok', [
    { items: [{ type: 'message', text: 'Finished slowly.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Do it ${route.tag}`,
    cwd: h.workdir('hermes-slow-ok'),
    notify_target: 'hermes:telegram:-100200',
  });

  const final = await h.result(task_id, 150_000);
  expect(final.notification_status).toBe('sent');
  expect(final.notification_attempts).toBe(1);
  const delivered = gw.telegram.delivered('-100200');
  expect(delivered).toHaveLength(1);
  expect(telegramPlainText(delivered[0]!.text)).toContain('Finished slowly.');
}, 180_000);

test("Temporal's own cancellation of a task waiting for a person: cancelled, mirrored, told once in the chat, closed", async () => {
  const route = h.model.route('hermes-native-cancel', [
    { items: [{ type: 'exec_command', cmd: 'echo never > never.txt', callId: 'call_native_cancel' }] },
    { items: [{ type: 'message', text: 'should not get here', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Write never.txt ${route.tag}`,
    cwd: h.workdir('hermes-native-cancel'),
    notify_target: 'hermes:telegram:-100300',
    approval_policy: 'untrusted',
  });
  await h.waitFor(task_id, (d) => d.status === 'waiting_for_input' && d.pending_requests.length === 1, 60_000);
  await gw.telegram.waitForDelivered(1, '-100300', 30_000); // the approval request

  await promisify(execFile)(TEMPORAL_CLI, [
    'workflow',
    'cancel',
    '--address',
    h.config.temporal.address,
    '--namespace',
    h.config.temporal.namespace,
    '--workflow-id',
    task_id,
  ]);

  const handle = h.client.workflow.getHandle(task_id);
  const closed = await eventually(
    () => handle.describe(),
    (d) => d.status.name !== 'RUNNING',
    60_000,
    'the workflow to close',
  );
  expect(closed.status.name).toBe('CANCELLED');
  const final = await handle.query(getTaskQuery);
  expect(final).toMatchObject({ status: 'cancelled', pending_requests: [], notification_status: 'sent' });
  expect(await h.store.get(task_id)).toEqual(final);
  const messages = gw.telegram.delivered('-100300').map((m) => telegramPlainText(m.text));
  expect(messages).toHaveLength(2);
  expect(messages[1]).toMatch(/cancelled/);
  await eventually(
    () => h.codexProcesses(),
    (pids) => pids.length === 0,
    15_000,
    'no codex app-server left',
  );
}, 180_000);
