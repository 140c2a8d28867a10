import { ApplicationFailure } from '@temporalio/common';
import {
  NOTIFICATION_DEFERRED,
  NOTIFICATION_REJECTED,
  toDeliveryFailure,
} from '../../activities/notify/delivery-errors';
import { NOTIFY_NON_RETRYABLE_TYPES } from '../../src/contract/failure-types';
import { NotifyError } from '../../activities/notify/notifier';

test('a permanent error becomes a non-retryable NotificationRejected carrying the advice', () => {
  const f = toDeliveryFailure(
    new NotifyError('The Feishu bot is not in chat oc_x: add the bot to the chat (code 230002).', false),
    { attempt: 2 },
  );
  expect(f).toBeInstanceOf(ApplicationFailure);
  expect(f.type).toBe(NOTIFICATION_REJECTED);
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toBe('The Feishu bot is not in chat oc_x: add the bot to the chat (code 230002).');
  expect(f.details).toEqual([{ attempt: 2, retryAfterMs: null, nextGeneration: null }]);
  expect(NOTIFY_NON_RETRYABLE_TYPES).toEqual([NOTIFICATION_REJECTED]);
});

test('a rate limit becomes a retryable NotificationDeferred with nextRetryDelay = the reset', () => {
  const f = toDeliveryFailure(new NotifyError('rate limited', true, 7000));
  expect(f.type).toBe(NOTIFICATION_DEFERRED);
  expect(f.nonRetryable).toBe(false);
  expect(f.nextRetryDelay).toBe(7000);
  expect(NOTIFY_NON_RETRYABLE_TYPES).not.toContain(f.type);
});

test('a plain transient error leaves the delay to the retry policy and carries the next generation', () => {
  const f = toDeliveryFailure(new NotifyError('502', true, null, 1));
  expect(f.nextRetryDelay).toBeUndefined();
  expect(f.details).toEqual([{ retryAfterMs: null, nextGeneration: 1 }]);
});

test('an unexpected error is retried rather than losing the notification; ApplicationFailures pass through', () => {
  const f = toDeliveryFailure(new TypeError('boom'));
  expect(f.type).toBe(NOTIFICATION_DEFERRED);
  expect(f.nonRetryable).toBe(false);
  expect(f.message).toContain('boom');
  const given = ApplicationFailure.nonRetryable('x', 'Other');
  expect(toDeliveryFailure(given)).toBe(given);
});
