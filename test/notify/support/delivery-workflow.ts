// A minimal workflow around the delivery activity, to test retries the way Temporal really runs
// them (attempt numbers, heartbeat details across attempts, nextRetryDelay, non-retryable types).
import { proxyActivities } from '@temporalio/workflow';
import type {
  DeliverNotificationInput,
  DeliverNotificationResult,
} from '../../../activities/notify/deliver-notification';
import { NOTIFY_NON_RETRYABLE_TYPES } from '../../../src/contract/failure-types';

const { deliverNotification } = proxyActivities<{
  deliverNotification(input: DeliverNotificationInput): Promise<DeliverNotificationResult>;
}>({
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '50ms',
    backoffCoefficient: 1,
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NOTIFY_NON_RETRYABLE_TYPES],
  },
});

export async function deliveryWorkflow(input: DeliverNotificationInput): Promise<DeliverNotificationResult> {
  return deliverNotification(input);
}
