// The workflow's retry policies list non-retryable types from src/domain (workflow code may not
// import activity code); the activities define which errors they throw. They must agree.
import { NON_RETRYABLE_CODEX_ERROR_TYPES } from '../../activities/codex/errors';
import { NON_RETRYABLE_NOTIFICATION_TYPES } from '../../activities/notify/delivery-errors';
import { CODEX_NON_RETRYABLE_TYPES, NOTIFY_NON_RETRYABLE_TYPES } from '../../src/domain/failure-types';

test('every non-retryable Codex error type is in the workflow retry policy', () => {
  expect([...CODEX_NON_RETRYABLE_TYPES]).toEqual(expect.arrayContaining([...NON_RETRYABLE_CODEX_ERROR_TYPES]));
});

test('the delivery retry policy stops on exactly the rejected type', () => {
  expect([...NOTIFY_NON_RETRYABLE_TYPES].sort()).toEqual([...NON_RETRYABLE_NOTIFICATION_TYPES].sort());
});
