// Which targets get a progress message, and how often: Feishu and webhook targets (when their
// channel is on), not Hermes or local, not an opted-out target; a burst of events makes one
// request, and the next carries the newest progress. A fake webhook on loopback receives them.
import { createProgressMessenger } from '../../activities/progress-messages';
import { startFakeWebhook, type FakeWebhook } from '../support/fake-webhook';

let hook: FakeWebhook;
beforeAll(async () => {
  hook = await startFakeWebhook({ secret: 's' });
});
afterAll(async () => {
  await hook.stop();
});

test('channels that cannot edit, and opted-out targets, get no progress message', () => {
  const optedOut = `webhook:${'http://127.0.0.1:9/quiet'}`;
  const messenger = createProgressMessenger({ webhook: { secret: 's', timeoutMs: 1000 }, optOut: [optedOut] });
  expect(messenger('t', 1, 'local')).toBeNull();
  expect(messenger('t', 1, 'hermes:telegram:1')).toBeNull();
  expect(messenger('t', 1, 'feishu:oc_a')).toBeNull(); // the Feishu channel is off here
  expect(messenger('t', 1, optedOut)).toBeNull();
  expect(messenger('t', 1, null)).toBeNull();
  expect(messenger('t', 1, `webhook:${hook.url('/loud')}`)).not.toBeNull();
});

test('a burst of events is one request; the next carries the newest progress', async () => {
  const sink = createProgressMessenger({ webhook: { secret: 's', timeoutMs: 1000 }, minIntervalMs: 400 })(
    't',
    1,
    `webhook:${hook.url('/burst')}`,
  )!;
  for (let i = 1; i <= 5; i++)
    sink.push({ kind: 'item_completed', text: `$ step ${i} → exit 0`, item_type: 'commandExecution' });
  await new Promise((r) => setTimeout(r, 150));
  sink.push({ kind: 'item_completed', text: '$ step 6 → exit 0', item_type: 'commandExecution' });
  await new Promise((r) => setTimeout(r, 700));
  await sink.end();
  const bodies = hook.requests
    .filter((r) => r.path === '/burst')
    .map((r) => r.body as { seq: number; progress: { commands: string[] } });
  expect(bodies.map((b) => b.seq)).toEqual([5, 6]);
  expect(bodies[1]!.progress.commands.at(-1)).toBe('$ step 6 → exit 0');
});
