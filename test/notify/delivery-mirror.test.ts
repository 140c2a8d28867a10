// What the delivery activity mirrors: sent only after the channel confirmed; pending only when it
// could be seen — a slow first attempt, a failed one, or any retry.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { DeliverNotificationResult } from '../../activities/notify/deliver-notification';
import { NotifyError, type Notifier } from '../../activities/notify/notifier';
import type { TaskDocument } from '../../src/contract/task';
import { taskFixture } from '../support/task-fixture';
import { completionView } from './support/views';

const pendingTask = taskFixture('mirror-task', {
  status: 'completed',
  notification_status: 'pending',
  version: 5,
});

function setup(notifier: Notifier) {
  const written: Pick<TaskDocument, 'notification_status' | 'version'>[] = [];
  const activities = createActivities({
    runCodexTurn: () => Promise.reject(new Error('not used')),
    notifier,
    store: {
      applyMirror: async (doc) => {
        written.push({ notification_status: doc.notification_status, version: doc.version });
        return 'applied';
      },
    },
  });
  const run = (attempt: number) =>
    new MockActivityEnvironment({ attempt } as Partial<Info>, { logger: new DefaultLogger('ERROR') }).run(
      activities.deliverNotification,
      { target: 'local', idempotencyKey: 'k', view: completionView(), mirror: pendingTask },
    );
  return { written, run };
}

const receipt = {
  channel: 'local' as const,
  deliveredAt: '2026-01-01T00:01:00.000Z',
  messageId: null,
  duplicate: false,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a quick first attempt mirrors only the sent task', async () => {
  const { written, run } = setup(async () => receipt);
  const result = (await run(1)) as DeliverNotificationResult;
  expect(written).toEqual([{ notification_status: 'sent', version: 6 }]);
  expect(result.mirroredVersion).toBe(6);
});

test('a first attempt slower than a second shows pending while it runs, then sent', async () => {
  const { written, run } = setup(async () => (await sleep(1300), receipt));
  await run(1);
  expect(written).toEqual([
    { notification_status: 'pending', version: 5 },
    { notification_status: 'sent', version: 6 },
  ]);
});

test('a failed first attempt shows pending before the retry; a retry shows it at once', async () => {
  const failing = setup(async () => {
    throw new NotifyError('the chat API answered 503', true);
  });
  await expect(failing.run(1)).rejects.toThrow(/503/);
  expect(failing.written).toEqual([{ notification_status: 'pending', version: 5 }]);

  const retried = setup(async () => receipt);
  await retried.run(2);
  expect(retried.written).toEqual([
    { notification_status: 'pending', version: 5 },
    { notification_status: 'sent', version: 7 },
  ]);
});
