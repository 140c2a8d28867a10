import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalNotifier, readInboxLines } from '../../activities/notify/local-notifier';
import { buildNotificationMessage } from '../../activities/notify/message';
import { NotifyError, type NotificationMessage } from '../../activities/notify/notifier';
import { completionView } from './support/views';

const local = { kind: 'local' } as const;
const message: NotificationMessage = buildNotificationMessage(completionView(), { uiUrl: 'http://ui' });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'local-notifier-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function notifier(inboxPath: string, extra: Partial<Parameters<typeof createLocalNotifier>[0]> = {}) {
  const logged: string[] = [];
  const notify = createLocalNotifier({
    inboxPath,
    log: (l) => logged.push(l),
    now: () => new Date('2025-01-01T10:05:00Z'),
    ...extra,
  });
  return { notify, logged };
}

test('appends one JSON line with the message, creating the directories, and logs one line', async () => {
  const inbox = path.join(dir, 'deep', 'er', 'inbox.jsonl');
  const { notify, logged } = notifier(inbox);
  const receipt = await notify(local, message, 'fix-tests:turn-1:completion');
  expect(receipt).toEqual({
    channel: 'local',
    deliveredAt: '2025-01-01T10:05:00.000Z',
    messageId: 'fix-tests:turn-1:completion',
    duplicate: false,
  });
  expect(await readInboxLines(inbox)).toEqual([
    {
      idempotency_key: 'fix-tests:turn-1:completion',
      task_id: 'fix-tests',
      turn: 1,
      kind: 'completion',
      title: '✅ Codex task fix-tests completed',
      text: message.text,
      url: 'http://ui/namespaces/default/workflows/fix-tests',
      delivered_at: '2025-01-01T10:05:00.000Z',
    },
  ]);
  expect(logged).toEqual([`codex-bridge: ✅ Codex task fix-tests completed → ${inbox}`]);
});

test('the same key twice writes once; the second call reports a duplicate', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  const { notify, logged } = notifier(inbox);
  await notify(local, message, 'k1');
  const again = await notify(local, message, 'k1');
  await notify(local, message, 'k2');
  expect(again.duplicate).toBe(true);
  expect((await readInboxLines(inbox)).map((l) => l.idempotency_key)).toEqual(['k1', 'k2']);
  expect(logged).toHaveLength(2);
});

test('concurrent calls with the same key, from two notifier instances, write one line', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  const a = notifier(inbox).notify;
  const b = notifier(inbox).notify;
  const receipts = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b)(local, message, 'same-key')));
  expect(receipts.filter((r) => !r.duplicate)).toHaveLength(1);
  expect(await readInboxLines(inbox)).toHaveLength(1);
  expect(fs.readFileSync(inbox, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
});

test('a lock held by another process makes the call wait, then give up with a retryable error', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  fs.writeFileSync(`${inbox}.lock`, '999999');
  const { notify } = notifier(inbox, { lockTimeoutMs: 150 });
  const err = await notify(local, message, 'k').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NotifyError);
  expect((err as NotifyError).retryable).toBe(true);
  expect(fs.existsSync(inbox)).toBe(false);
});

test('a stale lock left by a crashed process is broken', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  fs.writeFileSync(`${inbox}.lock`, '999999');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(`${inbox}.lock`, old, old);
  const { notify } = notifier(inbox);
  await notify(local, message, 'k');
  expect(await readInboxLines(inbox)).toHaveLength(1);
  expect(fs.existsSync(`${inbox}.lock`)).toBe(false);
});

test('a line cut short by a crash does not swallow the next one', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  fs.writeFileSync(inbox, '{"idempotency_key":"half-writ');
  const { notify } = notifier(inbox);
  await notify(local, message, 'k');
  expect((await readInboxLines(inbox)).map((l) => l.idempotency_key)).toEqual(['k']);
});

test('an inbox that cannot be written is a non-retryable error naming the setting', async () => {
  const inbox = path.join(dir, 'a-directory');
  fs.mkdirSync(inbox);
  const { notify } = notifier(inbox);
  const err = (await notify(local, message, 'k').catch((e: unknown) => e)) as NotifyError;
  expect(err).toBeInstanceOf(NotifyError);
  expect(err.retryable).toBe(false);
  expect(err.message).toContain('CODEX_BRIDGE_LOCAL_INBOX');
});

test('secrets are redacted even in a message built elsewhere', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  const { notify } = notifier(inbox);
  await notify(local, { ...message, text: 'key sk-abcdefghijklmnopqrstuvwxyz' }, 'k');
  expect(fs.readFileSync(inbox, 'utf8')).not.toContain('sk-abcdefghijklmnopqrstuvwxyz');
});
